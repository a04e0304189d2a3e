"""Drafts: a respondent's unfinished answers, until submission or the wave's end

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:53:39.024171

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('drafts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('resume_code_sha256', sa.String(length=64), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['wave_id', 'unit_id'], ['wave_teams.wave_id', 'wave_teams.unit_id'], name=op.f('fk_drafts_wave_id_unit_id_wave_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drafts')),
    sa.UniqueConstraint('resume_code_sha256', name=op.f('uq_drafts_resume_code_sha256'))
    )
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drafts_expires_on'), ['expires_on'], unique=False)



def downgrade():
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drafts_expires_on'))

    op.drop_table('drafts')
