"""What is kept of a wave after its response-level data were deleted under the retention
setting: per team and scored scale, the count, mean and standard deviation, and only for teams
that met the minimum group size at the time of deletion."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base


class RetainedScaleResult(Base):
    __tablename__ = "retained_scale_results"
    __table_args__ = (
        sa.UniqueConstraint("wave_id", "unit_id", "scale_code"),
        sa.CheckConstraint("n >= 3", name="never_below_the_floor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("waves.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"))
    scale_code: Mapped[str] = mapped_column(sa.String(32))
    n: Mapped[int]
    mean: Mapped[float] = mapped_column(sa.Float)
    sd: Mapped[float | None] = mapped_column(sa.Float)
