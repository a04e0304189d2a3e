"""Team results links and the day a wave closed (for the team-first period)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:30:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _foreign_keys(on):
    """SQLite's batch mode copies and drops wave_teams: with foreign keys on, dropping it would
    cascade to responses, answers, codes, actions and drafts. Off around the copy (the pragma
    only works outside a transaction)."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.get_context().autocommit_block():
            op.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def upgrade():
    _foreign_keys(False)
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))

    with op.batch_alter_table('wave_teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_slug', sa.String(length=64), nullable=True))

    # Every existing team gets its own unguessable results link before the column is required.
    wave_teams = sa.table('wave_teams', sa.column('id', sa.Integer), sa.column('results_slug', sa.String))
    connection = op.get_bind()
    for (wave_team_id,) in connection.execute(sa.select(wave_teams.c.id)).all():
        connection.execute(
            wave_teams.update()
            .where(wave_teams.c.id == wave_team_id)
            .values(results_slug=secrets.token_urlsafe(24))
        )

    with op.batch_alter_table('wave_teams', schema=None) as batch_op:
        batch_op.alter_column('results_slug', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_wave_teams_results_slug'), ['results_slug'])
    _foreign_keys(True)


def downgrade():
    _foreign_keys(False)
    with op.batch_alter_table('wave_teams', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_wave_teams_results_slug'), type_='unique')
        batch_op.drop_column('results_slug')

    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.drop_column('closed_on')
    _foreign_keys(True)
