"""The Jinja filters and globals that print a figure and choose its colour, so that every
template rounds by the one rule (``reports.rounding``) and colours by the one scale
(``reports.colours``): ``value|figure(digits, lang)``, ``share|percent(lang)``,
``change|signed_figure(digits, lang)``, ``mean|mean_colour``,
``share|share_colour``, and the bands for a page's colour key (``mean_bands``,
``share_bands``)."""

from __future__ import annotations

from flask import Flask

from reports.colours import MEAN_BANDS, SHARE_BANDS, mean_band, share_band
from reports.rounding import MEAN_DECIMALS, formatted, formatted_percent


def figure(value: float, digits: int = MEAN_DECIMALS, lang: str = "nl") -> str:
    """``value`` as every page and PDF prints it: a decimal comma in Dutch, a true minus."""
    return formatted(value, digits, decimal_comma=lang == "nl", minus_sign=True)


def signed_figure(value: float, digits: int = MEAN_DECIMALS, lang: str = "nl") -> str:
    """A change: "+0,3", "−0,3", or "0,0" when it rounds to zero."""
    return formatted(value, digits, decimal_comma=lang == "nl", minus_sign=True, plus_sign=True)


def percent(value: float, lang: str = "nl") -> str:
    """A whole percentage: "67 %" with a no-break space in Dutch, "67%" in English."""
    return formatted_percent(value, dutch=lang == "nl")


def mean_colour(mean: float) -> str:
    return mean_band(mean).css_class


def share_colour(share: float) -> str:
    return share_band(share).css_class


def register(app: Flask) -> None:
    app.add_template_filter(figure)
    app.add_template_filter(signed_figure)
    app.add_template_filter(percent)
    app.add_template_filter(mean_colour)
    app.add_template_filter(share_colour)
    app.add_template_global(MEAN_BANDS, "mean_bands")
    app.add_template_global(SHARE_BANDS, "share_bands")
