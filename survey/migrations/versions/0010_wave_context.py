"""A wave's context: the wording of the instrument it asks (e.g. youth care), or none

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column with no default: SQLite adds it in place, without a batch copy of waves
    # (which other tables refer to). Existing waves keep the default wording.
    op.add_column('waves', sa.Column('context', sa.String(length=32), nullable=True))


def downgrade():
    # Not in batch mode: a batch copy of waves would cascade to every table that refers to it
    # (SQLite drops columns in place since 3.35, as 0007's downgrade relies on).
    op.drop_column('waves', 'context')
