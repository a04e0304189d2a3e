"""A believable demo organisation, drawn from a seeded generative model.

"Huis van Kracht vzw": three departments, eight teams of 4 to 20 staff (one too small to ever
show results), an account per role, three closed waves half a year apart and one open wave.
Each team has its own profile over the scales and its own course over the waves (some grow,
one slips back, one stays flat); respondents differ from each other, sometimes answer
"don't know", and a few write a comment. The same seed gives the same answers.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

import questionnaires
from questionnaires import Instrument
from reports.deferred import np
from reports.scores import reversed_value
from survey.extensions import db
from survey.models import (
    Account,
    ActionKind,
    ActionStatus,
    Answer,
    Base,
    QuestionnaireVersion,
    Response,
    Role,
    TeamAction,
    Unit,
    UnitKind,
    Wave,
    WaveStatus,
    WaveTeam,
)
from survey.passwords import hash_password
from survey.services import audit, scale_scores
from survey.services.questionnaires import instrument_of, store_instrument
from survey.services.responding import answer_rows
from survey.services.settings import record_promise
from survey.services.team_figures import store_wave_figures

INSTRUMENT_FILE = Path(questionnaires.__file__).parent / "krachtspiegel-team-1.yaml"
#: The open wave asks instrument 2.0; the closed waves keep 1.x, so the demo shows a trend
#: across versions (on the items and scales 2.0 kept unchanged).
OPEN_WAVE_INSTRUMENT_FILE = INSTRUMENT_FILE.with_name("krachtspiegel-team-2.yaml")
#: Printed by `make run`; only ever set on the made-up demo accounts.
DEMO_PASSWORD = "krachtspiegel-demo"  # noqa: S105
DEMO_DOMAIN = "huisvankracht.example"


@dataclass(frozen=True)
class DemoTeam:
    slug: str
    name: str
    department: str
    staff: int
    #: Where the team stands, in scale points, against the organisation's mean.
    level: float
    #: Change per wave, in scale points: grows (> 0), slips back (< 0) or stays flat.
    trend: float


DEPARTMENTS = {
    "jeugdhulp": "Jeugdhulp",
    "ggz": "Geestelijke gezondheid",
    "welzijn": "Maatschappelijk werk",
}
TEAMS = (
    DemoTeam("team-kompas", "Team Kompas", "jeugdhulp", 14, -0.45, +0.40),
    DemoTeam("team-vlinder", "Team Vlinder", "jeugdhulp", 9, +0.15, +0.05),
    DemoTeam("team-horizon", "Team Horizon", "jeugdhulp", 18, -0.10, +0.15),
    DemoTeam("team-anker", "Team Anker", "ggz", 12, +0.30, -0.45),
    DemoTeam("mobiel-team-noord", "Mobiel Team Noord", "ggz", 16, +0.05, +0.08),
    DemoTeam("team-de-brug", "Team De Brug", "ggz", 4, 0.00, 0.00),
    DemoTeam("team-buurtwerk", "Team Buurtwerk", "welzijn", 11, +0.20, 0.00),
    DemoTeam("team-onthaal", "Team Onthaal", "welzijn", 8, -0.15, +0.10),
)
ACCOUNTS = (
    (f"beheer@{DEMO_DOMAIN}", Role.ADMIN, ()),
    (f"kwaliteit@{DEMO_DOMAIN}", Role.QUALITY, ()),
    (f"leiding.jeugdhulp@{DEMO_DOMAIN}", Role.MANAGER, ("jeugdhulp",)),
    (f"leiding.anker@{DEMO_DOMAIN}", Role.MANAGER, ("team-anker",)),
)

#: The organisation's mean per scale: practice a little below organisation, supervision lowest.
SCALE_MEANS = {
    "A1": 3.7, "A2": 3.9, "A3": 3.4, "A4": 3.6, "A5": 3.0, "A6": 2.8, "A7": 3.3, "A8": 2.9,
    "B1": 3.8, "B2": 3.6, "B3": 3.2, "B4": 3.5, "B5": 3.0,
}  # fmt: skip
#: Strength sources and time perspectives: the environment and the past get less attention.
ITEM_MEANS = {
    "C1.1": 3.8, "C1.2": 3.7, "C1.3": 3.5, "C1.4": 3.3, "C1.5": 3.2, "C1.6": 2.7,
    "C2.1": 3.9, "C2.2": 3.6, "C2.3": 3.5, "C2.4": 3.7, "C2.5": 3.1, "C2.6": 3.8,
    "C2.7": 2.8, "C2.8": 2.3, "C2.9": 2.4,
    "C3.1": 4.0, "C3.2": 3.5, "C3.3": 2.7,
}  # fmt: skip
#: The share of staff who tick a grid row or column, before the team's own level.
GRID_ROW_BIAS = {
    "aspirations": 0.2, "competencies": 0.3, "confidence": -0.1,
    "resources": 0.1, "relations": 0.0, "opportunities": -0.6,
}  # fmt: skip
GRID_COLUMN_BIAS = {
    "living": 0.6, "finances": 0.3, "work": 0.3, "family": 0.4, "network": 0.0,
    "health": 0.4, "leisure": -0.5, "meaning": -1.0, "participation": -0.8,
}  # fmt: skip
COMMENTS = {
    "O1": [
        "We vertrekken echt vanuit wat de jongere zelf wil.",
        "In het teamoverleg vragen we altijd eerst wat er goed loopt.",
        "We nemen de tijd om het netwerk rond een cliënt te leren kennen.",
        "Collega's vieren kleine stappen van cliënten met elkaar.",
        "We gaan vaker op huisbezoek dan vroeger.",
        "We zijn eerlijk tegen cliënten, ook als iets niet lukt.",
    ],
    "O2": [
        "Vaker de krachtenanalyse samen met de cliënt invullen.",
        "Informele steunfiguren van bij het begin betrekken.",
        "Meer intervisie over moeilijke situaties.",
        "Doelen kleiner maken en samen opvolgen.",
        "Minder in het dossier schrijven over problemen, meer over talenten.",
    ],
    "O3": [
        "We krijgen tijd voor intervisie.",
        "Onze leidinggevende geeft ons ruimte om zelf te beslissen.",
        "De vorming krachtgericht werken heeft ons veel geleerd.",
        "Er is ruimte om nieuwe methodieken uit te proberen.",
    ],
}
#: (kind, scale, description, who takes it up, status) per team, agreed after the last closed wave.
ACTIONS = {
    "team-kompas": [
        (
            ActionKind.TRY,
            "A1",
            "Bij elke intake samen met de jongere de krachtenanalyse invullen.",
            "Intakecoördinator",
            ActionStatus.UNDER_WAY,
        )
    ],
    "team-anker": [
        (
            ActionKind.KEEP,
            "B1",
            "Het wekelijkse overleg begint met wat er goed ging.",
            "Teamcoach",
            ActionStatus.DONE,
        ),
        (
            ActionKind.TRY,
            "B5",
            "Maandelijkse groepssupervisie over het krachtenmodel.",
            "Leidinggevende",
            ActionStatus.PLANNED,
        ),
    ],
    "team-buurtwerk": [
        (
            ActionKind.KEEP,
            "A3",
            "Cliënten zelf laten kiezen waar we afspreken.",
            "Iedereen",
            ActionStatus.UNDER_WAY,
        )
    ],
}


class DemoRefused(RuntimeError):
    """The database already holds data; the demo only builds in an empty one."""


@dataclass
class DemoSummary:
    teams: int
    waves: int
    responses: int
    answers: int
    accounts: list[tuple[str, Role]]


def database_is_empty() -> bool:
    """No organisation, account or wave yet (loaded questionnaires do not count)."""
    return all(
        db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
        for model in (Unit, Account, Wave)
    )


def demo_organisation() -> Unit | None:
    return db.session.scalar(sa.select(Unit).where(Unit.is_demo, Unit.parent_id.is_(None)))


def demo_organisation_name() -> sa.ScalarSelect[str]:
    """The demo organisation's name (NULL when there is none) as a column of another query:
    signed-in pages read it with their account (``survey.register_login``), not on its own."""
    demo_root = sa.select(Unit.name).where(Unit.is_demo, Unit.parent_id.is_(None)).limit(1)
    return demo_root.scalar_subquery()


def delete_everything() -> None:
    """Empty every table (for ``demo --reset``)."""
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    for table in tables:
        if table == "units":
            _delete_units_leaves_first()
        else:
            # Table names from our own metadata, never from input.
            db.session.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608


def _delete_units_leaves_first() -> None:
    while db.session.scalar(sa.select(sa.func.count(Unit.id))):
        parents = sa.select(Unit.parent_id).where(Unit.parent_id.is_not(None))
        db.session.execute(sa.delete(Unit).where(Unit.id.not_in(parents)))


def wave_dates(today: date) -> list[tuple[str, date, date, WaveStatus]]:
    """Three closed waves half a year apart and one open now, named after their season."""
    waves = []
    for months_ago in (18, 12, 6):
        start = _months_before(today, months_ago)
        waves.append((_season_name(start), start, start + timedelta(days=28), WaveStatus.CLOSED))
    start = today - timedelta(days=10)
    waves.append((_season_name(start), start, today + timedelta(days=25), WaveStatus.OPEN))
    return waves


def _months_before(today: date, months: int) -> date:
    month_index = today.year * 12 + today.month - 1 - months
    return date(month_index // 12, month_index % 12 + 1, 1)


def _season_name(day: date) -> str:
    return f"{'Voorjaar' if day.month <= 6 else 'Najaar'} {day.year}"


def build_demo(
    seed: int = 2026,
    today: date | None = None,
    progress: Callable[[Iterator], Iterator] = lambda steps: steps,
) -> DemoSummary:
    """Build the demo organisation in an empty database (raises DemoRefused otherwise)."""
    if not database_is_empty():
        raise DemoRefused("the database already holds data")
    today = today or date.today()
    versions = _store_instruments()
    organisation, departments, teams = _build_tree()
    db.session.add(organisation)
    _add_accounts({**departments, **teams})
    waves = _add_waves(versions, organisation, teams, today)
    generator = ResponseGenerator({version.id: each for each, version in versions.values()}, seed)
    responses, answers = _add_responses(generator, waves, teams, progress)
    for wave in waves:
        scale_scores.store_scale_scores(scale_scores.of_wave(wave.id))
        store_wave_figures(wave, instrument_of(wave), today)  # as closing the wave does
    audit.record(None, "demo.build", organisation.slug, seed=seed, responses=responses)
    return DemoSummary(
        len(TEAMS), len(waves), responses, answers, [(email, role) for email, role, _ in ACCOUNTS]
    )


def _store_instruments() -> dict[WaveStatus, tuple[Instrument, QuestionnaireVersion]]:
    """Every bundled questionnaire; the demo's waves ask the Krachtspiegel team instrument: the
    closed waves version 1.3, the open wave version 2.0 (by wave status)."""
    asked = {WaveStatus.CLOSED: INSTRUMENT_FILE, WaveStatus.OPEN: OPEN_WAVE_INSTRUMENT_FILE}
    versions = {}
    for status, file in asked.items():
        instrument = questionnaires.load_file(file)
        versions[status] = (instrument, store_instrument(instrument, file.name).version)
    for other in sorted(INSTRUMENT_FILE.parent.glob("*.yaml")):
        if other not in asked.values():
            store_instrument(questionnaires.load_file(other), other.name)
    return versions


def _build_tree() -> tuple[Unit, dict[str, Unit], dict[str, Unit]]:
    """The organisation, its departments by slug and its teams by slug (not yet added)."""
    organisation = Unit(
        slug="huis-van-kracht", name="Huis van Kracht vzw", kind=UnitKind.ORGANISATION, is_demo=True
    )
    departments = {
        slug: Unit(slug=slug, name=name, kind=UnitKind.DEPARTMENT, parent=organisation)
        for slug, name in DEPARTMENTS.items()
    }
    teams = {
        team.slug: Unit(
            slug=team.slug,
            name=team.name,
            kind=UnitKind.TEAM,
            parent=departments[team.department],
            staff=team.staff,
        )
        for team in TEAMS
    }
    return organisation, departments, teams


def _add_accounts(units: dict[str, Unit]) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    for email, role, scope in ACCOUNTS:
        db.session.add(
            Account(
                email=email,
                password_hash=password_hash,
                role=role,
                scope=[units[slug] for slug in scope],
            )
        )


def _add_waves(
    versions: dict[WaveStatus, tuple[Instrument, QuestionnaireVersion]],
    organisation: Unit,
    teams: dict[str, Unit],
    today: date,
) -> list[Wave]:
    """The waves of ``wave_dates``, each asking every team, oldest first."""
    for name, opens_on, closes_on, status in wave_dates(today):
        instrument, version = versions[status]
        wave = Wave(
            questionnaire_version=version,
            name=name,
            opens_on=opens_on,
            closes_on=closes_on,
            status=status,
            units=[organisation],
        )
        wave.teams = [WaveTeam(unit=teams[team.slug], invited=team.staff) for team in TEAMS]
        if status is not WaveStatus.DRAFT:
            record_promise(wave, instrument)
        db.session.add(wave)
    db.session.flush()
    return list(db.session.scalars(sa.select(Wave).order_by(Wave.opens_on)).all())


def _add_responses(
    generator: ResponseGenerator,
    waves: list[Wave],
    teams: dict[str, Unit],
    progress: Callable[[Iterator], Iterator],
) -> tuple[int, int]:
    """Every team's responses to every wave, and the actions of the last closed wave; returns
    the numbers of responses and answers."""
    responses = answers = 0
    steps = [(number, wave, team) for number, wave in enumerate(waves) for team in TEAMS]
    for wave_number, wave, team in progress(iter(steps)):
        is_open = wave.status is WaveStatus.OPEN
        response_rows, answer_records = generator.team_wave(team, wave_number, is_open, wave, teams)
        if response_rows:
            db.session.execute(sa.insert(Response), response_rows)
            db.session.execute(sa.insert(Answer), answer_records)
        responses += len(response_rows)
        answers += len(answer_records)
        if not is_open and wave_number == len(waves) - 2:
            wave_team = next(wt for wt in wave.teams if wt.unit_id == teams[team.slug].id)
            for kind, scale_code, description, owner, status in ACTIONS.get(team.slug, []):
                wave_team.actions.append(
                    TeamAction(
                        kind=kind,
                        scale_code=scale_code,
                        description=description,
                        owner=owner,
                        review_on=wave.closes_on + timedelta(days=90),
                        status=status,
                    )
                )
    db.session.flush()
    return responses, answers


class ResponseGenerator:
    """Draws anonymous responses for one team and wave from the team's profile."""

    def __init__(self, instruments: dict[int, Instrument], seed: int):
        #: The instrument of each questionnaire version, by version id.
        self.instruments = instruments
        self.rng = np.random.default_rng(seed)
        # Reproducible made-up data, not secrets: a seeded generator on purpose.
        self.ids = random.Random(seed)  # noqa: S311
        # A fixed per-team, per-scale deviation, so teams differ in shape, not only in level.
        self.team_scale_effect: dict[tuple[str, str], float] = {}

    def _effect(self, team: DemoTeam, key: str) -> float:
        if (team.slug, key) not in self.team_scale_effect:
            self.team_scale_effect[team.slug, key] = float(self.rng.normal(0, 0.25))
        return self.team_scale_effect[team.slug, key]

    def _new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4)

    def team_wave(self, team, wave_number, is_open, wave, units):
        rate = self.rng.uniform(0.35, 0.55) if is_open else self.rng.uniform(0.65, 0.9)
        count = max(1, round(team.staff * rate))
        days = max(1, (wave.closes_on - wave.opens_on).days if not is_open else 10)
        response_rows, rows = [], []
        for _ in range(count):
            response_id = self._new_id()
            response_rows.append(
                {
                    "id": response_id,
                    "wave_id": wave.id,
                    "unit_id": units[team.slug].id,
                    "submitted_on": wave.opens_on + timedelta(days=int(self.rng.integers(0, days))),
                    "language": "en" if self.rng.random() < 0.08 else "nl",
                }
            )
            instrument = self.instruments[wave.questionnaire_version_id]
            rows.extend(answer_rows(response_id, self._answers(instrument, team, wave_number)))
        return response_rows, rows

    def _answers(self, instrument: Instrument, team: DemoTeam, wave_number: int) -> dict[str, dict]:
        """One respondent's answers, in the form a draft holds them (``responding.answer_rows``)."""
        person = float(self.rng.normal(0, 0.45))
        level = team.level + team.trend * wave_number + person
        answers: dict[str, dict] = {}
        for item in instrument.all_items():
            if item.item_type.is_likert:
                key = item.scale or item.code
                mean = SCALE_MEANS.get(item.scale or "", ITEM_MEANS.get(item.code, 3.3))
                if item.dont_know and self.rng.random() < (0.09 if key == "B5" else 0.03):
                    answers[item.code] = {"dont_know": True}
                    continue
                latent = mean + level + self._effect(team, key) + self.rng.normal(0, 0.55)
                value = int(np.clip(round(latent), 1, 5))
                answers[item.code] = {"value": reversed_value(value) if item.reverse else value}
            elif item.type == "grid":
                if self.rng.random() < 0.2:  # the deep dive is optional; some skip it
                    continue
                cells = []
                for row in item.rows:
                    for column in item.columns:
                        logit = (
                            level * 1.2
                            + GRID_ROW_BIAS.get(row.code, 0)
                            + GRID_COLUMN_BIAS.get(column.code, 0)
                            - 0.2
                        )
                        if self.rng.random() < 1 / (1 + np.exp(-logit)):
                            cells.append([row.code, column.code])
                answers[item.code] = {"cells": cells}
            elif item.type == "text":
                pool = COMMENTS.get(item.code)
                if pool and self.rng.random() < 0.25:
                    answers[item.code] = {"text": pool[int(self.rng.integers(len(pool)))]}
            elif item.type == "single_choice" and self.rng.random() < 0.8:
                values = sorted(item.item_type.valid_values(item))
                answers[item.code] = {"value": int(self.rng.choice(values))}
        return answers
