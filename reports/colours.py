"""The colour scales of every coloured figure: one colour per shown value, the same everywhere.

Two scales, both absolute (a value's colour never depends on the other cells, the column, the
scale or the wave), chosen from the value as it is printed (``reports.rounding``):

- ``MEAN_BANDS``: a mean on the 1–5 answer scale (scales, questions, the strengths wheel), in
  seven bands diverging around the middle answer 3 ("sometimes", "neither agree nor disagree"):
  brown below, grey–white around it, teal above. ColorBrewer's BrBG, the answer colours of the
  charts, so low is brown and high is green–blue on every page.
- ``SHARE_BANDS``: a share of colleagues in percent (0–100, e.g. strength sources × life
  domains), in five sequential blues: pale is rarely, dark is nearly everyone.

Each band carries the ink for text on it, with at least 4.5:1 contrast (WCAG 1.4.3);
``tests/test_colour_scale.py`` checks the contrast and that the stylesheets' ``.heat-N`` and
``.share-N`` rules use exactly these colours. See docs/colours.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.rounding import MEAN_DECIMALS, rounded, whole_percent

DARK_INK = "#1a1a1a"
LIGHT_INK = "#ffffff"


@dataclass(frozen=True)
class Band:
    """Values from ``low`` to ``high`` (both included, as printed) share ``fill`` and ``ink``."""

    #: The stylesheets' class of the band: ``heat-N`` (means) or ``share-N`` (shares).
    prefix: str
    index: int
    low: float
    high: float
    fill: str
    ink: str

    @property
    def css_class(self) -> str:
        return f"{self.prefix}-{self.index}"


def _bands(
    prefix: str, edges: list[tuple[float, float]], colours: list[tuple[str, str]]
) -> tuple[Band, ...]:
    return tuple(
        Band(prefix, index, low, high, fill, ink)
        for index, ((low, high), (fill, ink)) in enumerate(zip(edges, colours, strict=True))
    )


#: A mean from 1 to 5, to one decimal; symmetric around 3.0.
MEAN_BANDS = _bands(
    "heat",
    [(1.0, 1.7), (1.8, 2.2), (2.3, 2.7), (2.8, 3.2), (3.3, 3.7), (3.8, 4.2), (4.3, 5.0)],
    [
        ("#8c510a", LIGHT_INK),
        ("#d8b365", DARK_INK),
        ("#f6e8c3", DARK_INK),
        ("#f5f5f5", DARK_INK),
        ("#c7eae5", DARK_INK),
        ("#5ab4ac", DARK_INK),
        ("#01665e", LIGHT_INK),
    ],
)

#: A share in whole percent.
SHARE_BANDS = _bands(
    "share",
    [(0, 19), (20, 39), (40, 59), (60, 79), (80, 100)],
    [
        ("#f7fbff", DARK_INK),
        ("#c6dbef", DARK_INK),
        ("#6baed6", DARK_INK),
        ("#2171b5", LIGHT_INK),
        ("#08306b", LIGHT_INK),
    ],
)


def _band(bands: tuple[Band, ...], shown: float) -> Band:
    for band in bands:
        if shown <= band.high:
            return band
    return bands[-1]


def mean_band(mean: float) -> Band:
    """The band of a mean on the 1–5 scale, as printed (3.35 prints 3.4, and is coloured so)."""
    return _band(MEAN_BANDS, rounded(mean, MEAN_DECIMALS))


def share_band(share: float) -> Band:
    """The band of a share in percent, as printed (whole percent)."""
    return _band(SHARE_BANDS, whole_percent(share))


def plotly_share_colourscale() -> list[list[float | str]]:
    """``SHARE_BANDS`` as a stepped plotly colourscale over ``zmin`` 0 to ``zmax`` 100: each
    band's colour from half a percent below its first value, so a whole percent is never on an
    edge and plotly colours it as a table cell of ``share_band`` is coloured."""
    scale: list[list[float | str]] = []
    for band in SHARE_BANDS:
        start = max(0.0, (band.low - 0.5) / 100)
        end = min(1.0, (band.high + 0.5) / 100)
        scale += [[start, band.fill], [end, band.fill]]
    return scale


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
