"""Waves: a questionnaire version asked of a set of units during a period."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, timedelta
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, now_utc, str_enum
from survey.models.questionnaires import QuestionnaireVersion
from survey.models.units import Unit


class WaveStatus(enum.StrEnum):
    """What an administrator did with the wave (stored)."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class WaveState(enum.StrEnum):
    """Whether staff can answer on a given day (derived from the status and the period)."""

    OPEN = "open"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"


def new_link_slug() -> str:
    """An unguessable team link: 192 random bits."""
    return secrets.token_urlsafe(24)


#: The characters of a team's short code: digits and capitals without the look-alikes 0/O and
#: 1/I/L, and with only one of each pair people mix up when they copy a code (B/8, G/6, S/5,
#: V/U, Z/2), so the other can be read as it (``survey.services.short_links``). 26 characters.
SHORT_CODE_ALPHABET = "23456789ACDEFHJKMNPQRTUWXY"
#: 8 characters: 26**8, about 2.1e11 codes (37.6 bits; docs/anonymity.md, "Padding a team").
SHORT_CODE_LENGTH = 8


def new_short_code() -> str:
    """A random short code as stored: ``SHORT_CODE_LENGTH`` characters, no dash."""
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


wave_units = sa.Table(
    "wave_units",
    Base.metadata,
    sa.Column("wave_id", sa.ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True),
)


class Wave(Base):
    __tablename__ = "waves"
    __table_args__ = (sa.CheckConstraint("closes_on >= opens_on", name="closes_after_opening"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire_versions.id", ondelete="RESTRICT")
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    status: Mapped[WaveStatus] = mapped_column(
        str_enum(WaveStatus, "status"), default=WaveStatus.DRAFT
    )
    #: The day the wave was closed, when that was before ``closes_on``; starts the team-first
    #: period (``TEAM_FIRST_DAYS``), which otherwise runs from ``closes_on``.
    closed_on: Mapped[date | None]
    #: When set, the team links do not work and only single-use access codes let staff in.
    codes_only: Mapped[bool] = mapped_column(default=False)
    #: The day its responses were deleted under the retention setting; only the aggregates in
    #: ``retained_scale_results`` remain.
    purged_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    # The promise the wave was answered under (docs/anonymity.md, "A wave keeps its promise"):
    # recorded when it opens; its results never use a lower k, threshold or more comments than
    # these, whatever the settings say later. None on a draft (and on waves opened before 0007).
    #: k when the wave opened.
    min_group_size: Mapped[int | None]
    #: The spread threshold when the wave opened.
    spread_threshold: Mapped[int | None]
    #: Whether comments were to be shown when the wave opened.
    comments_enabled: Mapped[bool | None]
    #: The team-first period when the wave opened: management waits at least this long.
    team_first_days: Mapped[int | None]
    #: The life-domain item codes asked in this wave, frozen when it opened (all the
    #: instrument's domains when the organisation leaves none out); None before it opens.
    life_domains: Mapped[list[str] | None] = mapped_column(sa.JSON)
    #: Which of the two ways of looking at background answers this wave was used for first,
    #: "breakdown" (means per answer group) or "rows" (the response-level export); set once,
    #: never changed, so the two can never be joined (docs/anonymity.md).
    background_use: Mapped[str | None] = mapped_column(sa.String(16))
    #: The day its responses were last rewritten in random order under new ids.
    shuffled_on: Mapped[date | None]
    #: The context whose wording the wave asks the questionnaire in (e.g. "jeugdhulp", see
    #: ``Instrument.in_context``); None = the default wording. Chosen while a draft, then fixed.
    context: Mapped[str | None] = mapped_column(sa.String(32))
    #: Invitation mode: each address on the teams' staff lists gets a personal single-use link
    #: (``survey.models.participation``); the team links do not work, codes still do.
    invitations: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Reminders to unused invitations, this many days after the wave opened (e.g. [7, 12]).
    reminder_days: Mapped[list[int] | None] = mapped_column(sa.JSON)
    #: A last reminder on the wave's last day.
    last_day_reminder: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The day the managers who asked for it were told that the results are ready.
    results_announced_on: Mapped[date | None]
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    #: The units chosen for the wave; every team in or below them takes part (``teams``).
    units: Mapped[list[Unit]] = relationship(secondary=wave_units, order_by=Unit.name)
    #: In a fixed order (PostgreSQL returns rows in no particular order otherwise).
    teams: Mapped[list[WaveTeam]] = relationship(
        back_populates="wave", cascade="all, delete-orphan", order_by="WaveTeam.id"
    )

    def state(self, today: date | None = None) -> WaveState:
        """Whether staff can answer now: the wave is open and today lies in its period. A wave
        is CLOSED once an administrator closed it or its last day has passed."""
        today = today or date.today()
        if self.status is WaveStatus.CLOSED or today > self.closes_on:
            return WaveState.CLOSED
        if self.status is WaveStatus.DRAFT or today < self.opens_on:
            return WaveState.NOT_YET_OPEN
        return WaveState.OPEN


def management_release_date(wave: Wave, team_first_days: int) -> date:
    """The day from which management sees an ended wave's results (the team sees them first)."""
    return (wave.closed_on or wave.closes_on) + timedelta(days=team_first_days)


class WaveTeam(Base):
    """A team's part in a wave, with the team link its staff use to answer."""

    __tablename__ = "wave_teams"
    __table_args__ = (sa.UniqueConstraint("wave_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("waves.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    link_slug: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_link_slug)
    #: The team's read-only results link, separate from the answering link: it is shared only
    #: when the wave has closed and can be shared without opening the questionnaire.
    results_slug: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_link_slug)
    #: The answering link's short form for people who type it (``/t/ABCD-EFGH``): random, so
    #: unguessable only together with the throttle on failed guesses (survey.respond.short_links).
    short_code: Mapped[str] = mapped_column(
        sa.String(SHORT_CODE_LENGTH), unique=True, index=True, default=new_short_code
    )
    #: The team's expected number of staff: the response rate's denominator, and the most
    #: completed responses its team link accepts; unknown (no limit) when None.
    invited: Mapped[int | None]
    #: Submissions arriving close together (docs/anonymity.md, "Padding a team"): the current
    #: ten-minute bucket number and how many arrived in it, and the most ever in one bucket.
    #: Only ``peak_burst`` survives the wave's closing; no time is kept.
    burst_bucket: Mapped[int | None]
    burst_count: Mapped[int] = mapped_column(default=0, server_default="0")
    peak_burst: Mapped[int] = mapped_column(default=0, server_default="0")
    #: In invitation mode: how many of the team's invitations had been used when the daily run
    #: last counted them (``invitations remind``); the invitation page shows this, never the
    #: live number, so it moves once a day like the live counts (None until counted).
    invitations_used: Mapped[int | None]

    wave: Mapped[Wave] = relationship(back_populates="teams")
    unit: Mapped[Unit] = relationship()
    access_codes: Mapped[list[AccessCode]] = relationship(
        back_populates="wave_team", cascade="all, delete-orphan"
    )
    actions: Mapped[list[TeamAction]] = relationship(
        back_populates="wave_team", order_by="TeamAction.created_at", cascade="all, delete-orphan"
    )


class AccessCode(Base):
    """A single-use code; only its hash is kept, and nothing links it to the response it opened."""

    __tablename__ = "access_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_team_id: Mapped[int] = mapped_column(
        sa.ForeignKey("wave_teams.id", ondelete="CASCADE"), index=True
    )
    code_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    used: Mapped[bool] = mapped_column(default=False)

    wave_team: Mapped[WaveTeam] = relationship(back_populates="access_codes")


class ActionKind(enum.StrEnum):
    KEEP = "keep"
    TRY = "try"


class ActionStatus(enum.StrEnum):
    """How far the team got with an action; planned and under way are open (they carry over)."""

    PLANNED = "planned"
    UNDER_WAY = "under_way"
    DONE = "done"
    STOPPED = "stopped"

    @property
    def is_open(self) -> bool:
        return self in (ActionStatus.PLANNED, ActionStatus.UNDER_WAY)


class TeamAction(Base):
    """What a team agreed, after looking at a wave's results, to keep doing or to try: for
    which scale, who takes it up, when the team looks at it again and how far it got. The
    team writes it through its results link (it is the team's plan); managers read it."""

    __tablename__ = "team_actions"

    #: A team agrees on one to three actions per wave: few enough to actually do.
    MAX_PER_WAVE: ClassVar[int] = 3

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_team_id: Mapped[int] = mapped_column(
        sa.ForeignKey("wave_teams.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind, "kind"))
    description: Mapped[str] = mapped_column(sa.Text)
    #: A scale code of the wave's instrument (None for actions recorded before 0009).
    scale_code: Mapped[str | None] = mapped_column(sa.String(32))
    #: Who takes it up, as the team typed it: a role or a name, never an account.
    owner: Mapped[str | None] = mapped_column(sa.String(120))
    #: When the team looks at it again.
    review_on: Mapped[date | None]
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, "status"), default=ActionStatus.PLANNED, server_default="planned"
    )
    #: A short note on the status ("waiting for the training dates").
    status_note: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: The manager who recorded it, for actions recorded on the manager's page before 0009.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="SET NULL")
    )

    wave_team: Mapped[WaveTeam] = relationship(back_populates="actions")


class WaveTreeUnit(Base):
    """The unit tree as it stood when the wave ended, kept with the wave: its exports and
    comparisons group units by this, so reorganising afterwards changes nothing in them."""

    __tablename__ = "wave_tree_units"

    wave_id: Mapped[int] = mapped_column(
        sa.ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True
    )
    #: The unit's id (units are archived, never deleted, so it stays meaningful).
    unit_id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(80))
