"""Anonymity against an insider: a wave's promise, its frozen tree, expected staff, order at rest

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN and CREATE TABLE, never a batch copy (see 0006).
    op.add_column('waves', sa.Column('min_group_size', sa.Integer(), nullable=True))
    op.add_column('waves', sa.Column('spread_threshold', sa.Integer(), nullable=True))
    op.add_column('waves', sa.Column('comments_enabled', sa.Boolean(), nullable=True))
    op.add_column('waves', sa.Column('team_first_days', sa.Integer(), nullable=True))
    op.add_column('waves', sa.Column('life_domains', sa.JSON(), nullable=True))
    op.add_column('waves', sa.Column('background_use', sa.String(length=16), nullable=True))
    op.add_column('waves', sa.Column('shuffled_on', sa.Date(), nullable=True))
    op.add_column('wave_teams', sa.Column('burst_bucket', sa.Integer(), nullable=True))
    op.add_column('wave_teams', sa.Column('burst_count', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('wave_teams', sa.Column('peak_burst', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('units', sa.Column('staff', sa.Integer(), nullable=True))
    op.create_table('wave_tree_units',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_wave_tree_units_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('wave_id', 'unit_id', name=op.f('pk_wave_tree_units'))
    )
    # Waves answered before this revision were answered under the settings of the day, which
    # are unknown now: they keep whatever the settings say (a NULL promise), as before.


def downgrade():
    op.drop_table('wave_tree_units')
    op.drop_column('units', 'staff')
    op.drop_column('wave_teams', 'peak_burst')
    op.drop_column('wave_teams', 'burst_count')
    op.drop_column('wave_teams', 'burst_bucket')
    op.drop_column('waves', 'shuffled_on')
    op.drop_column('waves', 'background_use')
    op.drop_column('waves', 'life_domains')
    op.drop_column('waves', 'team_first_days')
    op.drop_column('waves', 'comments_enabled')
    op.drop_column('waves', 'spread_threshold')
    op.drop_column('waves', 'min_group_size')
