"""Participation: staff lists, invitations, reminders, mail queue, schedules

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_staff_members_known_language')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_staff_members_email_lower_case')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_staff_members_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_members')),
    sa.UniqueConstraint('unit_id', 'email', name=op.f('uq_staff_members_unit_id_email'))
    )
    op.create_index(op.f('ix_staff_members_unit_id'), 'staff_members', ['unit_id'], unique=False)

    op.create_table('wave_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('every_months', sa.Integer(), nullable=False),
    sa.Column('open_days', sa.Integer(), nullable=False),
    sa.Column('next_opens_on', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_wave_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('every_months BETWEEN 1 AND 24', name=op.f('ck_wave_schedules_sensible_interval')),
    sa.CheckConstraint('open_days BETWEEN 1 AND 366', name=op.f('ck_wave_schedules_sensible_length')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_wave_schedules_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['last_wave_id'], ['waves.id'], name=op.f('fk_wave_schedules_last_wave_id_waves'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wave_schedules'))
    )
    op.create_index(op.f('ix_wave_schedules_last_wave_id'), 'wave_schedules', ['last_wave_id'], unique=False)
    op.create_table('outgoing_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('invitation', 'reminder', 'results_ready', 'schedule', name='kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('unsubscribe_url', sa.String(length=500), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'failed', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_outgoing_mails_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_mails')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outgoing_mails_message_id'))
    )
    op.create_index(op.f('ix_outgoing_mails_status'), 'outgoing_mails', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_outgoing_mails_wave_id'), 'outgoing_mails', ['wave_id'], unique=False)

    op.create_table('wave_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('after_days', 'last_day', name='kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('sent', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_wave_reminders_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wave_reminders')),
    sa.UniqueConstraint('wave_id', 'planned_on', 'kind', name=op.f('uq_wave_reminders_wave_id_planned_on_kind'))
    )
    op.create_index(op.f('ix_wave_reminders_wave_id'), 'wave_reminders', ['wave_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_team_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('reminders_sent', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_invitations_known_language')),
    sa.ForeignKeyConstraint(['wave_team_id'], ['wave_teams.id'], name=op.f('fk_invitations_wave_team_id_wave_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('wave_team_id', 'email', name=op.f('uq_invitations_wave_team_id_email'))
    )
    op.create_index(op.f('ix_invitations_wave_team_id'), 'invitations', ['wave_team_id'], unique=False)

    op.create_table('invitation_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_invitation_tokens_invitation_id_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_invitation_tokens_token_sha256'))
    )
    op.create_index(op.f('ix_invitation_tokens_invitation_id'), 'invitation_tokens', ['invitation_id'], unique=False)

    # Columns added in place, without a batch copy of accounts or waves (which other tables
    # refer to): nullable or with a server default.
    op.add_column('accounts', sa.Column('notify_results', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('waves', sa.Column('invitations', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('waves', sa.Column('reminder_days', sa.JSON(), nullable=True))
    op.add_column('waves', sa.Column('last_day_reminder', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('waves', sa.Column('results_announced_on', sa.Date(), nullable=True))



def downgrade():
    # Not in batch mode: a batch copy of waves or accounts would cascade to every table that
    # refers to them (SQLite drops columns in place since 3.35).
    for column in ('results_announced_on', 'last_day_reminder', 'reminder_days', 'invitations'):
        op.drop_column('waves', column)
    op.drop_column('accounts', 'notify_results')

    op.drop_index(op.f('ix_invitation_tokens_invitation_id'), table_name='invitation_tokens')
    op.drop_table('invitation_tokens')
    op.drop_index(op.f('ix_invitations_wave_team_id'), table_name='invitations')
    op.drop_table('invitations')
    op.drop_index(op.f('ix_wave_reminders_wave_id'), table_name='wave_reminders')
    op.drop_table('wave_reminders')
    op.drop_index(op.f('ix_outgoing_mails_wave_id'), table_name='outgoing_mails')
    op.drop_index(op.f('ix_outgoing_mails_status'), table_name='outgoing_mails')
    op.drop_table('outgoing_mails')
    op.drop_index(op.f('ix_wave_schedules_last_wave_id'), table_name='wave_schedules')
    op.drop_table('wave_schedules')
    op.drop_index(op.f('ix_staff_members_unit_id'), table_name='staff_members')
    op.drop_table('staff_members')
