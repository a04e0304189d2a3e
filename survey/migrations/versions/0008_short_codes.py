"""Short codes of the team links (/t/ABCD-EFGH), for people who type the link

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:45:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# As survey.models.waves has them today (a migration keeps its own copy).
ALPHABET = "23456789ACDEFHJKMNPQRTUWXY"
LENGTH = 8


def upgrade():
    # Plain ADD COLUMN and CREATE INDEX, never a batch copy (see 0006). SQLite adds a NOT NULL
    # column only with a default: '' until every existing team has its own code.
    op.add_column(
        'wave_teams',
        sa.Column('short_code', sa.String(length=LENGTH), nullable=False, server_default=''),
    )
    wave_teams = sa.table('wave_teams', sa.column('id', sa.Integer), sa.column('short_code', sa.String))
    connection = op.get_bind()
    taken = set()
    for (wave_team_id,) in connection.execute(sa.select(wave_teams.c.id).order_by(wave_teams.c.id)).all():
        code = ''
        while not code or code in taken:
            code = ''.join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        taken.add(code)
        connection.execute(
            wave_teams.update().where(wave_teams.c.id == wave_team_id).values(short_code=code)
        )
    op.create_index(op.f('ix_wave_teams_short_code'), 'wave_teams', ['short_code'], unique=True)
    if connection.dialect.name != 'sqlite':
        # The application always gives a code; SQLite keeps the harmless default (dropping it
        # there would need a batch copy).
        op.alter_column('wave_teams', 'short_code', server_default=None)


def downgrade():
    # SQLite (3.35+) drops a plain column in place, without copying the table.
    op.drop_index(op.f('ix_wave_teams_short_code'), table_name='wave_teams')
    op.drop_column('wave_teams', 'short_code')
