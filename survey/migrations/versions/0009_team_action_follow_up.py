"""Actions that are followed up: scale, owner, review date, status with a note, last change

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

STATUSES = ('planned', 'under_way', 'done', 'stopped')


def upgrade():
    # team_actions is a leaf (no table refers to it), so SQLite's batch copy cascades nowhere;
    # it is what gives SQLite the status column's CHECK constraint.
    with op.batch_alter_table('team_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scale_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('owner', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('review_on', sa.Date(), nullable=True))
        # Existing actions are planned.
        batch_op.add_column(
            sa.Column(
                'status',
                sa.Enum(*STATUSES, name=op.f('ck_team_actions_status'), native_enum=False, create_constraint=True, length=20),
                nullable=False,
                server_default='planned',
            )
        )
        batch_op.add_column(sa.Column('status_note', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('team_actions', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('status_note')
        batch_op.drop_constraint(batch_op.f('ck_team_actions_status'), type_='check')
        batch_op.drop_column('status')
        batch_op.drop_column('review_on')
        batch_op.drop_column('owner')
        batch_op.drop_column('scale_code')
