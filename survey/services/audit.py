"""Recording administrative acts in the audit log, and reading it back (filtered, as a table)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc

from survey.extensions import db
from survey.models import Account, AuditEvent

#: Who acted through a team's results link: the team, never a person. Nothing of the visitor
#: (address, session, the link itself) goes into the log: the link is shared with the team.
TEAM_LINK_ACTOR = "team results link"


def record(actor: Account | None, action: str, target: str = "", **details: Any) -> AuditEvent:
    """Add an audit event; ``actor=None`` means the command line."""
    return _add(
        actor.id if actor else None,
        actor.email if actor else "command line",
        action,
        target,
        details,
    )


def record_by_team(action: str, target: str = "", **details: Any) -> AuditEvent:
    """Add an audit event of an act through a team's results link (``TEAM_LINK_ACTOR``)."""
    return _add(None, TEAM_LINK_ACTOR, action, target, details)


def _add(
    account_id: int | None, actor: str, action: str, target: str, details: dict[str, Any]
) -> AuditEvent:
    event = AuditEvent(
        account_id=account_id, actor=actor, action=action, target=target, details=details
    )
    db.session.add(event)
    db.session.flush()
    return event


#: A readable label per action; an action not listed here is shown as its dotted verb.
ACTION_LABELS = {
    "unit.create": _l("Unit created"),
    "unit.rename": _l("Unit renamed"),
    "unit.move": _l("Unit moved"),
    "unit.archive": _l("Unit archived"),
    "unit.restore": _l("Unit restored"),
    "units.import": _l("Units imported from a file"),
    "staff.import": _l("Staff lists imported from a file"),
    "staff.add": _l("Address added to a staff list"),
    "staff.remove": _l("Addresses removed from a staff list"),
    "settings.change": _l("Settings changed"),
    "audit.export": _l("Audit log exported"),
    "account.create": _l("Account created"),
    "account.invite": _l("Account invited"),
    "account.password_set": _l("Password set"),
    "account.reset": _l("Password reset link created"),
    "account.role": _l("Role changed"),
    "account.scope": _l("Units seen changed"),
    "account.deactivate": _l("Account deactivated"),
    "account.reactivate": _l("Account reactivated"),
    "wave.create": _l("Wave created"),
    "wave.edit": _l("Wave changed"),
    "wave.open": _l("Wave opened"),
    "wave.extend": _l("Wave extended"),
    "wave.close": _l("Wave closed"),
    "retention.apply": _l("Answers deleted under the retention setting"),
    "questionnaire.load": _l("Questionnaire loaded"),
    "codes.issue": _l("Access codes issued"),
    "demo.build": _l("Demo organisation built"),
    "team_action.add": _l("Team action recorded"),
    "team_action.delete": _l("Team action removed"),
    "team_action.update": _l("Team action updated"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def detail_pairs(details: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """An event's details as (key, text), lists joined. A nested mapping (``settings.change``
    stores ``changes={name: [before, after]}``) gives a pair per entry, a change as a → b."""
    pairs: list[tuple[str, str]] = []
    for key, value in (details or {}).items():
        if isinstance(value, Mapping):
            pairs.extend((str(name), _change_text(item)) for name, item in value.items())
        else:
            pairs.append((key, _detail_text(value)))
    return pairs


def _change_text(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"{_detail_text(value[0])} → {_detail_text(value[1])}"
    return _detail_text(value)


def _detail_text(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_detail_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_detail_text(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show: all of one actor, actions starting with a prefix, a date range
    (days in the reader's time zone, both ends included)."""

    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None

    def as_details(self) -> dict[str, str]:
        return {
            name: str(value)
            for name, value in (
                ("actor", self.actor),
                ("action", self.action),
                ("since", self.since),
                ("until", self.until),
            )
            if value
        }

    def select(self) -> sa.Select:
        """The events, newest first."""
        query = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        if self.actor:
            query = query.where(AuditEvent.actor == self.actor)
        if self.action:
            query = query.where(AuditEvent.action.startswith(self.action, autoescape=True))
        if self.since:
            query = query.where(AuditEvent.at >= _start_of_local_day(self.since))
        if self.until:
            query = query.where(AuditEvent.at < _start_of_local_day(self.until + timedelta(1)))
        return query


def _start_of_local_day(day: date) -> datetime:
    """Midnight of ``day`` in the reader's time zone, in UTC."""
    return to_utc(datetime.combine(day, time.min)).replace(tzinfo=UTC)


def actors() -> list[str]:
    """Everyone who appears in the log, for the filter."""
    return list(
        db.session.scalars(sa.select(AuditEvent.actor).distinct().order_by(AuditEvent.actor))
    )


def local_time(moment: datetime) -> datetime:
    """``moment`` in the reader's time zone (SQLite hands back UTC without a zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_user_timezone(moment)


def export_table(events: list[AuditEvent]) -> tuple[list[str], list[list[str]]]:
    """The header and rows of an export: when (reader's time zone), who, what, target, details.

    Every cell is text (the writers keep text that looks like a formula as text)."""
    header = [_("When"), _("Who"), _("Action"), _("What"), _("Target"), _("Details")]
    rows = [
        [
            local_time(event.at).strftime("%Y-%m-%d %H:%M:%S"),
            event.actor,
            event.action,
            action_label(event.action),
            event.target,
            "; ".join(f"{key}: {text}" for key, text in detail_pairs(event.details)),
        ]
        for event in events
    ]
    return header, rows
