"""The figures of a team's results page, with labels in the reader's language.

Only numbers that passed the anonymity gate reach these functions (``TeamResults``); a hidden
scale or item is drawn as nothing and its table row says why.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass

from flask_babel import gettext as _

from questionnaires import Group
from reports import figures
from reports.colours import DARK_INK, mean_band
from survey.services.results import GridResult, GroupResult, ScaleResult, TeamResults


def _text(text, lang: str) -> str:
    return text.in_language(lang) if text is not None else ""


def _answer_names(result: ScaleResult, lang: str) -> list[str]:
    labels = result.scale.items[0].item_type.labels
    return [label.in_language(lang) for label in labels]


def section_figures(results: TeamResults, lang: str) -> dict[str, dict]:
    """Per section with scales: the team's means against the organisation's, and the answers."""
    comma = lang == "nl"
    drawn: dict[str, dict] = {}
    for code, _title, scales in results.sections():
        labels = [f"{r.scale.code} {_text(r.scale.title, lang)}" for r in scales]
        team = (_("This team"), [r.mean for r in scales], [_n(r) for r in scales])
        organisation = None
        if any(r.organisation for r in scales):
            organisation = (
                _("Organisation"),
                [r.organisation.mean if r.organisation else None for r in scales],
                [r.organisation.n if r.organisation else None for r in scales],
            )
        drawn[f"means-{code}"] = figures.means_against(
            labels, team, organisation, decimal_comma=comma
        )
        spread = [r for r in scales if r.counts is not None]
        if spread:
            drawn[f"answers-{code}"] = figures.answer_distribution(
                [f"{r.scale.code} {_text(r.scale.title, lang)}" for r in spread],
                [r.counts for r in spread],
                _answer_names(spread[0], lang),
                decimal_comma=comma,
            )
    return drawn


def _n(result: ScaleResult) -> int | None:
    return result.verdict.n if result.verdict.shown else None


def group_figure(result: GroupResult, lang: str) -> dict | None:
    """Bars of the items of a group (life domains, time perspectives), when any is shown."""
    if not any(item.verdict.shown for item in result.items):
        return None
    return figures.means_against(
        [_text(item.item.text, lang) for item in result.items],
        (
            _("This team"),
            [item.mean for item in result.items],
            [item.verdict.n if item.verdict.shown else None for item in result.items],
        ),
        None,
        decimal_comma=lang == "nl",
    )


def grid_figure(result: GridResult, lang: str) -> dict | None:
    if not result.verdict.shown:
        return None
    item = result.item
    return figures.share_heatmap(
        [_text(row.label, lang) for row in item.rows],
        [_text(column.label, lang) for column in item.columns],
        [[result.share(row.code, column.code) for column in item.columns] for row in item.rows],
        hover_label=_("ticked by"),
        decimal_comma=lang == "nl",
    )


# The strengths model's own picture: the person's three strength sources in the middle, the
# environment's three around them (Rapp & Goscha). Drawn as inline SVG by the server, so it
# needs no script, prints, and goes into the PDF as it is. Each label block (its wrapped lines
# and the mean below them) is centred on its sector's label point, and the drawing box leaves a
# margin around the outer ring, so that no label is ever cut off at the edge of the picture
# (``Sector.extent``, checked in tests/test_colour_scale.py for every label of the instrument).

INNER = 100
OUTER = 170
MARGIN = 16
#: The side of the square drawing box (the SVG's viewBox), and its centre.
BOX = 2 * (OUTER + MARGIN)
CENTRE = BOX / 2
LABEL_FONT = 12
VALUE_FONT = 15
LINE_STEP = round(1.15 * LABEL_FONT, 1)
VALUE_STEP = round(1.3 * VALUE_FONT, 1)
#: Characters per label line; a longer word keeps its own line.
WRAP = 14


class _LabelWrapper(textwrap.TextWrapper):
    """Wraps at spaces, and also after a hyphen or a closing bracket ("(Zelf)vertrouwen" →
    "(Zelf)" + "vertrouwen"), never inside a word."""

    wordsep_re = re.compile(r"(\s+)|(?<=[-)])(?=\w)")


_LABEL_WRAPPER = _LabelWrapper(WRAP, break_long_words=False)
#: Estimated advance of a character, in ems (DejaVu Sans and system sans-serif fonts average
#: about 0.55; bold digits about 0.64), and the ascent and descent of a line.
CHAR_EM = 0.62
VALUE_CHAR_EM = 0.7
ASCENT_EM = 0.8
DESCENT_EM = 0.25


@dataclass(frozen=True)
class Sector:
    label: str
    mean: float | None
    n: int | None
    path: str
    #: The label's lines, and the baseline of the first (the rest follow at ``LINE_STEP``,
    #: the mean at ``VALUE_STEP`` below the last line).
    lines: tuple[str, ...]
    label_x: float
    label_y: float
    fill: str
    ink: str
    box: float = BOX
    line_step: float = LINE_STEP
    value_step: float = VALUE_STEP

    def extent(self, value_text: str = "5,0") -> tuple[float, float, float, float]:
        """An estimate of the label block's (left, top, right, bottom) in the drawing box."""
        width = max(
            [len(line) * CHAR_EM * LABEL_FONT for line in self.lines]
            + [len(value_text) * VALUE_CHAR_EM * VALUE_FONT]
        )
        top = self.label_y - ASCENT_EM * LABEL_FONT
        bottom = self.label_y + LINE_STEP * (len(self.lines) - 1) + VALUE_STEP
        bottom += DESCENT_EM * VALUE_FONT
        return self.label_x - width / 2, top, self.label_x + width / 2, bottom


def _point(radius: float, degrees: float) -> tuple[float, float]:
    angle = math.radians(degrees - 90)
    return CENTRE + radius * math.cos(angle), CENTRE + radius * math.sin(angle)


def _sector_path(inner: float, outer: float, start: float, end: float) -> str:
    x1, y1 = _point(outer, start)
    x2, y2 = _point(outer, end)
    if inner == 0:
        return f"M{CENTRE},{CENTRE} L{x1:.1f},{y1:.1f} A{outer},{outer} 0 0 1 {x2:.1f},{y2:.1f} Z"
    x3, y3 = _point(inner, end)
    x4, y4 = _point(inner, start)
    return (
        f"M{x1:.1f},{y1:.1f} A{outer},{outer} 0 0 1 {x2:.1f},{y2:.1f} "
        f"L{x3:.1f},{y3:.1f} A{inner},{inner} 0 0 0 {x4:.1f},{y4:.1f} Z"
    )


NO_SCORE = "#f2f2f2"


def _shade(mean: float | None) -> tuple[str, str]:
    """The sector's fill and ink: the colour of its mean on every page (``reports.colours``)."""
    if mean is None:
        return NO_SCORE, DARK_INK
    band = mean_band(mean)
    return band.fill, band.ink


def _first_baseline(centre_y: float, lines: int) -> float:
    """The first line's baseline that centres a block of ``lines`` lines and a mean on
    ``centre_y``."""
    height = ASCENT_EM * LABEL_FONT + LINE_STEP * (lines - 1) + VALUE_STEP
    height += DESCENT_EM * VALUE_FONT
    return centre_y - height / 2 + ASCENT_EM * LABEL_FONT


def strengths_model(result: GroupResult, lang: str) -> list[Sector] | None:
    """Six sectors (three inner, three outer) with the team's mean per strength source."""
    group: Group = result.group
    if group.figure != "strength_sources" or len(result.items) != 6:
        return None
    sectors = []
    for index, item in enumerate(result.items):
        inner_ring = index < 3
        start = (index % 3) * 120
        radius_in, radius_out = (0, INNER) if inner_ring else (INNER, OUTER)
        label_radius = INNER * 0.45 if inner_ring else (INNER + OUTER) / 2
        x, y = _point(label_radius, start + 60)
        fill, ink = _shade(item.mean)
        label = _text(item.item.text, lang)
        lines = tuple(_LABEL_WRAPPER.wrap(label)) or ("",)
        sectors.append(
            Sector(
                label=label,
                mean=item.mean,
                n=item.verdict.n if item.verdict.shown else None,
                path=_sector_path(radius_in, radius_out, start, start + 120),
                lines=lines,
                label_x=round(x, 1),
                label_y=round(_first_baseline(y, len(lines)), 1),
                fill=fill,
                ink=ink,
            )
        )
    return sectors


@dataclass(frozen=True)
class Prompt:
    topic: str
    #: "strength" or "growth": the appreciative angle the question takes.
    kind: str
    questions: tuple[str, ...]


def reflection_prompts(results: TeamResults, lang: str) -> list[Prompt]:
    """Questions for the team meeting, from the team's strongest scales and growth points.

    Both start from what works (appreciative inquiry): a strength asks what makes it work, a
    growth point asks when it already worked a little and what one next step would be. The
    instrument's own question for the scale (``reflect``) comes with it.
    """
    prompts = []
    for kind, chosen in (("strength", results.strengths()), ("growth", results.growth_points())):
        for result in chosen:
            topic = _text(result.scale.title, lang)
            if kind == "strength":
                frame = _(
                    "This is one of our strengths. What do we do that makes it work, "
                    "and how do we keep it going?"
                )
            else:
                frame = _(
                    "Here we can grow. When did it already work, even a little? "
                    "What would be one small next step?"
                )
            own = _text(result.scale.reflect, lang)
            prompts.append(Prompt(topic, kind, (frame, own) if own else (frame,)))
    for group in results.groups:
        if group.group.reflect is not None and any(item.verdict.shown for item in group.items):
            prompts.append(
                Prompt(_text(group.group.title, lang), "model", (_text(group.group.reflect, lang),))
            )
    return prompts


def page_figures(results: TeamResults | None, lang: str) -> dict:
    """Everything drawn on a results page: figures by id, the model's sectors, the prompts."""
    if results is None or not results.responses.shown:
        return {"figures": {}, "model": None, "prompts": []}
    drawn = section_figures(results, lang)
    model = None
    for group in results.groups:
        sectors = strengths_model(group, lang)
        if sectors is not None:
            model = sectors
        elif (figure := group_figure(group, lang)) is not None:
            drawn[f"group-{group.group.code}"] = figure
    for grid in results.grids:
        if (figure := grid_figure(grid, lang)) is not None:
            drawn[f"grid-{grid.item.code}"] = figure
    return {"figures": drawn, "model": model, "prompts": reflection_prompts(results, lang)}
