"""Administration: organisation settings, set-password links, retention

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 18:15:45

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('min_group_size', sa.Integer(), nullable=False),
    sa.Column('spread_threshold', sa.Integer(), nullable=False),
    sa.Column('comments_enabled', sa.Boolean(), nullable=False),
    sa.Column('team_first_days', sa.Integer(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('life_domains', sa.JSON(), nullable=True),
    sa.Column('retention_years', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_organisation_settings_single_row')),
    sa.CheckConstraint('min_group_size >= 3', name=op.f('ck_organisation_settings_min_group_size_at_least_3')),
    sa.CheckConstraint('retention_years IS NULL OR retention_years >= 1', name=op.f('ck_organisation_settings_retention_at_least_a_year')),
    sa.CheckConstraint('spread_threshold >= min_group_size', name=op.f('ck_organisation_settings_spread_not_below_k')),
    sa.CheckConstraint('team_first_days >= 0', name=op.f('ck_organisation_settings_team_first_days_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_settings'))
    )
    op.create_table('retained_scale_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('scale_code', sa.String(length=32), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('mean', sa.Float(), nullable=False),
    sa.Column('sd', sa.Float(), nullable=True),
    sa.CheckConstraint('n >= 3', name=op.f('ck_retained_scale_results_never_below_the_floor')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_retained_scale_results_unit_id_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_retained_scale_results_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retained_scale_results')),
    sa.UniqueConstraint('wave_id', 'unit_id', 'scale_code', name=op.f('uq_retained_scale_results_wave_id_unit_id_scale_code'))
    )
    # Plain ADD COLUMN and CREATE INDEX, never a batch copy: on SQLite a batch copy drops the
    # parent table and, with foreign keys on, cascades into scopes, teams and responses.
    op.add_column('accounts', sa.Column('password_token_sha256', sa.String(length=64), nullable=True))
    op.add_column('accounts', sa.Column('password_token_expires_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_accounts_password_token_sha256'), 'accounts', ['password_token_sha256'], unique=True)
    op.add_column('waves', sa.Column('purged_on', sa.Date(), nullable=True))


def downgrade():
    # SQLite (3.35+) drops a plain column in place, without copying the table.
    op.drop_column('waves', 'purged_on')
    op.drop_index(op.f('ix_accounts_password_token_sha256'), table_name='accounts')
    op.drop_column('accounts', 'password_token_expires_at')
    op.drop_column('accounts', 'password_token_sha256')

    op.drop_table('retained_scale_results')
    op.drop_table('organisation_settings')
