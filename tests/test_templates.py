"""Macros shared by several templates (survey/templates/results/_macros.html)."""

from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

import survey

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(survey.__file__).parent / "templates"), autoescape=True
)


@pytest.mark.parametrize(
    ("mean", "css_class"),
    [
        (1.0, "heat-0"),
        (1.79, "heat-0"),
        (1.8, "heat-1"),
        (2.6, "heat-2"),
        (3.0, "heat-2"),
        (3.4, "heat-3"),
        (4.19, "heat-3"),
        (4.2, "heat-4"),
        (5.0, "heat-4"),
    ],
)
def test_the_heat_class_of_a_mean_is_one_of_five_equal_bins(mean, css_class):
    template = TEMPLATES.from_string('{% import "results/_macros.html" as r %}{{ r.heat(mean) }}')
    assert template.render(mean=mean) == css_class
