"""A unit's story over time for the people who lead it, and a department's teams side by side.

Managers read the same figures as the quality officer: a trend is
``organisation_results.unit_trend`` (each wave gated with its own ``wave_policy``, departments
pooled only over teams at k, intervals only where every pooled team reaches the spread
threshold), and the teams side by side are ``organisation_results.heatmap`` drilled into the
department (the wave's own tree). This module only arranges them as a manager reads them: per
section of the questionnaire (one small-multiples chart each), with the change since the
previous wave beside the change since the first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from questionnaires import Text
from reports.statistics import Change
from survey.models import Unit, Wave
from survey.services import organisation_results
from survey.services.organisation_results import Heatmap, ScaleTrend, SharedItemTrend
from survey.services.questionnaires import instrument_of
from survey.services.wave_tree import wave_tree


@dataclass(frozen=True)
class ScaleStory:
    """One scale across the waves: ``trend`` (cells per wave, and the change from the first
    wave to the last) and the change since the wave before the last."""

    trend: ScaleTrend
    since_previous: Change | None

    @property
    def since_first(self) -> Change | None:
        return self.trend.change


@dataclass(frozen=True)
class SectionStory:
    """The scales of one section of the questionnaire (a module): one chart."""

    code: str
    title: Text
    rows: list[ScaleStory]


@dataclass(frozen=True)
class UnitStory:
    unit: Unit
    #: The ended waves with scale figures for the unit, oldest first (empty: nothing yet).
    waves: list[Wave]
    sections: list[SectionStory]
    #: The questions shared by questionnaire versions (a pulse and the full version), per wave.
    core_waves: list[Wave]
    core_rows: list[SharedItemTrend]

    @property
    def first(self) -> Wave | None:
        return self.waves[0] if self.waves else None

    @property
    def previous(self) -> Wave | None:
        return self.waves[-2] if len(self.waves) > 1 else None


def unit_story(unit: Unit, waves: list[Wave], lang: str) -> UnitStory:
    """``unit``'s trend over ``waves`` (ended waves, oldest first), per section, with the
    change since the previous wave and since the first (both through ``comparisons.change``:
    only where both figures may show spread)."""
    trend = organisation_results.unit_trend(unit, waves, lang)
    if not trend.waves:
        return UnitStory(unit, [], [], trend.core_waves, trend.core_rows)
    rows = organisation_results.scale_trends(trend, None, None).rows
    changes: dict[str, Change | None] = {}
    if len(trend.waves) > 1:
        since_previous = organisation_results.scale_trends(trend, trend.waves[-2].id, None)
        changes = {row.scale.code: row.change for row in since_previous.rows}
    else:  # one wave: its "change" from itself is no change at all
        rows = [replace(row, change=None) for row in rows]
    stories = {row.scale.code: ScaleStory(row, changes.get(row.scale.code)) for row in rows}
    sections = [
        SectionStory(
            section.code,
            section.title,
            [stories[scale.code] for scale in section.scales if scale.code in stories],
        )
        for section in instrument_of(trend.waves[-1]).sections
        if any(scale.code in stories for scale in section.scales)
    ]
    return UnitStory(unit, trend.waves, sections, trend.core_waves, trend.core_rows)


@dataclass(frozen=True)
class DepartmentView:
    """A department in one wave: its teams side by side (``heatmap.table``: the department
    pooled over its teams at k, then each team gated), and the department's story."""

    department: Unit
    #: The ended waves in which the department had teams, oldest first; ``wave`` is shown.
    waves: list[Wave]
    wave: Wave | None
    heatmap: Heatmap | None
    story: UnitStory


class WaveNotForDepartment(LookupError):
    """The wave asked for is not an ended wave of the department."""


def department_view(
    department: Unit, waves: list[Wave], lang: str, wave_id: int | None = None
) -> DepartmentView:
    """``department``'s teams side by side in the wave ``wave_id`` (by default the latest ended
    wave the department took part in), with their change since the wave before, and the
    department's trend over ``waves`` (the ended waves, oldest first).

    Raises ``WaveNotForDepartment`` for a ``wave_id`` that is not one of those waves. The
    department's tree in a wave is the one frozen when it ended: the first reader freezes it
    (that flushes, the caller commits)."""
    taken_part = [w for w in waves if any(u.slug == department.slug for u in wave_tree(w))]
    if wave_id is not None and wave_id not in {w.id for w in taken_part}:
        raise WaveNotForDepartment(wave_id)
    wave = next((w for w in taken_part if w.id == wave_id), taken_part[-1] if taken_part else None)
    heatmap = None
    if wave is not None:
        heatmap = organisation_results.heatmap(wave, waves, change=True, under=department.slug)
    return DepartmentView(
        department=department,
        waves=taken_part,
        wave=wave,
        heatmap=heatmap,
        story=unit_story(department, waves, lang),
    )
