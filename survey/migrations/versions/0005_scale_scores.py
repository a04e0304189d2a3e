"""Scale scores stored as responses arrive, so comparisons sum scores instead of every answer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 17:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

#: The scores of the responses already stored, by the rule of reports.scores (mean of the
#: answered items, reverse-coded as 6 − value, when at least 75% of the scale is answered).
BACKFILL = """
INSERT INTO scale_scores (response_id, scale_code, score)
SELECT answers.response_id, scales.code,
       CAST(SUM(CASE WHEN items.reverse THEN 6 - answers.value ELSE answers.value END) AS FLOAT)
       / COUNT(*)
FROM answers
JOIN responses ON answers.response_id = responses.id
JOIN waves ON waves.id = responses.wave_id
JOIN items ON items.version_id = waves.questionnaire_version_id AND items.code = answers.item_code
JOIN scales ON scales.id = items.scale_id AND scales.scored
JOIN (SELECT scales.id AS scale_id, COUNT(items.id) AS item_count
      FROM scales JOIN items ON items.scale_id = scales.id
      WHERE scales.scored GROUP BY scales.id) AS sizes ON sizes.scale_id = scales.id
WHERE answers.value IS NOT NULL
GROUP BY answers.response_id, scales.code, sizes.item_count
HAVING COUNT(*) >= 0.75 * sizes.item_count
"""


def upgrade():
    op.create_table('scale_scores',
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('scale_code', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_scale_scores_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'scale_code', name=op.f('pk_scale_scores'))
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_table('scale_scores')
