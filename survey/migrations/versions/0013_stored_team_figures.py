"""An ended wave's team figures, counted once and kept (the results page reads them)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Waves that ended before this revision are counted by the next daily run
    # (`flask anonymity shuffle`); until then their pages count live, as before.
    op.create_table('stored_team_figures',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('instrument_sha256', sa.String(length=64), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['wave_id', 'unit_id'], ['wave_teams.wave_id', 'wave_teams.unit_id'], name=op.f('fk_stored_team_figures_wave_id_unit_id_wave_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('wave_id', 'unit_id', name=op.f('pk_stored_team_figures'))
    )


def downgrade():
    op.drop_table('stored_team_figures')
