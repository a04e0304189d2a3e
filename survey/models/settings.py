"""The organisation's settings, edited by administrators in the browser.

One row for the installation (Krachtspiegel serves one organisation per installation; a demo
organisation beside it follows the same settings). Until an administrator saves the settings
page the values come from the environment (``survey/config.py``), so an installation run by
configuration alone keeps working.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base, now_utc


class OrganisationSettings(Base):
    __tablename__ = "organisation_settings"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("min_group_size >= 3", name="min_group_size_at_least_3"),
        sa.CheckConstraint("spread_threshold >= min_group_size", name="spread_not_below_k"),
        sa.CheckConstraint("team_first_days >= 0", name="team_first_days_not_negative"),
        sa.CheckConstraint(
            "retention_years IS NULL OR retention_years >= 1", name="retention_at_least_a_year"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    #: k: no figure, chart, comment or export row describes fewer respondents than this.
    min_group_size: Mapped[int]
    #: Spread, agreement and answer distributions need at least this many answers (≥ k).
    spread_threshold: Mapped[int]
    comments_enabled: Mapped[bool]
    #: Days after a wave ends during which only the team sees its results.
    team_first_days: Mapped[int]
    #: The languages offered to respondents and readers, e.g. ``["nl", "en"]``.
    languages: Mapped[list[str]] = mapped_column(sa.JSON)
    #: Item codes of the life domains this organisation asks about; None means every domain.
    life_domains: Mapped[list[str] | None] = mapped_column(sa.JSON)
    #: Years after a wave ended that its response-level data are kept; None keeps them.
    retention_years: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=now_utc, onupdate=now_utc
    )
