"""The initial schema: units, questionnaires, waves, responses, accounts, audit log

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 13:24:45.935965

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'quality', 'manager', name=op.f('ck_accounts_role'), native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_accounts_email_lower_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email')),
    sa.UniqueConstraint('session_token', name=op.f('uq_accounts_session_token'))
    )
    op.create_table('questionnaires',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaires')),
    sa.UniqueConstraint('key', name=op.f('uq_questionnaires_key'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('organisation', 'department', 'team', name=op.f('ck_units_kind'), native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('archived_on', sa.Date(), nullable=True),
    sa.CheckConstraint("(kind = 'organisation') = (parent_id IS NULL)", name=op.f('ck_units_only_organisations_are_roots')),
    sa.CheckConstraint("slug <> ''", name=op.f('ck_units_slug_not_empty')),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('slug', name=op.f('uq_units_slug'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_audit_events_account_id_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)

    op.create_table('manager_scopes',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_manager_scopes_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_manager_scopes_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'unit_id', name=op.f('pk_manager_scopes'))
    )
    op.create_table('questionnaire_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_questionnaire_versions_revision_positive')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_questionnaire_versions_questionnaire_id_questionnaires'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_versions')),
    sa.UniqueConstraint('questionnaire_id', 'content_sha256', name=op.f('uq_questionnaire_versions_questionnaire_id_content_sha256')),
    sa.UniqueConstraint('questionnaire_id', 'version', 'revision', name=op.f('uq_questionnaire_versions_questionnaire_id_version_revision'))
    )
    op.create_table('scales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('scored', sa.Boolean(), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['questionnaire_versions.id'], name=op.f('fk_scales_version_id_questionnaire_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scales')),
    sa.UniqueConstraint('version_id', 'code', name=op.f('uq_scales_version_id_code'))
    )
    op.create_table('waves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'open', 'closed', name=op.f('ck_waves_status'), native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('codes_only', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('closes_on >= opens_on', name=op.f('ck_waves_closes_after_opening')),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_versions.id'], name=op.f('fk_waves_questionnaire_version_id_questionnaire_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waves'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('scale_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('item_type', sa.String(length=32), nullable=False),
    sa.Column('text', sa.JSON(), nullable=False),
    sa.Column('reverse', sa.Boolean(), nullable=False),
    sa.Column('dont_know', sa.Boolean(), nullable=False),
    sa.Column('background', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['scale_id'], ['scales.id'], name=op.f('fk_items_scale_id_scales'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['questionnaire_versions.id'], name=op.f('fk_items_version_id_questionnaire_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('version_id', 'code', name=op.f('uq_items_version_id_code'))
    )
    op.create_table('wave_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('link_slug', sa.String(length=64), nullable=False),
    sa.Column('invited', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_wave_teams_unit_id_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_wave_teams_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wave_teams')),
    sa.UniqueConstraint('link_slug', name=op.f('uq_wave_teams_link_slug')),
    sa.UniqueConstraint('wave_id', 'unit_id', name=op.f('uq_wave_teams_wave_id_unit_id'))
    )
    with op.batch_alter_table('wave_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wave_teams_unit_id'), ['unit_id'], unique=False)

    op.create_table('wave_units',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_wave_units_unit_id_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_wave_units_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('wave_id', 'unit_id', name=op.f('pk_wave_units'))
    )
    op.create_table('access_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_team_id', sa.Integer(), nullable=False),
    sa.Column('code_sha256', sa.String(length=64), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['wave_team_id'], ['wave_teams.id'], name=op.f('fk_access_codes_wave_team_id_wave_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_codes')),
    sa.UniqueConstraint('code_sha256', name=op.f('uq_access_codes_code_sha256'))
    )
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_codes_wave_team_id'), ['wave_team_id'], unique=False)

    op.create_table('responses',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_responses_known_language')),
    sa.ForeignKeyConstraint(['wave_id', 'unit_id'], ['wave_teams.wave_id', 'wave_teams.unit_id'], name=op.f('fk_responses_wave_id_unit_id_wave_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responses_wave_id'), ['wave_id', 'unit_id'], unique=False)

    op.create_table('team_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_team_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('keep', 'try', name=op.f('ck_team_actions_kind'), native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_team_actions_created_by_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wave_team_id'], ['wave_teams.id'], name=op.f('fk_team_actions_wave_team_id_wave_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_actions'))
    )
    with op.batch_alter_table('team_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_actions_wave_team_id'), ['wave_team_id'], unique=False)

    op.create_table('answers',
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('item_code', sa.String(length=32), nullable=False),
    sa.Column('grid_row', sa.String(length=32), nullable=False),
    sa.Column('grid_column', sa.String(length=32), nullable=False),
    sa.Column('value', sa.SmallInteger(), nullable=True),
    sa.Column('dont_know', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.CheckConstraint("(CASE WHEN value IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN dont_know THEN 1 ELSE 0 END) + (CASE WHEN text IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN grid_row <> '' THEN 1 ELSE 0 END) = 1", name=op.f('ck_answers_exactly_one_kind')),
    sa.CheckConstraint("(grid_row = '') = (grid_column = '')", name=op.f('ck_answers_whole_grid_cell')),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_answers_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'item_code', 'grid_row', 'grid_column', name=op.f('pk_answers'))
    )


def downgrade():
    op.drop_table('answers')
    with op.batch_alter_table('team_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_actions_wave_team_id'))

    op.drop_table('team_actions')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responses_wave_id'))

    op.drop_table('responses')
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_codes_wave_team_id'))

    op.drop_table('access_codes')
    op.drop_table('wave_units')
    with op.batch_alter_table('wave_teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wave_teams_unit_id'))

    op.drop_table('wave_teams')
    op.drop_table('items')
    op.drop_table('waves')
    op.drop_table('scales')
    op.drop_table('questionnaire_versions')
    op.drop_table('manager_scopes')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))

    op.drop_table('units')
    op.drop_table('questionnaires')
    op.drop_table('accounts')
