"""The used invitations per team as the daily run counted them (the invitation page's figure)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: SQLite adds it in place, without a batch copy of wave_teams (which
    # responses and drafts refer to).
    op.add_column('wave_teams', sa.Column('invitations_used', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('wave_teams', 'invitations_used')
