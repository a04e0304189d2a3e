"""Anonymous responses and their answers.

Nothing here may name a person: no account, access code, address, user agent or time of day.
The schema test in ``tests/test_models.py`` lists the only columns these tables may have.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base
from survey.models.waves import WaveTeam


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["wave_id", "unit_id"],
            ["wave_teams.wave_id", "wave_teams.unit_id"],
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("language IN ('nl', 'en')", name="known_language"),
        sa.Index(None, "wave_id", "unit_id"),
    )

    #: Random, so that ids reveal nothing about the order of submission.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    wave_id: Mapped[int]
    unit_id: Mapped[int]
    #: The day only: never the time.
    submitted_on: Mapped[date]
    language: Mapped[str] = mapped_column(sa.String(2))

    wave_team: Mapped[WaveTeam] = relationship(viewonly=True)
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(Base):
    """One answer: a value, "don't know / not applicable", one ticked grid cell, or text."""

    __tablename__ = "answers"
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN value IS NOT NULL THEN 1 ELSE 0 END)"
            " + (CASE WHEN dont_know THEN 1 ELSE 0 END)"
            " + (CASE WHEN text IS NOT NULL THEN 1 ELSE 0 END)"
            " + (CASE WHEN grid_row <> '' THEN 1 ELSE 0 END) = 1",
            name="exactly_one_kind",
        ),
        sa.CheckConstraint("(grid_row = '') = (grid_column = '')", name="whole_grid_cell"),
    )

    response_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    #: For a tick grid: the row and column codes of one ticked cell; '' otherwise.
    grid_row: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default="")
    grid_column: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default="")
    #: A Likert point (1–5) or the code of the chosen option.
    value: Mapped[int | None] = mapped_column(sa.SmallInteger)
    dont_know: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str | None] = mapped_column(sa.Text)

    response: Mapped[Response] = relationship(back_populates="answers")


class Draft(Base):
    """Unfinished answers of one respondent, until they submit or the wave closes.

    Like a response it names no person and holds no time; it is reached through the signed
    session cookie of the browser that started it, or through a resume code (hash only) that the
    respondent wrote down. Nothing links it to the access code that opened it.
    """

    __tablename__ = "drafts"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["wave_id", "unit_id"],
            ["wave_teams.wave_id", "wave_teams.unit_id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    wave_id: Mapped[int]
    unit_id: Mapped[int]
    #: item code → {"value": n} | {"dont_know": true} | {"text": s} | {"cells": [[row, col]]}
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The furthest page reached (``questionnaires.paging``), so a resumed draft opens where it
    #: was left; read through ``responding.current_page``, which keeps it within the pages (a
    #: draft saved when a page was a whole section may point past them).
    step: Mapped[int] = mapped_column(default=1)
    resume_code_sha256: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: The wave's closing day: after it the draft is deleted.
    expires_on: Mapped[date] = mapped_column(index=True)

    wave_team: Mapped[WaveTeam] = relationship(viewonly=True)


class ScaleScore(Base):
    """A response's score on a scored scale, stored when the response arrives.

    The mean of the scale's answered items (reverse-coded items turned), only when at least 75%
    of them are answered (``reports.scores``). Kept beside the answers so that comparisons over
    many teams and waves sum stored scores in SQL instead of recomputing them from every answer.
    """

    __tablename__ = "scale_scores"

    response_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    scale_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    score: Mapped[float] = mapped_column(sa.Float)


class StoredTeamFigures(Base):
    """What a team's results page counts of an ended wave, counted once and kept.

    An ended wave takes no more answers, so its per-item counts, scale sums, tick-grid counts and
    comments (in random order) are counted when it ends (``survey.services.team_figures``) and
    read from here, however many responses the team holds. ``responses`` is the number of
    responses they count: a page uses them only while the team still holds exactly that many.
    Deleted with the wave's responses under retention, like the comments they carry.
    """

    __tablename__ = "stored_team_figures"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["wave_id", "unit_id"],
            ["wave_teams.wave_id", "wave_teams.unit_id"],
            ondelete="CASCADE",
        ),
    )

    wave_id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(primary_key=True)
    responses: Mapped[int]
    #: The instrument they were counted for (``Instrument.sha256``).
    instrument_sha256: Mapped[str] = mapped_column(sa.String(64))
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
