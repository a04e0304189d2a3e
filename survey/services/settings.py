"""The organisation's settings as the rest of the application reads them.

``current_settings()`` is what every page, the anonymity gate and the respondent's form use:
the row an administrator saved on the settings page, else the environment's defaults. It is
read once per request (kept on ``g``), so a change made in one worker holds in every other
worker from its next request on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from werkzeug.local import LocalProxy

from questionnaires import Instrument
from survey.anonymity import Policy
from survey.extensions import db
from survey.models import Account, OrganisationSettings, Wave
from survey.services import audit


@dataclass(frozen=True)
class Settings:
    min_group_size: int
    spread_threshold: int
    comments_enabled: bool
    team_first_days: int
    languages: tuple[str, ...]
    #: Item codes of the life domains asked about; None: every domain of the questionnaire.
    life_domains: tuple[str, ...] | None
    retention_years: int | None

    @classmethod
    def from_config(cls, config: Mapping) -> Settings:
        k = config["MIN_GROUP_SIZE"]
        return cls(
            min_group_size=k,
            spread_threshold=max(config.get("SPREAD_THRESHOLD", 7), k),
            comments_enabled=config.get("COMMENTS_ENABLED", True),
            team_first_days=config.get("TEAM_FIRST_DAYS", 14),
            languages=tuple(config["LANGUAGES"]),
            life_domains=None,
            retention_years=config.get("RETENTION_YEARS"),
        )

    @classmethod
    def from_row(cls, row: OrganisationSettings | sa.Row | SimpleNamespace) -> Settings:
        return cls(
            min_group_size=row.min_group_size,
            spread_threshold=row.spread_threshold,
            comments_enabled=row.comments_enabled,
            team_first_days=row.team_first_days,
            languages=tuple(row.languages),
            life_domains=tuple(row.life_domains) if row.life_domains is not None else None,
            retention_years=row.retention_years,
        )

    @property
    def policy(self) -> Policy:
        """The anonymity gate's rules."""
        return Policy(
            min_group_size=self.min_group_size,
            spread_threshold=self.spread_threshold,
            comments_enabled=self.comments_enabled,
        )

    def asks_domain(self, item_code: str) -> bool:
        return self.life_domains is None or item_code in self.life_domains


_SETTINGS = OrganisationSettings.__table__


def current_settings() -> Settings:
    """The settings in force for this request (or command)."""
    if has_app_context() and "krachtspiegel_settings" in g:
        return g.krachtspiegel_settings
    # A plain row, not an ORM object: every page reads it, and the ORM's identity map and
    # instance bookkeeping cost several times the query itself.
    row = db.session.execute(sa.select(_SETTINGS).where(_SETTINGS.c.id == 1)).first()
    return _keep(Settings.from_row(row) if row else Settings.from_config(current_app.config))


def _keep(settings: Settings) -> Settings:
    if has_app_context():
        g.krachtspiegel_settings = settings
    return settings


def first_with_settings(query: sa.Select) -> Sequence[Any] | None:
    """The first row of ``query``. When this request has not read the settings yet, they come
    with it, in the same statement (a respondent's page needs its draft and the settings: one
    round trip instead of two); the row returned holds only ``query``'s own columns."""
    if not has_app_context() or "krachtspiegel_settings" in g:
        return db.session.execute(query).first()
    width = len(query.column_descriptions)
    joined = query.add_columns(*_SETTINGS.c).outerjoin(_SETTINGS, _SETTINGS.c.id == 1)
    row = db.session.execute(joined).first()
    if row is None:
        return None
    stored = dict(zip(_SETTINGS.c.keys(), row[width:], strict=True))
    if stored["id"] is None:  # no settings saved: the environment's defaults
        _keep(Settings.from_config(current_app.config))
    else:
        _keep(Settings.from_row(SimpleNamespace(**stored)))
    return row[:width]


def current_policy() -> Policy:
    return current_settings().policy


def wave_policy(wave: Wave, settings: Settings | None = None) -> Policy:
    """The gate's rules for one wave's figures: never weaker than the promise the wave was
    answered under (``record_promise``), whatever the settings say now; stricter settings
    apply. Every page, chart and download of a wave's results uses this, not the settings."""
    now = (settings or current_settings()).policy
    k = max(now.min_group_size, wave.min_group_size or 0)
    policy = Policy(
        min_group_size=k,
        spread_threshold=max(now.spread_threshold, wave.spread_threshold or 0, k),
        comments_enabled=now.comments_enabled and wave.comments_enabled is not False,
    )
    if has_app_context():
        # What a page says ("fewer than k answers") follows the rules its figures used: the
        # strictest of the waves it shows (``page_settings``).
        shown = g.get("krachtspiegel_page_policy")
        g.krachtspiegel_page_policy = shown.stricter(policy) if shown else policy
        days = wave_team_first_days(wave, settings)
        g.krachtspiegel_page_team_first_days = max(
            g.get("krachtspiegel_page_team_first_days", 0), days
        )
    return policy


def wave_team_first_days(wave: Wave, settings: Settings | None = None) -> int:
    """The team-first period of ``wave``: never shorter than the one its respondents were told
    when it opened, whatever the settings say later (a longer one applies)."""
    return max((settings or current_settings()).team_first_days, wave.team_first_days or 0)


def record_promise(wave: Wave, instrument: Instrument, settings: Settings | None = None) -> None:
    """Keep with the wave, as it opens, the rules its respondents are told: k, the spread
    threshold, comments, the team-first period, and which life domains are asked (so that
    switching a domain off mid-wave cannot mark who answered before and after)."""
    settings = settings or current_settings()
    wave.min_group_size = settings.min_group_size
    wave.spread_threshold = settings.spread_threshold
    wave.comments_enabled = settings.comments_enabled
    wave.team_first_days = settings.team_first_days
    wave.life_domains = [
        item.code
        for group in instrument.groups()
        if group.domains
        for item in group.items
        if settings.asks_domain(item.code)
    ]


def page_settings() -> Settings:
    """The settings as a page states them: where the page shows a wave's figures, k, the
    spread threshold, comments and the team-first period are those of that wave's promise
    (``wave_policy``), not today's."""
    settings = current_settings()
    policy = g.get("krachtspiegel_page_policy") if has_app_context() else None
    if policy is None:
        return settings
    return replace(
        settings,
        min_group_size=policy.min_group_size,
        spread_threshold=policy.spread_threshold,
        comments_enabled=policy.comments_enabled,
        team_first_days=g.get("krachtspiegel_page_team_first_days", settings.team_first_days),
    )


#: For templates: ``settings.min_group_size`` reads the database only when a page uses it.
settings_proxy: Settings = LocalProxy(page_settings)  # type: ignore[assignment]


def save_settings(values: Mapping[str, Any], actor: Account | None) -> Settings:
    """Store new settings (all fields of ``Settings``), audit what changed, and return them.

    The database refuses a minimum group size below 3 or a spread threshold below it as well
    (check constraints), whatever a caller passes.
    """
    before = current_settings()
    row = db.session.get(OrganisationSettings, 1) or OrganisationSettings(id=1)
    new = Settings(**{**asdict(before), **values})
    for name, value in asdict(new).items():
        setattr(row, name, list(value) if isinstance(value, tuple) else value)
    db.session.add(row)
    db.session.flush()
    changes = {
        name: [_plain(getattr(before, name)), _plain(getattr(new, name))]
        for name in asdict(new)
        if getattr(before, name) != getattr(new, name)
    }
    if changes:
        audit.record(actor, "settings.change", "organisation", changes=changes)
    g.pop("krachtspiegel_settings", None)
    return new


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
