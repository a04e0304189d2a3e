"""The life of a wave: create it as a draft, open it, extend it, close it, edit what may change.

A wave moves one way only: draft → open → closed. ``Wave.state()`` (survey.models.waves)
then decides from the status and the dates whether staff can answer today: an open wave whose
opening day lies ahead waits until then, and one whose closing day has passed takes no answers.

What may be edited depends on the status (``editable_fields``):

- a draft: everything (its name, dates, codes-only setting and the expected staff per team);
- an open wave: only its name and the expected staff per team. Its dates move only through
  ``extend_wave`` (a later closing day) or ``close_wave`` (now), and the codes-only setting
  stays as it was, since staff already hold the links or codes it was announced with;
- a closed wave: only its name. Its expected staff are what its participation and the flags
  at closing were measured against (``closing_flags``), so they stay as they were.

Each team's expected number of staff (``WaveTeam.invited``) starts as the unit's ``staff``;
the team link accepts no more completed questionnaires than that (docs/anonymity.md, "Padding
a team").

Every verb flushes and records an audit event; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from survey import anonymity
from survey.anonymity import Policy, Reason, Verdict, gate_group
from survey.extensions import db
from survey.models import (
    AccessCode,
    Account,
    QuestionnaireVersion,
    Response,
    Unit,
    Wave,
    WaveState,
    WaveStatus,
    WaveTeam,
)
from survey.services import audit
from survey.services.questionnaires import instrument_of
from survey.services.settings import record_promise, wave_policy
from survey.services.shuffle import shuffle_wave
from survey.services.wave_tree import freeze_tree

#: The fields an administrator may change in each status (see the module docstring).
EDITABLE_FIELDS: dict[WaveStatus, frozenset[str]] = {
    WaveStatus.DRAFT: frozenset({"name", "opens_on", "closes_on", "codes_only", "invited"}),
    WaveStatus.OPEN: frozenset({"name", "invited"}),
    WaveStatus.CLOSED: frozenset({"name"}),
}


class WaveConflict(Exception):
    """The wave's status does not allow this (answered with 409); the message says why."""


class WaveInputError(ValueError):
    """A value is not acceptable (answered with 422); ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def editable_fields(wave: Wave) -> frozenset[str]:
    return EDITABLE_FIELDS[wave.status]


# --- Units and teams --------------------------------------------------------------------------


def active_units() -> list[Unit]:
    """Every unit that is not archived and has no archived unit above it, tree order not implied."""
    units = db.session.scalars(sa.select(Unit).order_by(Unit.name, Unit.slug)).all()
    by_id = {unit.id: unit for unit in units}
    active: dict[int, bool] = {}

    def is_active(unit: Unit) -> bool:
        if unit.id not in active:
            parent = by_id.get(unit.parent_id) if unit.parent_id is not None else None
            active[unit.id] = unit.archived_on is None and (parent is None or is_active(parent))
        return active[unit.id]

    return [unit for unit in units if is_active(unit)]


def active_unit_children() -> dict[int | None, list[Unit]]:
    """The active units by parent id (None for the tops), each list by name: a checkbox tree."""
    units = active_units()
    ids = {unit.id for unit in units}
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    return children


def teams_in(units: Iterable[Unit]) -> list[Unit]:
    """The active teams in or below ``units``: archived ones (or below archived ones) never."""
    active = active_units()
    children: dict[int, list[Unit]] = {}
    for unit in active:
        if unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append(unit)
    active_ids = {unit.id for unit in active}
    found: dict[int, Unit] = {}
    stack = [unit for unit in units if unit.id in active_ids]
    while stack:
        unit = stack.pop()
        if unit.is_team:
            found[unit.id] = unit
        stack.extend(children.get(unit.id, []))
    return sorted(found.values(), key=lambda team: (team.name, team.slug))


def wave_teams(wave: Wave) -> list[WaveTeam]:
    """The wave's teams by name."""
    return list(
        db.session.scalars(
            sa.select(WaveTeam)
            .join(Unit, WaveTeam.unit_id == Unit.id)
            .where(WaveTeam.wave_id == wave.id)
            .order_by(Unit.name, Unit.slug)
        )
    )


def questionnaire_versions() -> list[QuestionnaireVersion]:
    """Every stored version, the latest loaded first."""
    return list(
        db.session.scalars(
            sa.select(QuestionnaireVersion).order_by(
                QuestionnaireVersion.loaded_at.desc(), QuestionnaireVersion.id.desc()
            )
        )
    )


def team_counts() -> dict[int, int]:
    """Wave id → number of teams taking part."""
    query = sa.select(WaveTeam.wave_id, sa.func.count()).group_by(WaveTeam.wave_id)
    return dict(db.session.execute(query).all())


# --- The verbs --------------------------------------------------------------------------------


def _check_period(opens_on: date, closes_on: date, today: date) -> None:
    if closes_on < opens_on:
        raise WaveInputError("closes_on", _("The closing date cannot be before the opening date."))
    if closes_on < today:
        raise WaveInputError("closes_on", _("The closing date has already passed."))


def create_wave(
    *,
    name: str,
    version: QuestionnaireVersion,
    units: list[Unit],
    opens_on: date,
    closes_on: date,
    codes_only: bool,
    actor: Account | None,
    today: date | None = None,
) -> Wave:
    """A draft wave asking ``version`` of every active team in or below ``units``."""
    today = today or date.today()
    name = name.strip()
    if not name:
        raise WaveInputError("name", _("Give the wave a name."))
    _check_period(opens_on, closes_on, today)
    teams = teams_in(units)
    if not teams:
        raise WaveInputError("units", _("No active team is in or below the chosen units."))
    wave = Wave(
        questionnaire_version=version,
        name=name,
        opens_on=opens_on,
        closes_on=closes_on,
        status=WaveStatus.DRAFT,
        codes_only=codes_only,
        units=sorted(set(units), key=lambda unit: unit.id),
    )
    # Each team's expected staff starts as its usual number (the units page or import).
    wave.teams = [WaveTeam(unit=team, invited=team.staff) for team in teams]
    db.session.add(wave)
    db.session.flush()
    audit.record(
        actor,
        "wave.create",
        _target(wave),
        version=version.label,
        units=[unit.slug for unit in wave.units],
        teams=len(teams),
        opens_on=opens_on.isoformat(),
        closes_on=closes_on.isoformat(),
        codes_only=codes_only,
    )
    return wave


def open_wave(wave: Wave, actor: Account | None, today: date | None = None) -> WaveState:
    """Draft → open. Staff can answer from ``opens_on`` on; returns the state it is in now."""
    today = today or date.today()
    if wave.status is not WaveStatus.DRAFT:
        raise WaveConflict(
            _(
                "Only a draft wave can be opened; this wave is already %(status)s.",
                status=status_label(wave.status),
            )
        )
    if wave.closes_on < today:
        raise WaveConflict(
            _("The closing date of this wave has passed: change its dates before opening it.")
        )
    if not wave.teams:
        raise WaveConflict(_("No team takes part in this wave, so it cannot be opened."))
    wave.status = WaveStatus.OPEN
    record_promise(wave, instrument_of(wave))
    db.session.flush()
    state = wave.state(today)
    audit.record(actor, "wave.open", _target(wave), state=state.value)
    return state


def extend_wave(
    wave: Wave, closes_on: date, actor: Account | None, today: date | None = None
) -> None:
    """Move an open wave's closing day later, while it is still running or waiting to start.

    A wave whose period has ended is not reopened: its results may already have been seen, and
    comparing them before and after one more answer would show that person's answers.
    """
    today = today or date.today()
    check_extendable(wave, today)
    if closes_on <= wave.closes_on:
        raise WaveInputError(
            "closes_on", _("The new closing date must be later than the current one.")
        )
    if closes_on < today:
        raise WaveInputError("closes_on", _("The closing date has already passed."))
    previous = wave.closes_on
    wave.closes_on = closes_on
    db.session.flush()
    audit.record(
        actor,
        "wave.extend",
        _target(wave),
        closes_on=closes_on.isoformat(),
        previous=previous.isoformat(),
    )


def check_extendable(wave: Wave, today: date | None = None) -> None:
    """Raise ``WaveConflict`` unless the wave is open and its period has not ended."""
    if wave.status is WaveStatus.DRAFT:
        raise WaveConflict(_("A draft wave is not extended: change its dates instead."))
    if wave.status is WaveStatus.CLOSED:
        raise WaveConflict(_("This wave is closed; it cannot be extended."))
    if wave.state(today or date.today()) is WaveState.CLOSED:
        raise WaveConflict(
            _(
                "This wave's period has ended and its results may have been seen: it cannot be "
                "reopened. Start a new wave instead."
            )
        )


def check_closable(wave: Wave) -> None:
    """Raise ``WaveConflict`` unless the wave is open."""
    if wave.status is WaveStatus.CLOSED:
        raise WaveConflict(_("This wave is already closed."))
    if wave.status is WaveStatus.DRAFT:
        raise WaveConflict(
            _("This wave is a draft: nobody could answer it yet, so there is nothing to close.")
        )


def close_wave(
    wave: Wave, actor: Account | None, today: date | None = None, policy: Policy | None = None
) -> list[TeamFlag]:
    """Open → closed, now: nobody can answer any more, and the team-first period starts.

    ``closed_on`` is today, or the closing day when that has already passed (the day answering
    really stopped), so a late formal close does not hold back the results. The burst counter
    of the current ten-minute window is forgotten (it would say when the last answers came);
    only each team's peak survives. Returns the teams to check with (``closing_flags``); the
    audit log names them, without counts.
    """
    today = today or date.today()
    check_closable(wave)
    wave.status = WaveStatus.CLOSED
    wave.closed_on = min(today, wave.closes_on)
    for team in wave.teams:
        team.burst_bucket = None
        team.burst_count = 0
    db.session.flush()
    freeze_tree(wave)
    flags = closing_flags(wave, policy or wave_policy(wave))
    details: dict[str, Any] = {"closed_on": wave.closed_on.isoformat()}
    if flags:
        details["to_check"] = [flag.wave_team.unit.slug for flag in flags]
    audit.record(actor, "wave.close", _target(wave), **details)
    shuffle_wave(wave, today)  # no order at rest (survey.services.shuffle)
    return flags


def edit_wave(
    wave: Wave,
    changes: Mapping[str, Any],
    actor: Account | None,
    today: date | None = None,
) -> list[str]:
    """Apply ``changes`` (field → value; ``invited`` maps wave-team id → expected staff or
    None) that the wave's status allows; returns the names of the fields that changed.

    An expected number below what a team already answered is allowed (a team can shrink):
    the answers stay, its link takes no more, and it is flagged at closing. Nothing here says
    whether that happened, since the answer would give away a count below k."""
    today = today or date.today()
    allowed = editable_fields(wave)
    if set(changes) - allowed and wave.status is WaveStatus.CLOSED:
        raise WaveConflict(
            _(
                "A closed wave can only be renamed: its expected staff are what its "
                "participation was measured against."
            )
        )
    if set(changes) - allowed:
        raise WaveConflict(
            _(
                "Once a wave is opened, only its name and the expected staff per team can "
                "change; its closing date moves by extending or closing it."
            )
        )
    if "name" in changes and not changes["name"].strip():
        raise WaveInputError("name", _("Give the wave a name."))
    if {"opens_on", "closes_on"} & set(changes):
        opens_on = changes.get("opens_on", wave.opens_on)
        closes_on = changes.get("closes_on", wave.closes_on)
        if (opens_on, closes_on) != (wave.opens_on, wave.closes_on):
            _check_period(opens_on, closes_on, today)
    changed: dict[str, Any] = {}
    for field in ("name", "opens_on", "closes_on", "codes_only"):
        if field not in changes:
            continue
        value = changes[field].strip() if field == "name" else changes[field]
        if getattr(wave, field) != value:
            setattr(wave, field, value)
            changed[field] = value.isoformat() if isinstance(value, date) else value
    invited = changes.get("invited", {})
    for wave_team in wave.teams:
        if wave_team.id in invited and wave_team.invited != invited[wave_team.id]:
            wave_team.invited = invited[wave_team.id]
            changed.setdefault("invited", {})[wave_team.unit.slug] = invited[wave_team.id]
    if changed:
        db.session.flush()
        audit.record(actor, "wave.edit", _target(wave), **changed)
    return list(changed)


def status_label(status: WaveStatus) -> str:
    return {
        WaveStatus.DRAFT: _("draft"),
        WaveStatus.OPEN: _("open"),
        WaveStatus.CLOSED: _("closed"),
    }[status]


def _target(wave: Wave) -> str:
    return f"wave {wave.id} ({wave.name})"


# --- Progress, behind the minimum group size --------------------------------------------------


@dataclass(frozen=True)
class GatedCount:
    """A count about respondents as a page may show it: ``value`` is None when it is hidden,
    and then ``reason`` says why. The hidden number itself is not kept."""

    value: int | None
    reason: Reason | None = None

    @classmethod
    def of(cls, verdict: Verdict) -> GatedCount:
        return cls(verdict.n) if verdict.shown else cls(None, verdict.reason)

    @classmethod
    def gated(cls, n: int, policy: Policy) -> GatedCount:
        """A group with nothing to subtract it from: shown from k on (nought is hidden too)."""
        return cls.of(gate_group(n, policy))

    @property
    def shown(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class GatedTotal:
    """A total over groups (e.g. the teams of a wave) whose own counts are shown elsewhere.

    Every group of at least k shows its own count on some page (the team's results, the
    wave's page), so the total is shown only when what those shown groups leave over is nought
    or at least k: otherwise the total minus the shown groups would be the count of the
    groups below k (docs/anonymity.md, "Totals minus shown parts")."""

    #: The whole total, or hidden.
    whole: GatedCount
    #: The sum of the groups shown on their own (each with at least k): a sum of shown figures.
    shown_parts: int
    #: How many groups that sum pools.
    shown_groups: int


def gate_total(parts: Iterable[int], policy: Policy) -> GatedTotal:
    """``parts`` are the groups' counts; the rule is ``survey.anonymity.gate_total``."""
    counts = list(parts)
    shown = [n for n in counts if n >= policy.min_group_size]
    verdict = anonymity.gate_total(counts, policy)
    return GatedTotal(GatedCount.of(verdict), sum(shown), len(shown))


@dataclass(frozen=True)
class TeamProgress:
    wave_team: WaveTeam
    responses: GatedCount
    codes_issued: int
    #: Hidden while the wave runs (``WaveProgress.codes_used_shown``).
    codes_used: GatedCount


@dataclass(frozen=True)
class WaveProgress:
    teams: list[TeamProgress]
    #: All the wave's responses counted, through ``gate_total``.
    total: GatedTotal
    #: While staff can still answer, responses count only up to the end of the day before
    #: this day (so the counts move once a day, not with each submission); None: every one.
    counted_before: date | None
    #: Whether used codes are shown: only once the wave's period has ended, since a code is
    #: marked used when it is entered, and a count that moves then would say who just began.
    codes_used_shown: bool


def counted_before(wave: Wave, today: date) -> date | None:
    """The day from which an open wave's responses are not yet counted (``WaveProgress``)."""
    if wave.status is WaveStatus.CLOSED or wave.state(today) is WaveState.CLOSED:
        return None
    return today


def response_counts(wave: Wave, before: date | None = None) -> dict[int, int]:
    """Team (unit) id → the wave's responses, only those submitted before ``before`` if given."""
    query = (
        sa.select(Response.unit_id, sa.func.count())
        .where(Response.wave_id == wave.id)
        .group_by(Response.unit_id)
    )
    if before is not None:
        query = query.where(Response.submitted_on < before)
    return dict(db.session.execute(query).all())


def wave_progress(wave: Wave, policy: Policy, today: date | None = None) -> WaveProgress:
    """Per team how many have answered and how many codes were issued and used, every count
    about respondents through the anonymity gate, and none that ticks with one submission.

    - A team's count is shown from k on (nought included in what is hidden, so nobody can
      watch the first answers arrive), as on the team's own results page.
    - The wave's total through ``gate_total``: never one that minus the shown teams gives the
      teams below k.
    - While staff can answer, only responses submitted before today count: the figures move
      once a day ("as of the end of yesterday"), so watching them says nothing about who
      answered when. Used codes are shown only once the period has ended.
    """
    today = today or date.today()
    before = counted_before(wave, today)
    teams = wave_teams(wave)
    responses = response_counts(wave, before)
    issued: dict[int, int] = {}
    used: dict[int, int] = {}
    for wave_team_id, is_used, count in db.session.execute(
        sa.select(AccessCode.wave_team_id, AccessCode.used, sa.func.count())
        .join(WaveTeam, AccessCode.wave_team_id == WaveTeam.id)
        .where(WaveTeam.wave_id == wave.id)
        .group_by(AccessCode.wave_team_id, AccessCode.used)
    ):
        issued[wave_team_id] = issued.get(wave_team_id, 0) + count
        if is_used:
            used[wave_team_id] = count
    codes_used_shown = before is None and wave.status is not WaveStatus.DRAFT
    hidden_until_the_end = GatedCount(None, None)
    return WaveProgress(
        teams=[
            TeamProgress(
                wave_team=team,
                responses=GatedCount.gated(responses.get(team.unit_id, 0), policy),
                codes_issued=issued.get(team.id, 0),
                codes_used=(
                    GatedCount.gated(used.get(team.id, 0), policy)
                    if codes_used_shown
                    else hidden_until_the_end
                ),
            )
            for team in teams
        ],
        total=gate_total((responses.get(team.unit_id, 0) for team in teams), policy),
        counted_before=before,
        codes_used_shown=codes_used_shown,
    )


# --- Expected staff and the checks at closing -------------------------------------------------


def small_for_team_links(expected: int | None, policy: Policy) -> bool:
    """Whether a team is one for which access codes stay the recommended way: fewer than 2k
    expected staff (a team link can be passed on, and a few made-up answers weigh heavily in
    a small team)."""
    return expected is not None and expected < 2 * policy.min_group_size


def implausible_burst(peak_burst: int, expected: int | None, policy: Policy) -> bool:
    """Whether the most completed questionnaires of a team within one ten-minute window are
    worth a check: at least k, and at least half its expected staff (at least k when that is
    unknown). A whole team answering together in a meeting is legitimate; the admin is asked
    to check with the team, not told that something is wrong."""
    k = policy.min_group_size
    threshold = max(k, -(-expected // 2)) if expected else k
    return peak_burst >= threshold


@dataclass(frozen=True)
class TeamFlag:
    """A team to check with at closing. No time is kept or shown, and counts only from k."""

    wave_team: WaveTeam
    #: More completed questionnaires than the team's expected staff.
    over_expected: bool
    #: The team's responses (shown from k on) and, when shown, their share of the expected staff.
    responses: GatedCount
    percent: int | None
    #: The most completed questionnaires within ten minutes, when that is implausible (≥ k).
    burst: int | None


def closing_flags(wave: Wave, policy: Policy) -> list[TeamFlag]:
    """The teams of a wave whose responses exceed their expected staff or arrived in an
    implausible burst (``implausible_burst``), by team name."""
    responses = response_counts(wave)
    flags = []
    for team in wave_teams(wave):
        n = responses.get(team.unit_id, 0)
        over = team.invited is not None and n > team.invited
        burst = (
            team.peak_burst if implausible_burst(team.peak_burst, team.invited, policy) else None
        )
        if not over and burst is None:
            continue
        count = GatedCount.gated(n, policy)
        percent = round(100 * n / team.invited) if count.shown and team.invited else None
        flags.append(TeamFlag(team, over, count, percent, burst))
    return flags


# --- Links to print ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamLinks:
    wave_team: WaveTeam
    #: The answering link, or None for a codes-only wave (its team links let nobody in).
    answer_url: str | None
    #: The answering link as an inline SVG QR code (``<svg>…</svg>``), or None.
    answer_qr_svg: str | None
    results_url: str


def team_links(wave: Wave, public_url: str) -> list[TeamLinks]:
    """Per team the link to answer (with its QR code) and the team's own results link."""
    base = public_url.rstrip("/")
    sheets = []
    for wave_team in wave_teams(wave):
        answer_url = None if wave.codes_only else f"{base}/t/{wave_team.link_slug}"
        sheets.append(
            TeamLinks(
                wave_team=wave_team,
                answer_url=answer_url,
                answer_qr_svg=qr_svg(answer_url) if answer_url else None,
                results_url=f"{base}/team/{wave_team.results_slug}",
            )
        )
    return sheets


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as inline SVG: black on white, a quiet zone of four modules,
    medium error correction (survives a crease or a smudge on paper)."""
    import segno  # imported here: only the links page draws QR codes

    svg = segno.make(text, error="m").svg_inline(
        border=4, dark="#000", light="#fff", svgclass="qr", lineclass=None, omitsize=True
    )
    # Decorative for assistive technology: the page gives the link itself in text beside it.
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
