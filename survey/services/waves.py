"""The life of a wave: create it as a draft, open it, extend it, close it, edit what may change.

A wave moves one way only: draft → open → closed. ``Wave.state()`` (survey.models.waves)
then decides from the status and the dates whether staff can answer today: an open wave whose
opening day lies ahead waits until then, and one whose closing day has passed takes no answers.

What may be edited depends on the status (``editable_fields``):

- a draft: everything (its name, dates, codes-only setting, the context whose wording it asks
  the questionnaire in, the expected staff per team, and whether it sends personal invitations
  with which reminders: ``survey.services.invitations``);
- an open wave: only its name and the expected staff per team. Its dates move only through
  ``extend_wave`` (a later closing day) or ``close_wave`` (now), and the codes-only setting
  stays as it was, since staff already hold the links or codes it was announced with; so does
  the context, since staff may already have read and answered its wording;
- a closed wave: only its name. Its expected staff are what its participation and the flags
  at closing were measured against (``wave_progress.closing_flags``), so they stay as they
  were.

Each team's expected number of staff (``WaveTeam.invited``) starts as the unit's ``staff``;
the team link accepts no more completed questionnaires than that (docs/anonymity.md, "Padding
a team").

A team answers one wave at a time (``team_overlaps``): a wave is not opened, nor an open wave
extended, while one of its teams is in another open wave that takes answers on a same day from
today on. Only status OPEN counts: a draft may be prepared for any period (the check comes when
it opens), a closed wave takes no answers, and the days of an open wave that lie in the past
(or before a draft is opened) take no new answers either, so they cannot clash. Two waves asked
of one team at once would split its answers and let a colleague answer twice.

Opening a wave in invitation mode invites its teams' staff lists (``invitations.invite``);
closing it deletes its invitations (``invitations.forget_wave``).

Every verb flushes and records an audit event; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from survey.anonymity import Policy
from survey.extensions import db
from survey.models import (
    Account,
    QuestionnaireVersion,
    Unit,
    Wave,
    WaveState,
    WaveStatus,
    WaveTeam,
)
from survey.services import audit, invitations
from survey.services.questionnaires import instrument_of, instrument_of_version
from survey.services.settings import record_promise, wave_policy
from survey.services.short_links import fresh_codes
from survey.services.shuffle import shuffle_wave
from survey.services.team_figures import store_wave_figures
from survey.services.wave_progress import TeamFlag, closing_flags
from survey.services.wave_tree import freeze_tree

#: How a wave in invitation mode invites and reminds (``survey.services.invitations``).
INVITATION_FIELDS = ("invitations", "reminder_days", "last_day_reminder")

#: The fields an administrator may change in each status (see the module docstring).
EDITABLE_FIELDS: dict[WaveStatus, frozenset[str]] = {
    WaveStatus.DRAFT: frozenset(
        {"name", "opens_on", "closes_on", "codes_only", "context", "invited", *INVITATION_FIELDS}
    ),
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


# --- One wave at a time per team -------------------------------------------------------------


def team_overlaps(wave: Wave, closes_on: date, today: date) -> dict[Wave, list[Unit]]:
    """The other open waves that share a team with ``wave`` and take answers on a day that
    ``wave`` would, from today on, if it closed on ``closes_on``: wave → the shared teams."""
    first_day = max(wave.opens_on, today)
    unit_ids = [wave_team.unit_id for wave_team in wave.teams]
    if not unit_ids or closes_on < first_day:
        return {}
    rows = db.session.execute(
        sa.select(Wave, Unit)
        .join(WaveTeam, WaveTeam.wave_id == Wave.id)
        .join(Unit, Unit.id == WaveTeam.unit_id)
        .where(
            Wave.id != wave.id,
            Wave.status == WaveStatus.OPEN,
            WaveTeam.unit_id.in_(unit_ids),
            Wave.closes_on >= first_day,
            Wave.opens_on <= closes_on,
        )
        .order_by(Wave.opens_on, Wave.id, Unit.name)
    ).all()
    overlaps: dict[Wave, list[Unit]] = {}
    for other, unit in rows:
        overlaps.setdefault(other, []).append(unit)
    return overlaps


def check_one_wave_per_team(wave: Wave, closes_on: date, today: date) -> None:
    """Raise ``WaveConflict`` naming the teams and the other waves when ``team_overlaps``
    finds any (see the module docstring)."""
    overlaps = team_overlaps(wave, closes_on, today)
    if not overlaps:
        return
    sentences = [
        ngettext(
            '%(teams)s already takes part in the open wave "%(wave)s" (%(opens)s to '
            "%(closes)s), whose period overlaps this one.",
            '%(teams)s already take part in the open wave "%(wave)s" (%(opens)s to '
            "%(closes)s), whose period overlaps this one.",
            len(units),
            teams=", ".join(unit.name for unit in units),
            wave=other.name,
            opens=format_date(other.opens_on, "medium"),
            closes=format_date(other.closes_on, "medium"),
        )
        for other, units in overlaps.items()
    ]
    advice = _(
        "A team answers one wave at a time: close the other wave, or let this one start after "
        "it ends."
    )
    raise WaveConflict(" ".join([*sentences, advice]))


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
    context: str | None = None,
    invite: dict[str, Any] | None = None,
) -> Wave:
    """A draft wave asking ``version`` (in the wording of ``context``, None: the default) of
    every active team in or below ``units``; ``invite``: its ``INVITATION_FIELDS`` if any."""
    today = today or date.today()
    name = name.strip()
    if not name:
        raise WaveInputError("name", _("Give the wave a name."))
    _check_period(opens_on, closes_on, today)
    invite = {**invitations.NO_INVITATIONS, **(invite or {})}
    _check_invitation_mode(
        dict(invite, codes_only=codes_only, opens_on=opens_on, closes_on=closes_on)
    )
    if context is not None:
        check_context(version, context)
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
        context=context,
        units=sorted(set(units), key=lambda unit: unit.id),
        **invite,
    )
    # Each team's expected staff starts as its usual number (the units page or import).
    wave.teams = [
        WaveTeam(unit=team, invited=team.staff, short_code=code)
        for team, code in zip(teams, fresh_codes(len(teams)), strict=True)
    ]
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
        context=context,
        **invite,
    )
    return wave


def _check_invitation_mode(values: Mapping[str, Any]) -> None:
    if problem := invitations.check_mode(values):
        raise WaveInputError(*problem)


def check_openable(wave: Wave, today: date | None = None) -> None:
    """Raise ``WaveConflict`` unless the wave is a draft that may open today: its closing day
    has not passed, it has teams, and none of them is in another open wave at the same time."""
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
    if problem := invitations.check_invitable(wave):
        raise WaveConflict(problem)
    check_one_wave_per_team(wave, wave.closes_on, today)


def open_wave(wave: Wave, actor: Account | None, today: date | None = None) -> WaveState:
    """Draft → open. Staff can answer from ``opens_on`` on; returns the state it is in now."""
    today = today or date.today()
    check_openable(wave, today)
    wave.status = WaveStatus.OPEN
    record_promise(wave, instrument_of(wave))
    db.session.flush()
    state = wave.state(today)
    audit.record(actor, "wave.open", _target(wave), state=state.value)
    if wave.invitations:
        invitations.invite(wave, actor)
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
    check_one_wave_per_team(wave, closes_on, today)
    previous = wave.closes_on
    wave.closes_on = closes_on
    invitations.move_last_day_reminder(wave)
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
    only each team's peak survives. Returns the teams to check with
    (``wave_progress.closing_flags``); the audit log names them, without counts.
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
    invitations.forget_wave(wave, actor)  # the addresses are not needed any more
    shuffle_wave(wave, today)  # no order at rest (survey.services.shuffle)
    store_wave_figures(wave, instrument_of(wave), today)  # its pages read them from now on
    return flags


def _check_editable(wave: Wave, changes: Mapping[str, Any]) -> None:
    """Raise ``WaveConflict`` when ``changes`` touch a field the wave's status keeps fixed."""
    allowed = editable_fields(wave)
    if changes.get("context", wave.context) != wave.context and "context" not in allowed:
        raise WaveConflict(
            _(
                "Once a wave is opened, the wording it asks the questionnaire in stays as it "
                "is: staff may already have answered it."
            )
        )
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
    _check_editable(wave, changes)
    if "name" in changes and not changes["name"].strip():
        raise WaveInputError("name", _("Give the wave a name."))
    if {"opens_on", "closes_on"} & set(changes):
        opens_on = changes.get("opens_on", wave.opens_on)
        closes_on = changes.get("closes_on", wave.closes_on)
        if (opens_on, closes_on) != (wave.opens_on, wave.closes_on):
            _check_period(opens_on, closes_on, today)
    if changes.get("context") is not None:
        check_context(wave.questionnaire_version, changes["context"])
    fields = ("codes_only", "opens_on", "closes_on", *INVITATION_FIELDS)
    _check_invitation_mode({field: changes.get(field, getattr(wave, field)) for field in fields})
    changed: dict[str, Any] = {}
    for field in ("name", "opens_on", "closes_on", "codes_only", "context", *INVITATION_FIELDS):
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


def context_choices(version: QuestionnaireVersion, language: str) -> list[tuple[str, str]]:
    """The contexts a wave asking ``version`` can choose: (code, title), in the file's order."""
    contexts = instrument_of_version(version).contexts
    return [(context.code, context.title.in_language(language)) for context in contexts]


def check_context(version: QuestionnaireVersion, context: str) -> None:
    """Raise ``WaveInputError`` unless ``version`` declares ``context``."""
    if context not in {context.code for context in instrument_of_version(version).contexts}:
        raise WaveInputError(
            "context",
            _(
                "This questionnaire version has no wording for the context '%(context)s': "
                "choose one from the list.",
                context=context[:40],
            ),
        )


def status_label(status: WaveStatus) -> str:
    return {
        WaveStatus.DRAFT: _("draft"),
        WaveStatus.OPEN: _("open"),
        WaveStatus.CLOSED: _("closed"),
    }[status]


def _target(wave: Wave) -> str:
    return f"wave {wave.id} ({wave.name})"
