"""Synthetic organisations for the benchmarks, filled fast.

One organisation with departments of ten teams, closed waves half a year apart and a fixed
number of responses per team and wave. The answers come from a simple model: each team has its
own level, its own drift from wave to wave and its own profile over the scales, and respondents
differ from each other; a few answer "don't know", some tick cells of the C4 grid, some write a
short comment, most give their background.

Rows go in by large batches, never through the web flow nor as one ORM object per answer: with
``COPY ... FROM STDIN`` on PostgreSQL (about three times as fast there), with SQLAlchemy Core
``insert()`` executemany elsewhere. The answer rows are made by ``responding.answer_rows``, the
function a real submission uses, so they follow the same rules (and CHECK constraints). The
scale scores are then stored wave by wave with ``scale_scores.store_scale_scores``, as the demo does
(a submission stores its own). On PostgreSQL the tables are vacuumed and analysed before the
scores and after them, as autovacuum would soon do in production: otherwise the planner works
without statistics and autovacuum may start in the middle of a measurement.

On its own, against a database of your choice (it refuses one that already holds data)::

    python -m tests.benchmarks.generate --size small --database-url sqlite:////tmp/bench.sqlite
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

import questionnaires
from questionnaires import Instrument
from reports.scores import reversed_value
from survey.extensions import db
from survey.models import (
    Answer,
    QuestionnaireVersion,
    Response,
    Role,
    Unit,
    UnitKind,
    Wave,
    WaveStatus,
    WaveTeam,
)
from survey.services import scale_scores, team_figures
from survey.services.accounts import create_account
from survey.services.demo import database_is_empty
from survey.services.questionnaires import instrument_of, store_instrument
from survey.services.responding import answer_rows

INSTRUMENT_FILE = Path(questionnaires.__file__).parent / "krachtspiegel-team-1.yaml"
TEAMS_PER_DEPARTMENT = 10
#: Answer rows per INSERT executemany (or COPY); each batch is committed.
BATCH_ROWS = 50_000
#: Days each wave stays open.
WAVE_DAYS = 28
MANAGER_EMAIL = "leiding@bench.example.org"
MANAGER_PASSWORD = "benchmark-password"
#: A quality officer (Role.QUALITY): sees every unit; same password as the manager.
QUALITY_EMAIL = "kwaliteit@bench.example.org"
ORGANISATION_SLUG = "bench-org"

DONT_KNOW_SHARE = 0.03
GRID_SKIPPED_SHARE = 0.2
TEXT_SHARE = 0.3
BACKGROUND_ANSWERED_SHARE = 0.85
ENGLISH_SHARE = 0.08
COMMENTS = (
    "We vertrekken vanuit wat de cliënt zelf wil.",
    "Meer tijd voor intervisie.",
    "Het netwerk van de cliënt vroeger betrekken.",
    "We vieren kleine stappen.",
    "Minder over problemen schrijven, meer over talenten.",
    "Samen de krachtenanalyse invullen.",
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Size:
    teams: int
    waves: int
    responses_per_team: int

    @property
    def responses(self) -> int:
        return self.teams * self.waves * self.responses_per_team

    def __str__(self) -> str:
        return f"{self.teams} teams × {self.waves} waves × {self.responses_per_team} responses"


SIZES = {
    "small": Size(teams=20, waves=4, responses_per_team=12),
    "medium": Size(teams=200, waves=8, responses_per_team=15),
    #: About 6 million answer rows.
    "large": Size(teams=500, waves=10, responses_per_team=15),
}


@dataclass(frozen=True)
class Generated:
    """What was made, with the handles a benchmark needs."""

    size: Size
    #: Team slugs; the first team is the one a benchmark looks at, its manager sees its department.
    team_slugs: list[str]
    #: Oldest first; all closed.
    wave_ids: list[int]
    manager_email: str
    manager_password: str
    responses: int
    answers: int
    #: Filling the database, scale scores and ``VACUUM ANALYZE`` included.
    seconds: float
    #: Of which storing the scale scores (``scale_scores.store_scale_scores``).
    scoring_seconds: float = 0.0
    #: Of which ``VACUUM ANALYZE``, before and after the scale scores (PostgreSQL only; 0
    #: elsewhere).
    vacuum_seconds: float = 0.0
    #: Counting and keeping the team figures of the latest waves, as closing them does
    #: (``keep_figures``; not part of ``seconds``).
    figures_seconds: float = 0.0
    quality_email: str = QUALITY_EMAIL
    organisation_slug: str = ORGANISATION_SLUG

    @property
    def benchmarked_team(self) -> str:
        return self.team_slugs[0]

    @property
    def latest_wave_id(self) -> int:
        return self.wave_ids[-1]


class StderrProgress:
    """``generated 1200/5000 responses`` on stderr: rewritten in place on a terminal, one line
    per tenth of the work otherwise (so logs stay short)."""

    def __init__(self, verb: str = "generated", noun: str = "responses", every: float = 0.25):
        self.verb, self.noun, self.every = verb, noun, every
        self.terminal = sys.stderr.isatty()
        self.shown_at = 0.0
        self.shown_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        finished = done >= total
        line = f"{self.verb} {done}/{total} {self.noun}"
        if self.terminal:
            now = time.monotonic()
            if finished or now - self.shown_at >= self.every:
                self.shown_at = now
                sys.stderr.write(f"\r{line}" + ("\n" if finished else ""))
                sys.stderr.flush()
        else:
            tenth = done * 10 // max(total, 1)
            if tenth != self.shown_tenth:
                self.shown_tenth = tenth
                print(line, file=sys.stderr, flush=True)


class AnswerModel:
    """Draws the answers of one team's respondents in one wave, in the form a draft holds them
    (the input of ``responding.answer_rows``)."""

    def __init__(self, instrument: Instrument, teams: int, seed: int):
        self.rng = np.random.default_rng(seed)
        items = instrument.all_items()
        unknown = {item.type for item in items} - {"grid", "text", "single_choice"}
        unknown -= {item.type for item in items if item.item_type.is_likert}
        if unknown:
            raise NotImplementedError(f"no answers drawn yet for item types {sorted(unknown)}")

        likert = [item for item in items if item.item_type.is_likert]
        keys = sorted({item.scale or item.code for item in likert})
        self.likert_codes = [item.code for item in likert]
        self.likert_key = np.array([keys.index(item.scale or item.code) for item in likert])
        self.reverse = np.array([item.reverse for item in likert])
        self.dont_know_allowed = np.array([item.dont_know for item in likert])
        #: Where each scale (or ungrouped item) stands across the organisation.
        self.key_mean = self.rng.uniform(2.8, 3.9, len(keys))
        #: Per team: a level, a drift per wave (so waves differ) and a profile over the scales.
        self.team_level = self.rng.normal(0, 0.3, teams)
        self.team_drift = self.rng.normal(0.04, 0.05, teams)
        self.team_profile = self.rng.normal(0, 0.25, (teams, len(keys)))

        self.grids = [
            (item.code, [[row.code, column.code] for row in item.rows for column in item.columns])
            for item in items
            if item.type == "grid"
        ]
        #: Some cells are ticked more often than others (e.g. housing more than meaning).
        self.cell_bias = {code: self.rng.normal(0, 0.6, len(cells)) for code, cells in self.grids}
        self.texts = [item.code for item in items if item.type == "text"]
        self.choices = [
            (item.code, sorted(item.valid_values)) for item in items if item.type == "single_choice"
        ]

    def respondents(self, team: int, wave: int, count: int) -> list[dict[str, dict[str, Any]]]:
        rng = self.rng
        shift = self.team_level[team] + self.team_drift[team] * wave
        person = rng.normal(0, 0.45, (count, 1))
        latent = (
            self.key_mean[self.likert_key]
            + self.team_profile[team, self.likert_key]
            + shift
            + person
            + rng.normal(0, 0.55, (count, len(self.likert_codes)))
        )
        points = np.clip(np.rint(latent), 1, 5).astype(int)
        points = np.where(self.reverse, reversed_value(points), points).tolist()
        dont_know = (
            (rng.random((count, len(self.likert_codes))) < DONT_KNOW_SHARE) & self.dont_know_allowed
        ).tolist()

        grid_ticks = {}
        for code, cells in self.grids:
            chance = 1 / (1 + np.exp(-(self.cell_bias[code] + 1.2 * shift - 2.0)))
            ticked = rng.random((count, len(cells))) < chance
            ticked[rng.random(count) < GRID_SKIPPED_SHARE] = False
            grid_ticks[code] = ticked.tolist()
        written = (rng.random((count, len(self.texts))) < TEXT_SHARE).tolist()
        comment = rng.integers(0, len(COMMENTS), (count, len(self.texts))).tolist()
        answered = (rng.random((count, len(self.choices))) < BACKGROUND_ANSWERED_SHARE).tolist()
        picked = rng.random((count, len(self.choices))).tolist()

        respondents = []
        for r in range(count):
            answers: dict[str, dict[str, Any]] = {
                code: {"dont_know": True} if unsure else {"value": point}
                for code, point, unsure in zip(
                    self.likert_codes, points[r], dont_know[r], strict=True
                )
            }
            for code, cells in self.grids:
                ticked = [
                    cell for cell, tick in zip(cells, grid_ticks[code][r], strict=True) if tick
                ]
                if ticked:
                    answers[code] = {"cells": ticked}
            for i, code in enumerate(self.texts):
                if written[r][i]:
                    answers[code] = {"text": COMMENTS[comment[r][i]]}
            for i, (code, values) in enumerate(self.choices):
                if answered[r][i]:
                    answers[code] = {"value": values[int(picked[r][i] * len(values))]}
            respondents.append(answers)
        return respondents


def prepare_database() -> QuestionnaireVersion:
    """Migrate the current app's database to head and load the team instrument (idempotent)."""
    from flask_migrate import upgrade

    upgrade()
    version = team_instrument_version()
    db.session.commit()
    return version


def team_instrument_version() -> QuestionnaireVersion:
    """The stored version of the team instrument (stored now when it is not yet)."""
    return store_instrument(questionnaires.load_file(INSTRUMENT_FILE), INSTRUMENT_FILE.name).version


def generate(
    size: Size,
    *,
    seed: int = 2026,
    today: date | None = None,
    progress: Progress | None = None,
    keep_figures: int = 0,
) -> Generated:
    """Fill the current app's database (migrated, empty apart from questionnaires) with ``size``:
    units, closed waves, a manager account, responses and answers. Commits as it goes. The team
    figures of the latest ``keep_figures`` waves are then counted and kept, as closing a wave
    does (``team_figures.store_wave_figures``; the pages benchmarked read the latest two)."""
    if not database_is_empty():
        raise RuntimeError("the database already holds units, accounts or waves")
    started = time.perf_counter()
    progress = progress or StderrProgress()
    version = team_instrument_version()
    instrument = Instrument.from_dict(version.definition)

    organisation, teams = _unit_tree(size.teams)
    create_account(MANAGER_EMAIL, MANAGER_PASSWORD, Role.MANAGER, [teams[0].parent])
    create_account(QUALITY_EMAIL, MANAGER_PASSWORD, Role.QUALITY)
    waves = _closed_waves(version, organisation, size.waves, today or date.today())
    db.session.flush()
    team_ids = [team.id for team in teams]
    team_slugs = [team.slug for team in teams]
    wave_plan = [(wave.id, wave.opens_on) for wave in waves]
    invited = round(size.responses_per_team / 0.75)
    db.session.execute(
        sa.insert(WaveTeam.__table__),
        [
            {"wave_id": wave_id, "unit_id": unit_id, "invited": invited}
            for wave_id, _ in wave_plan
            for unit_id in team_ids
        ],
    )
    db.session.commit()

    model = AnswerModel(instrument, len(teams), seed)
    draw = random.Random(seed)
    responses: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    responses_done = answers_done = 0
    progress(0, size.responses)
    for wave_number, (wave_id, opens_on) in enumerate(wave_plan):
        for team_number, unit_id in enumerate(team_ids):
            for drawn in model.respondents(team_number, wave_number, size.responses_per_team):
                response_id = uuid.UUID(int=draw.getrandbits(128), version=4)
                responses.append(
                    {
                        "id": response_id,
                        "wave_id": wave_id,
                        "unit_id": unit_id,
                        "submitted_on": opens_on + timedelta(days=draw.randrange(WAVE_DAYS)),
                        "language": "en" if draw.random() < ENGLISH_SHARE else "nl",
                    }
                )
                answers.extend(answer_rows(response_id, drawn))
            if len(answers) >= BATCH_ROWS:
                responses_done += len(responses)
                answers_done += _insert(responses, answers)
                progress(responses_done, size.responses)
    if responses:
        responses_done += len(responses)
        answers_done += _insert(responses, answers)
    progress(responses_done, size.responses)
    # Statistics first, or PostgreSQL scores each wave without them (3.4 s a wave at large
    # instead of 1.3 s); then once more for the scores.
    vacuum_seconds = vacuum_analyze()
    scoring_seconds = store_scale_scores(
        [wave_id for wave_id, _ in wave_plan], StderrProgress("scored", "waves")
    )
    vacuum_seconds += vacuum_analyze()
    seconds = time.perf_counter() - started
    latest = [wave_id for wave_id, _ in wave_plan][-keep_figures:] if keep_figures else []
    figures_seconds = keep_wave_figures(latest, StderrProgress("counted the figures of", "waves"))
    return Generated(
        size=size,
        team_slugs=team_slugs,
        wave_ids=[wave_id for wave_id, _ in wave_plan],
        manager_email=MANAGER_EMAIL,
        manager_password=MANAGER_PASSWORD,
        responses=responses_done,
        answers=answers_done,
        seconds=seconds,
        scoring_seconds=scoring_seconds,
        vacuum_seconds=vacuum_seconds,
        figures_seconds=figures_seconds,
    )


def store_scale_scores(wave_ids: list[int], progress: Progress) -> float:
    """Store the scale scores of every response, one wave per transaction, as the demo does;
    returns the seconds it took."""
    started = time.perf_counter()
    progress(0, len(wave_ids))
    for number, wave_id in enumerate(wave_ids, start=1):
        scale_scores.store_scale_scores(scale_scores.of_wave(wave_id))
        db.session.commit()
        progress(number, len(wave_ids))
    return time.perf_counter() - started


def keep_wave_figures(wave_ids: list[int], progress: Progress) -> float:
    """Count and keep the team figures of each wave, one per transaction, as closing it does;
    returns the seconds it took."""
    started = time.perf_counter()
    progress(0, len(wave_ids))
    for number, wave_id in enumerate(wave_ids, start=1):
        wave = db.session.get(Wave, wave_id)
        team_figures.store_wave_figures(wave, instrument_of(wave))
        db.session.commit()
        progress(number, len(wave_ids))
    return time.perf_counter() - started


def vacuum_analyze() -> float:
    """On PostgreSQL, ``VACUUM ANALYZE`` the database (statistics for the planner, visibility
    map for index-only scans), as autovacuum would do soon after a bulk load; returns its
    seconds. Elsewhere nothing: the app never runs SQLite's ``ANALYZE``."""
    if db.engine.dialect.name != "postgresql":
        return 0.0
    print("VACUUM ANALYZE ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def _insert(responses: list[dict[str, Any]], answers: list[dict[str, Any]]) -> int:
    """Insert and commit one batch, then empty the lists; returns the number of answer rows."""
    count = len(answers)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, Response.__table__, responses)
        _copy(connection, Answer.__table__, answers)
    else:
        db.session.execute(sa.insert(Response.__table__), responses)
        db.session.execute(sa.insert(Answer.__table__), answers)
    db.session.commit()
    responses.clear()
    answers.clear()
    return count


def _copy(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """``COPY table FROM STDIN`` with psycopg, in the session's transaction."""
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def _unit_tree(team_count: int) -> tuple[Unit, list[Unit]]:
    """An organisation with departments of up to ten teams; returns it and the teams."""
    organisation = Unit(slug=ORGANISATION_SLUG, name="Benchmark vzw", kind=UnitKind.ORGANISATION)
    teams = []
    for number in range(team_count):
        if number % TEAMS_PER_DEPARTMENT == 0:
            department_number = number // TEAMS_PER_DEPARTMENT + 1
            department = Unit(
                slug=f"bench-department-{department_number:02d}",
                name=f"Afdeling {department_number:02d}",
                kind=UnitKind.DEPARTMENT,
                parent=organisation,
            )
        teams.append(
            Unit(
                slug=f"bench-team-{number + 1:03d}",
                name=f"Team {number + 1:03d}",
                kind=UnitKind.TEAM,
                parent=department,
            )
        )
    db.session.add(organisation)
    db.session.flush()
    return organisation, teams


def _closed_waves(
    version: QuestionnaireVersion, organisation: Unit, count: int, today: date
) -> list[Wave]:
    """``count`` closed waves, one every six months, the latest opened six months ago."""
    waves = []
    for number in range(1, count + 1):
        opens_on = _months_before(today, 6 * (count - number + 1))
        waves.append(
            Wave(
                questionnaire_version=version,
                name=f"Wave {number} ({opens_on:%Y-%m})",
                opens_on=opens_on,
                closes_on=opens_on + timedelta(days=WAVE_DAYS),
                status=WaveStatus.CLOSED,
                units=[organisation],
            )
        )
    db.session.add_all(waves)
    return waves


def _months_before(today: date, months: int) -> date:
    month_index = today.year * 12 + today.month - 1 - months
    return date(month_index // 12, month_index % 12 + 1, 1)


def main(argv: list[str] | None = None) -> None:
    from survey import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--database-url", required=True, help="e.g. sqlite:////tmp/bench.sqlite")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "SECRET_KEY": "benchmarks-only-secret",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        prepare_database()
        print(f"Generating {args.size}: {size} ...", file=sys.stderr)
        generated = generate(size, seed=args.seed)
        db.engine.dispose()
    print(
        f"{generated.responses} responses, {generated.answers} answers in "
        f"{generated.seconds:.1f} s (scale scores {generated.scoring_seconds:.1f} s, "
        f"VACUUM ANALYZE {generated.vacuum_seconds:.1f} s); manager {generated.manager_email} "
        f"(password {generated.manager_password}) sees {generated.benchmarked_team}'s department; "
        f"quality officer {generated.quality_email} (same password) sees every unit."
    )


if __name__ == "__main__":
    main()
