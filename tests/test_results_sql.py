"""The team page's figures from SQL aggregates equal those of the former pandas computation.

``legacy_team_results`` below is the former path of ``survey.services.results`` (every answer of
the team loaded into pandas, scores recomputed, ``reports.statistics`` over them), kept here as
the reference. Every figure a team page shows is compared: on random answers (with "don't know",
skipped questions, ticked grid cells and comments) and on every ended wave team of the demo
organisation, where the rendered team pages must be identical byte for byte.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
import uuid
from dataclasses import fields
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from questionnaires import Instrument, Item
from reports.scores import respondent_scale_scores
from reports.statistics import (
    answer_counts,
    change_between,
    item_statistics,
    scale_statistics,
    tick_shares,
)
from survey.access import manages_team
from survey.anonymity import Policy, gate_group, visible_comments
from survey.extensions import db
from survey.models import (
    Account,
    Answer,
    Response,
    Unit,
    WaveState,
    WaveStatus,
    WaveTeam,
)
from survey.services import results
from survey.services.questionnaires import instrument_of
from survey.services.results import (
    Comments,
    GridResult,
    GroupResult,
    ItemResult,
    ScaleResult,
    TeamResults,
    team_results,
)
from survey.services.scale_scores import of_wave, store_scale_scores
from survey.services.settings import wave_policy
from survey.services.summary import team_summary
from survey.services.team_figures import store_wave_figures
from tests.conftest import login
from tests.test_manager_trends import ANKER, PASSWORD

# --- the former pandas path, as it was --------------------------------------------------------


def _scored_items(instrument: Instrument) -> pd.DataFrame:
    return pd.DataFrame(
        [(i.code, s.code, i.reverse) for s in instrument.scales() for i in s.items],
        columns=["item_code", "scale_code", "reverse"],
    )


def _team_answers(wave_team: WaveTeam) -> pd.DataFrame:
    columns = ["response_id", "item_code", "grid_row", "grid_column", "value", "dont_know", "text"]
    rows = db.session.execute(
        sa.select(*(getattr(Answer, column) for column in columns))
        .join(Response, Answer.response_id == Response.id)
        .where(Response.wave_id == wave_team.wave_id, Response.unit_id == wave_team.unit_id)
    ).all()
    frame = pd.DataFrame([tuple(row) for row in rows], columns=columns)
    return frame.astype({"value": float, "dont_know": bool})


def _likert(answers: pd.DataFrame) -> pd.DataFrame:
    return answers[answers["grid_row"] == ""][["response_id", "item_code", "value", "dont_know"]]


def _scores(wave_team: WaveTeam, policy: Policy) -> pd.DataFrame | None:
    if not gate_group(results._response_count(wave_team), policy).shown:
        return None
    answers = _likert(_team_answers(wave_team))
    items = _scored_items(instrument_of(wave_team.wave))
    return respondent_scale_scores(answers[~answers["dont_know"]], items)


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _item_result(item: Item, by_item: dict, policy: Policy) -> ItemResult:
    row = by_item.get(item.code)
    verdict = gate_group(int(row["n"]) if row else 0, policy)
    if not verdict.shown:
        return ItemResult(item, verdict)
    spread = policy.shows_spread(verdict.n)
    return ItemResult(
        item,
        verdict,
        mean=_number(row["mean"]),
        pct_favourable=_number(row["pct_favourable"]),
        pct_dont_know=_number(row["pct_dont_know"]),
        counts=tuple(int(row[value]) for value in range(1, 6)) if spread else None,
    )


def _scale_result(scale, row, counts, by_item, policy, change, organisation) -> ScaleResult:
    verdict = gate_group(int(row["n"]), policy)
    if not verdict.shown:
        return ScaleResult(scale, verdict, organisation=organisation)
    items = tuple(_item_result(item, by_item, policy) for item in scale.items)
    if not all(item.verdict.shown for item in items):
        return ScaleResult(
            scale, verdict, mean=float(row["mean"]), organisation=organisation, items_shown=False
        )
    spread = policy.shows_spread(verdict.n)
    rwg = row["rwg"]
    return ScaleResult(
        scale,
        verdict,
        mean=float(row["mean"]),
        pct_favourable=_number(row["pct_favourable"]),
        pct_dont_know=_number(row["pct_dont_know"]),
        sd=_number(row["sd"]) if spread else None,
        rwg=float(rwg) if spread and not pd.isna(rwg) else None,
        counts=tuple(int(counts[value]) for value in range(1, 6)) if spread else None,
        change=change,
        organisation=organisation,
        items=items,
    )


def _change(code, current, before, policy):
    if before is None or code not in before or code not in current:
        return None
    earlier, now = before[code].dropna(), current[code].dropna()
    if not policy.shows_spread(len(earlier)) or not policy.shows_spread(len(now)):
        return None
    return change_between(earlier, now)


def _grid_result(item: Item, answers: pd.DataFrame, policy: Policy) -> GridResult:
    ticks = answers[(answers["item_code"] == item.code) & (answers["grid_row"] != "")]
    verdict = gate_group(ticks["response_id"].nunique(), policy)
    if not verdict.shown:
        return GridResult(item, verdict)
    shares = tick_shares(ticks[["response_id", "grid_row", "grid_column"]], verdict.n)
    return GridResult(item, verdict, {cell: float(share) for cell, share in shares.items()})


def _comments(item: Item, answers: pd.DataFrame, respondents: int, policy: Policy):
    texts = answers.loc[(answers["item_code"] == item.code) & answers["text"].notna(), "text"]
    return visible_comments([text for text in texts if text.strip()], respondents, policy)


def legacy_team_results(wave_team: WaveTeam, policy: Policy) -> TeamResults:
    """The former ``team_results``: every answer of the team through pandas."""
    instrument = instrument_of(wave_team.wave)
    team_verdict = gate_group(results._response_count(wave_team), policy)
    if not team_verdict.shown:
        hidden = [ScaleResult(scale, team_verdict) for scale in instrument.scales()]
        return TeamResults(
            team_verdict,
            wave_team.invited,
            hidden,
            instrument,
            comments_enabled=policy.comments_enabled,
            policy=policy,
        )
    answers = _team_answers(wave_team)
    likert = _likert(answers)
    items = _scored_items(instrument)
    current = respondent_scale_scores(likert[~likert["dont_know"]], items)
    scored = likert[likert["item_code"].isin(items["item_code"])]
    by_scale = scale_statistics(scored, items, scores=current).to_dict("index")
    counts = answer_counts(likert, items).to_dict("index")
    by_item = item_statistics(likert).to_dict("index")
    previous = results.previous_wave_team(wave_team)
    before = _scores(previous, policy) if previous else None
    organisation = results.organisation_means(wave_team.wave, instrument, policy)
    scales = [
        _scale_result(
            scale,
            by_scale[scale.code],
            counts[scale.code],
            by_item,
            policy,
            _change(scale.code, current, before, policy),
            organisation.get(scale.code),
        )
        for scale in instrument.scales()
    ]
    return TeamResults(
        team_verdict,
        wave_team.invited,
        scales,
        instrument,
        previous.wave if previous else None,
        previous_team=previous,
        groups=[
            GroupResult(group, tuple(_item_result(item, by_item, policy) for item in group.items))
            for group in instrument.groups()
            if any(item.item_type.is_likert for item in group.items)
        ],
        grids=[_grid_result(i, answers, policy) for i in results._items_of(instrument, "grid")],
        comments=[
            Comments(item, _comments(item, answers, team_verdict.n, policy))
            for item in results._items_of(instrument, "text")
        ],
        comments_enabled=policy.comments_enabled,
        policy=policy,
        summary=team_summary(wave_team, scales, policy),
    )


# --- comparing ---------------------------------------------------------------------------------


def figures_of(team: TeamResults) -> dict[str, object]:
    """Every figure the team page can show, by a name that says where it is."""
    figures: dict[str, object] = {"responses": team.responses, "summary": team.summary}

    def item(prefix: str, result: ItemResult) -> None:
        for name in ("verdict", "mean", "pct_favourable", "pct_dont_know", "counts"):
            figures[f"{prefix} {result.item.code} {name}"] = getattr(result, name)

    for scale in team.scales:
        prefix = f"scale {scale.scale.code}"
        for name in ("verdict", "mean", "pct_favourable", "pct_dont_know", "sd", "rwg", "counts"):
            figures[f"{prefix} {name}"] = getattr(scale, name)
        figures[f"{prefix} items_shown"] = scale.items_shown
        figures[f"{prefix} organisation"] = scale.organisation
        figures[f"{prefix} change"] = scale.change and (
            scale.change.difference,
            scale.change.low,
            scale.change.high,
            scale.change.effect_size,
        )
        for result in scale.items:
            item(prefix, result)
    for group in team.groups:
        for result in group.items:
            item(f"group {group.group.code}", result)
    for grid in team.grids:
        figures[f"grid {grid.item.code}"] = (grid.verdict, grid.shares)
    for comments in team.comments:
        texts = comments.texts
        figures[f"comments {comments.item.code}"] = None if texts is None else sorted(texts)
    return figures


def _close(old: object, new: object) -> bool:
    if dataclasses.is_dataclass(old) and type(old) is type(new):
        return all(_close(getattr(old, f.name), getattr(new, f.name)) for f in fields(old))
    if isinstance(old, float) and isinstance(new, float):
        return math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(old, tuple | list) and isinstance(new, tuple | list) and len(old) == len(new):
        return all(_close(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        return all(_close(old[key], new[key]) for key in old)
    return old == new


def assert_same_figures(wave_team: WaveTeam, policy: Policy) -> int:
    old, new = (
        figures_of(legacy_team_results(wave_team, policy)),
        figures_of(team_results(wave_team, policy)),
    )
    assert old.keys() == new.keys()
    differ = {name: (old[name], new[name]) for name in old if not _close(old[name], new[name])}
    assert not differ, differ
    return sum(value is not None for value in old.values())


# --- random answers ------------------------------------------------------------------------


def random_answers(instrument: Instrument, rng: random.Random) -> dict[str, object]:
    answers: dict[str, object] = {}
    for item in instrument.all_items():
        if rng.random() < 0.12:
            continue  # skipped
        if item.type == "grid":
            cells = [(r.code, c.code) for r in item.rows for c in item.columns]
            answers[item.code] = rng.sample(cells, rng.randint(0, min(3, len(cells))))
        elif item.type == "text":
            answers[item.code] = rng.choice(["", "  ", "Goed zo.", "Meer overleg graag."])
        elif item.item_type.is_likert and item.dont_know and rng.random() < 0.1:
            answers[item.code] = "dk"
        elif item.valid_values:
            answers[item.code] = rng.choice(sorted(item.valid_values))
    return answers


def add_random_responses(wave_team: WaveTeam, count: int, rng: random.Random) -> None:
    instrument = instrument_of(wave_team.wave)
    for _ in range(count):
        response = Response(
            id=uuid.UUID(int=rng.getrandbits(128)),
            wave_id=wave_team.wave_id,
            unit_id=wave_team.unit_id,
            submitted_on=date(2026, 3, 1),
            language="nl",
        )
        db.session.add(response)
        for code, value in random_answers(instrument, rng).items():
            if value == "dk":
                db.session.add(Answer(response=response, item_code=code, dont_know=True))
            elif isinstance(value, list):
                for row, column in value:
                    db.session.add(
                        Answer(response=response, item_code=code, grid_row=row, grid_column=column)
                    )
            elif isinstance(value, str):
                db.session.add(Answer(response=response, item_code=code, text=value))
            else:
                db.session.add(Answer(response=response, item_code=code, value=value))
    db.session.flush()
    store_scale_scores(of_wave(wave_team.wave_id))
    db.session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_answers_give_the_same_figures_as_the_pandas_path(tree, make_wave, seed):
    rng = random.Random(seed)
    first = make_wave([tree["north"]], status=WaveStatus.CLOSED, name="Najaar 2025")
    second = make_wave([tree["north"]], status=WaveStatus.CLOSED)
    for wave in (first, second):
        for wave_team in wave.teams:
            add_random_responses(wave_team, rng.choice([3, 6, 12, 25]), rng)
    policies = [Policy(), Policy(min_group_size=5, spread_threshold=10)]
    shown = sum(
        assert_same_figures(wave_team, policy) for wave_team in second.teams for policy in policies
    )
    assert shown > 0
    # the same from the figures kept when a wave ends (``team_figures.store_wave_figures``)
    for wave in (first, second):
        assert store_wave_figures(wave, instrument_of(wave)) == len(wave.teams)
    db.session.commit()
    for wave_team in second.teams:
        for policy in policies:
            assert_same_figures(wave_team, policy)


# --- the demo organisation -------------------------------------------------------------------


class _Sorting:
    """In place of ``random.SystemRandom`` for comments: the same order on both paths."""

    def shuffle(self, texts: list[str]) -> None:
        texts.sort()


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", page)


def test_the_demo_team_pages_are_the_same_byte_for_byte(demo, client, monkeypatch):
    wave_teams = [
        wave_team
        for wave_team in db.session.scalars(sa.select(WaveTeam))
        if wave_team.wave.state() is WaveState.CLOSED
    ]
    assert len(wave_teams) > 10
    for wave_team in wave_teams:
        assert_same_figures(wave_team, wave_policy(wave_team.wave))
    monkeypatch.setattr("survey.anonymity.random.SystemRandom", _Sorting)
    manager = db.session.scalar(sa.select(Account).where(Account.email == ANKER))
    login(client, ANKER, PASSWORD)
    pages = 0
    for wave_team in wave_teams:
        if not manages_team(manager, wave_team.unit_id):
            continue
        unit = db.session.get(Unit, wave_team.unit_id)
        url = f"/dashboard/waves/{wave_team.wave_id}/teams/{unit.slug}"
        new = client.get(url).get_data(as_text=True)
        monkeypatch.setattr("survey.web.team_pages.team_results", legacy_team_results)
        old = client.get(url).get_data(as_text=True)
        monkeypatch.setattr("survey.web.team_pages.team_results", team_results)
        assert _without_tokens(new) == _without_tokens(old), url
        pages += 1
    assert pages > 0


def test_the_kept_counts_follow_a_team_whose_responses_change(tree, make_wave):
    """Figures kept for an ended wave are used only while they count the responses the team
    holds: a response more, or answers deleted, and the page counts afresh."""
    rng = random.Random(7)
    wave = make_wave([tree["team-a"]], status=WaveStatus.CLOSED)
    wave_team = wave.teams[0]
    add_random_responses(wave_team, 6, rng)
    store_wave_figures(wave, instrument_of(wave))
    db.session.commit()
    policy = Policy()
    assert team_results(wave_team, policy).responses.n == 6
    add_random_responses(wave_team, 5, rng)
    assert team_results(wave_team, policy).responses.n == 11
    assert_same_figures(wave_team, policy)
    db.session.execute(sa.delete(Response).where(Response.wave_id == wave.id))
    db.session.commit()
    add_random_responses(wave_team, 11, rng)
    assert_same_figures(wave_team, policy)
