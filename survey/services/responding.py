"""Answering a wave: drafts, pausing and resuming, and the one-time submission."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from questionnaires import Instrument, Item
from questionnaires.paging import Page, instrument_pages
from survey.caching import KeptPerObject
from survey.extensions import db
from survey.models import Answer, Draft, Response, Wave, WaveStatus, WaveTeam, now_utc
from survey.services import scale_scores
from survey.services.questionnaires import instrument_of
from survey.services.settings import current_settings, first_with_settings

RESUME_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RESUME_LENGTH = 12
#: Submissions are counted per bucket of this many seconds to spot a burst (padding a team);
#: only the bucket's number and count are kept, and cleared when the wave closes.
BURST_BUCKET_SECONDS = 600


class TeamComplete(Exception):  # noqa: N818 (a state, not a fault)
    """The team has already given as many completed responses as it has staff."""


def left_out_domains(wave: Wave, instrument: Instrument) -> frozenset[str]:
    """The codes of the life domain items not asked in ``wave``: frozen when it opened
    (``settings.record_promise``); for a wave not yet open (a preview), the settings' choice."""
    if wave.life_domains is not None:
        asked = set(wave.life_domains)
        return frozenset(
            item.code
            for group in instrument.groups()
            if group.domains
            for item in group.items
            if item.code not in asked
        )
    return settings_left_out_domains(instrument)


def settings_left_out_domains(instrument: Instrument) -> frozenset[str]:
    """The codes of the life domain items the organisation's settings leave out today."""
    settings = current_settings()
    if settings.life_domains is None:
        return frozenset()
    return frozenset(
        item.code
        for group in instrument.groups()
        if group.domains
        for item in group.items
        if not settings.asks_domain(item.code)
    )


#: ``Instrument.without`` per parsed instrument and left-out codes.
_ASKED: KeptPerObject[Instrument, Instrument] = KeptPerObject(64)


def asked_instrument(wave: Wave) -> Instrument:
    """The wave's instrument as its respondents are asked it: without the life domains that
    are not asked in it. The same object for the same choice, so that what is built from a
    section (``survey.forms.section_form``) can be kept too."""
    instrument = instrument_of(wave)
    left_out = left_out_domains(wave, instrument)
    if not left_out:
        return instrument
    return _ASKED.get(instrument, left_out, lambda: instrument.without(left_out))


#: ``instrument_pages`` per asked instrument: the same pages (objects) for the same instrument.
_PAGES: KeptPerObject[Instrument, tuple[Page, ...]] = KeptPerObject(64)


def asked_pages(wave: Wave) -> tuple[Page, ...]:
    """The pages of the wave's instrument as its respondents are asked it."""
    instrument = asked_instrument(wave)
    return _PAGES.get(instrument, None, lambda: instrument_pages(instrument))


def current_page(draft: Draft, pages: tuple[Page, ...]) -> int:
    """The page to continue a draft on: the furthest it reached, within the pages there are
    (a draft saved when a step was a whole section may point past them; its answers are kept
    per item, so any page shows them)."""
    return min(max(1, draft.step), len(pages))


def open_items(pages: tuple[Page, ...], answers: dict[str, Any]) -> list[tuple[int, Item]]:
    """The questions a draft has not answered yet, each with the number of its page."""
    return [
        (page.number, item)
        for page in pages
        for item in page.all_items()
        if item.code not in answers
    ]


def _only_asked(wave_id: int, answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``answers`` without those to life domains that are not asked in the wave."""
    wave = db.session.get_one(Wave, wave_id)
    left_out = left_out_domains(wave, instrument_of(wave))
    return {code: answer for code, answer in answers.items() if code not in left_out}


def wave_team_by_link(link_slug: str) -> WaveTeam | None:
    """The wave team of a team link, with its team, wave and questionnaire version (the landing
    page shows all three): one query. Text no link has (PostgreSQL refuses a NUL) asks none."""
    if "\x00" in link_slug:
        return None
    row = first_with_settings(
        sa.select(WaveTeam)
        .where(WaveTeam.link_slug == link_slug)
        .options(
            joinedload(WaveTeam.unit),
            joinedload(WaveTeam.wave).joinedload(Wave.questionnaire_version),
        )
    )
    return row[0] if row else None


def is_capped(wave_team: WaveTeam) -> bool:
    """Whether the team link's responses are capped by the team's expected staff: not in a
    codes-only wave (its codes cap it already), not when the staff is unknown."""
    return wave_team.invited is not None and not wave_team.wave.codes_only


def completed_responses(wave_team: WaveTeam) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Response)
        .where(Response.wave_id == wave_team.wave_id, Response.unit_id == wave_team.unit_id)
    )


def team_is_complete(wave_team: WaveTeam) -> bool:
    """The team has given as many completed responses as its expected staff: its link starts
    and submits no more (docs/anonymity.md, "Padding a team")."""
    return is_capped(wave_team) and completed_responses(wave_team) >= wave_team.invited


def start_draft(wave_team: WaveTeam) -> Draft:
    draft = Draft(
        wave_id=wave_team.wave_id,
        unit_id=wave_team.unit_id,
        answers={},
        step=1,
        expires_on=wave_team.wave.closes_on,
    )
    db.session.add(draft)
    db.session.flush()
    # Its wave team is known: the first page's address needs it, without a query to load it.
    set_committed_value(draft, "wave_team", wave_team)
    return draft


#: A respondent's page needs the draft, its wave and the wave's questionnaire version: one query.
_DRAFT_WITH_WAVE = (
    joinedload(Draft.wave_team).joinedload(WaveTeam.wave).joinedload(Wave.questionnaire_version)
)


def get_draft(draft_id: str | None) -> Draft | None:
    """The draft, with its wave team, wave and questionnaire version, and the settings when
    the request has not read them yet: one query (none when the session holds it already)."""
    try:
        key = uuid.UUID(str(draft_id)) if draft_id else None
    except ValueError:
        return None
    if key is None:
        return None
    if db.session.identity_map.get(db.session.identity_key(Draft, key)) is not None:
        return db.session.get(Draft, key, options=[_DRAFT_WITH_WAVE])
    row = first_with_settings(sa.select(Draft).where(Draft.id == key).options(_DRAFT_WITH_WAVE))
    return row[0] if row else None


def wave_by_id(wave_id: int) -> Wave | None:
    """A wave (the thanks page's), and the settings when the request has not read them yet:
    one query."""
    row = first_with_settings(sa.select(Wave).where(Wave.id == wave_id))
    return row[0] if row else None


def forget_draft(draft: Draft) -> None:
    """A draft its browser no longer reaches (left idle, or started again): deleted, unless it
    was paused with a resume code, which alone reaches it from then on."""
    if draft.resume_code_sha256 is None:
        delete_draft(draft)


def save_answers(draft: Draft, items: list[Item], answers: dict[str, dict[str, Any]]) -> None:
    """Replace the draft's answers to ``items`` (one page) with ``answers``."""
    kept = dict(draft.answers)
    for item in items:
        kept.pop(item.code, None)
        if item.code in answers:
            kept[item.code] = answers[item.code]
    draft.answers = kept  # a new dict, so the JSON column is seen as changed


def _resume_hash(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_resume_code(draft: Draft) -> str:
    """A fresh resume code for ``draft`` (any earlier one stops working); only its hash is kept."""
    code = "".join(secrets.choice(RESUME_ALPHABET) for _ in range(RESUME_LENGTH))
    draft.resume_code_sha256 = _resume_hash(code)
    db.session.flush()
    return "-".join(code[i : i + 4] for i in range(0, RESUME_LENGTH, 4))


def draft_by_resume_code(code: str) -> Draft | None:
    if not code.strip():
        return None
    return db.session.scalar(sa.select(Draft).where(Draft.resume_code_sha256 == _resume_hash(code)))


def answer_rows(response_id: uuid.UUID, answers: dict[str, dict[str, Any]]) -> list[dict]:
    rows = []
    for code, answer in answers.items():
        base = {
            "response_id": response_id,
            "item_code": code,
            "grid_row": "",
            "grid_column": "",
            "value": None,
            "dont_know": False,
            "text": None,
        }
        if "cells" in answer:
            # A cell ticked twice (a hand-made post) is one answer: the cell is the row's key.
            cells = dict.fromkeys((row, column) for row, column in answer["cells"])
            rows += [{**base, "grid_row": row, "grid_column": column} for row, column in cells]
        elif answer.get("dont_know"):
            rows.append({**base, "dont_know": True})
        elif "text" in answer:
            rows.append({**base, "text": answer["text"]})
        elif "value" in answer:
            rows.append({**base, "value": int(answer["value"])})
    return rows


def submit_draft(draft_id: uuid.UUID, language: str, today: date | None = None) -> Response | None:
    """Turn a draft into a response, exactly once: the draft row is deleted in the same
    transaction, and a second submission of the same draft finds nothing to delete.

    Raises ``TeamComplete`` (the caller rolls back; the draft is kept) when the team already
    has as many completed responses as staff. The team's row is written first (its burst
    count), which locks it until the commit: of two concurrent last submissions the second
    waits, then counts the first (PostgreSQL's row lock; SQLite has one writer at a time)."""
    draft = db.session.get(Draft, draft_id)
    if draft is None:
        return None
    wave_id, unit_id, answers = draft.wave_id, draft.unit_id, dict(draft.answers)
    wave_team = draft.wave_team  # loaded with the draft on a respondent's page (get_draft)
    # The expected staff as it is now that the row is locked (a concurrent change is seen).
    set_committed_value(wave_team, "invited", record_burst(wave_team.id))
    if team_is_complete(wave_team):
        raise TeamComplete
    db.session.expunge(draft)
    deleted = db.session.execute(sa.delete(Draft).where(Draft.id == draft_id))
    if deleted.rowcount != 1:
        return None
    response = Response(
        wave_id=wave_id, unit_id=unit_id, submitted_on=today or date.today(), language=language
    )
    db.session.add(response)
    db.session.flush()
    rows = answer_rows(response.id, _only_asked(wave_id, answers))
    if rows:
        # Core, not the ORM's bulk insert: that one sends a statement per set of non-empty
        # columns (value, text, grid cell: up to four); this sends the rows in one.
        db.session.execute(sa.insert(Answer.__table__), rows)
        scale_scores.store_scale_scores(scale_scores.of_response(response.id), replace=False)
    return response


def record_burst(wave_team_id: int, now: datetime | None = None) -> int | None:
    """Count a submission in the team's current burst bucket and keep the largest count: one
    UPDATE, atomic (and it takes the row's write lock). No time is stored but the bucket's
    number, which the wave's closing clears (``BURST_BUCKET_SECONDS``). Returns the team's
    expected staff (``invited``) as the locked row holds it."""
    bucket = int((now or now_utc()).timestamp() // BURST_BUCKET_SECONDS)
    count = sa.case((WaveTeam.burst_bucket == bucket, WaveTeam.burst_count + 1), else_=1)
    return db.session.execute(
        sa.update(WaveTeam)
        .where(WaveTeam.id == wave_team_id)
        .values(
            burst_bucket=bucket,
            burst_count=count,
            peak_burst=sa.case((count > WaveTeam.peak_burst, count), else_=WaveTeam.peak_burst),
        )
        .returning(WaveTeam.invited)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def delete_draft(draft: Draft) -> None:
    db.session.delete(draft)
    db.session.flush()


def purge_expired_drafts(today: date | None = None) -> int:
    """Delete the unfinished answers of waves that have closed; returns how many."""
    today = today or date.today()
    closed_waves = sa.select(Wave.id).where(Wave.status == WaveStatus.CLOSED)
    result = db.session.execute(
        sa.delete(Draft).where(sa.or_(Draft.expires_on < today, Draft.wave_id.in_(closed_waves)))
    )
    return result.rowcount
