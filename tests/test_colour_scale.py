"""The colour scales (reports/colours.py): one colour per printed value on every page and chart,
a key that states the bands, text that keeps its contrast on every colour, and a strengths wheel
whose labels stay inside the picture."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template_string
from flask_babel import force_locale

import questionnaires
import survey
from reports.colours import (
    MEAN_BANDS,
    SHARE_BANDS,
    contrast,
    mean_band,
    plotly_share_colourscale,
    share_band,
)
from survey.anonymity import Reason, Verdict
from survey.web import charts, pdf

CSS = Path(survey.__file__).parent / "static" / "css"
INSTRUMENTS = sorted(Path(questionnaires.__file__).parent.glob("*.yaml"))
PRINTED_MEANS = [round(1 + tenth / 10, 1) for tenth in range(41)]  # 1.0, 1.1, ... 5.0


def test_every_printed_mean_is_in_exactly_one_band_and_the_bands_mirror_around_3():
    for value in PRINTED_MEANS:
        assert sum(band.low <= value <= band.high for band in MEAN_BANDS) == 1, value
    for band, mirror in zip(MEAN_BANDS, reversed(MEAN_BANDS), strict=True):
        assert band.low + mirror.high == pytest.approx(6) and band.high + mirror.low == 6
    for value in range(101):
        assert sum(band.low <= value <= band.high for band in SHARE_BANDS) == 1, value


@pytest.mark.parametrize("printed", PRINTED_MEANS)
def test_a_mean_takes_the_colour_of_the_figure_it_prints_as(printed):
    """3.35 and 3.44 both print 3.4: one colour (before, 3.35 was light and 3.44 dark)."""
    low, high = printed - 0.05, printed + 0.0499
    bands = {mean_band(value) for value in (low, printed, high) if 1 <= value <= 5}
    assert len(bands) == 1 and next(iter(bands)).low <= printed <= next(iter(bands)).high


def test_a_share_takes_the_colour_of_the_whole_percent_it_prints_as():
    assert share_band(19.5) == share_band(20) == SHARE_BANDS[1]  # prints 20%
    assert share_band(19.49) == SHARE_BANDS[0]
    assert share_band(0) == SHARE_BANDS[0] and share_band(100) == SHARE_BANDS[-1]


@pytest.mark.parametrize("band", MEAN_BANDS + SHARE_BANDS, ids=lambda band: band.css_class)
def test_text_on_every_colour_has_at_least_aa_contrast(band):
    assert contrast(band.ink, band.fill) >= 4.5
    # the pattern of a suppressed cell: dark text on both of its stripes
    assert min(contrast("#1a1a1a", "#ffffff"), contrast("#1a1a1a", "#cfcfcf")) >= 4.5


def test_the_contrast_formula_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_one_stylesheet_holds_the_bands_colours_for_the_pages_and_the_pdfs():
    css = (CSS / "colours.css").read_text()
    for band in MEAN_BANDS + SHARE_BANDS:
        rule = re.search(rf"\.{band.css_class} \{{([^}}]*)\}}", css)
        assert rule, band.css_class
        assert f"background: {band.fill};" in rule.group(1), band.css_class
        assert f"color: {band.ink};" in rule.group(1), band.css_class
    assert not re.search(r"\.heat-7|\.share-5", css)
    others = [CSS / "app.css", CSS / "report.css"]
    assert not any(re.search(r"\.(heat|share)-\d", path.read_text()) for path in others)
    assert CSS / "colours.css" in pdf.PDF_STYLESHEETS
    base = (CSS.parent.parent / "templates" / "base.html").read_text()
    assert "asset_url('css/colours.css')" in base


def test_the_share_heatmap_chart_colours_each_percent_as_the_tables_do():
    """plotly blends between neighbouring stops; each band is a pair of stops of one colour
    from half a percent below its first value to half a percent above its last."""
    scale = plotly_share_colourscale()
    pairs = list(zip(scale[::2], scale[1::2], strict=True))
    assert all(start_colour == end_colour for (_s, start_colour), (_e, end_colour) in pairs)
    for percent in range(101):
        (colour,) = {c for (start, c), (end, _c) in pairs if start <= percent / 100 <= end}
        assert colour == share_band(percent).fill, percent


def render(app, template: str, lang: str = "nl", **context) -> str:
    with app.test_request_context(), force_locale(lang):
        return render_template_string(
            '{% import "results/_macros.html" as r with context %}' + template,
            current_lang=lang,
            **context,
        )


def test_the_heat_macro_gives_the_class_of_the_printed_figure(app):
    assert render(app, "{{ r.heat(3.35) }} {{ r.heat(3.44) }}") == "heat-4 heat-4"
    assert render(app, "{{ r.heat(3.25) }} {{ r.heat(3.249) }}") == "heat-4 heat-3"
    assert render(app, "{{ r.number(3.25) }} {{ r.number(12.5, 0) }}") == "3,3 13"


@pytest.mark.parametrize(("lang", "ranges"), [("nl", ["1,0–1,7", "4,3–5,0"]), ("en", ["1.0–1.7"])])
def test_the_colour_key_states_every_band_and_the_suppressed_pattern(app, lang, ranges):
    key = render(app, "{{ r.heat_legend(k=5) }}", lang)
    assert key.count('class="swatch heat-') == len(MEAN_BANDS)
    assert all(range_ in key for range_ in ranges)
    assert 'class="swatch suppressed-cell"' in key and "&lt;5" in key
    shares = render(app, "{{ r.heat_legend(shares=true) }}", lang)
    percent = "80–100\u00a0%" if lang == "nl" else "80–100%"  # a no-break space before % in Dutch
    assert shares.count('class="swatch share-') == len(SHARE_BANDS) and percent in shares
    assert "suppressed-cell" not in shares


# The strengths wheel -----------------------------------------------------------------------


def wheel_groups():
    for path in INSTRUMENTS:
        instrument = questionnaires.load_file(path)
        for section in instrument.sections:
            for group in section.groups:
                if group.figure == "strength_sources":
                    yield group


def wheel(group, lang: str, mean: float = 4.96) -> list[charts.Sector]:
    items = [SimpleNamespace(item=item, mean=mean, verdict=Verdict(12)) for item in group.items]
    return charts.strengths_model(SimpleNamespace(group=group, items=items), lang)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_label_of_the_strengths_wheel_reaches_the_edge_of_its_picture(lang):
    groups = list(wheel_groups())
    assert groups
    for group in groups:
        sectors = wheel(group, lang)
        for index, sector in enumerate(sectors):
            left, top, right, bottom = sector.extent()
            assert left > 0 and right < sector.box and top > 0 and bottom < sector.box, sector
            if index < 3:  # a label of the inner ring stays inside the inner circle
                corners = [(x, y) for x in (left, right) for y in (top, bottom)]
                for x, y in corners:
                    distance = ((x - charts.CENTRE) ** 2 + (y - charts.CENTRE) ** 2) ** 0.5
                    assert distance < charts.INNER, (sector.label, distance)
            assert sector.fill == mean_band(4.96).fill  # the colour of 5.0 on every page


def test_a_long_label_wraps_and_its_block_is_centred_on_its_sector():
    group = next(wheel_groups())
    long = "Vrienden, buren en andere steunfiguren"
    text = SimpleNamespace(in_language=lambda lang: long)
    items = [
        SimpleNamespace(item=item, mean=None, verdict=Verdict(0, Reason.NO_ANSWERS))
        for item in group.items
    ]
    items[4] = SimpleNamespace(item=SimpleNamespace(text=text), mean=2.0, verdict=Verdict(9))
    sectors = charts.strengths_model(SimpleNamespace(group=group, items=items), "nl")
    sector = sectors[4]
    assert len(sector.lines) >= 3 and max(map(len, sector.lines)) <= charts.WRAP
    left, top, right, bottom = sector.extent()
    assert top > 0 and bottom < sector.box and left > 0 and right < sector.box
    _x, label_y = charts._point((charts.INNER + charts.OUTER) / 2, 180)
    assert (top + bottom) / 2 == pytest.approx(label_y, abs=1)
    assert sectors[0].fill == charts.NO_SCORE and sector.fill == mean_band(2.0).fill
