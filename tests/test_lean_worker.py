"""A worker that serves only respondents never loads pandas, NumPy, SciPy or plotly.

They are most of a worker's memory, and only the results, quality and administration pages
compute with them (``reports/deferred.py``). The check runs a whole response through the team
link (landing, the pages, review, submit: ``tests/test_respond.py``) in a fresh interpreter,
where nothing else can have imported them first, and then reads ``sys.modules``.
"""

from __future__ import annotations

import gc
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from reports.deferred import Deferred

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "scipy", "plotly", "openpyxl")
RESPONDENT_FLOW = "tests/test_respond.py::test_a_whole_response_through_the_team_link"

IN_A_FRESH_INTERPRETER = """
import json, sys
import pytest

status = pytest.main(["-q", "-n", "0", "-p", "no:randomly", "-p", "no:cacheprovider", {test!r}])
loaded = sorted({{name.partition(".")[0] for name in sys.modules}} & set({heavy!r}))
services = [name for name in ("survey.services.results", "reports.statistics")
            if name in sys.modules]
print("LOADED " + json.dumps({{"heavy": loaded, "services": services}}))
sys.exit(status)
"""


def test_serving_a_whole_response_loads_none_of_the_statistics_libraries():
    script = IN_A_FRESH_INTERPRETER.format(heavy=HEAVY, test=RESPONDENT_FLOW)
    finished = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    (line,) = [line for line in finished.stdout.splitlines() if line.startswith("LOADED ")]
    loaded = json.loads(line.removeprefix("LOADED "))
    assert loaded["heavy"] == []
    # not vacuous: the app imported the modules that compute with them
    assert loaded["services"] == ["survey.services.results", "reports.statistics"]


def test_a_deferred_module_is_imported_at_its_first_attribute_and_frozen_when_serving():
    """In a serving process (``settle_for_serving`` froze what it had imported), what the
    import brings is frozen too, out of the garbage collector's full passes."""
    deferred = Deferred("colorsys")  # a standard module no test imports
    sys.modules.pop("colorsys", None)
    assert "not imported yet" in repr(deferred)
    assert "colorsys" not in sys.modules
    gc.freeze()
    frozen = gc.get_freeze_count()
    try:
        assert deferred.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
    assert "colorsys" in sys.modules and "imported" in repr(deferred)
    with pytest.raises(AttributeError):
        deferred.no_such_function  # noqa: B018


def test_scipy_special_gives_what_scipy_stats_gave():
    """The t quantiles and the F tail come from ``scipy.special`` (``scipy.stats`` loads most
    of SciPy): the same numbers."""
    from scipy import special, stats

    for freedom in (1, 2.5, 4, 29, 300):
        for share in (0.9, 0.975, 0.995):
            assert math.isclose(
                special.stdtrit(freedom, share), stats.t.ppf(share, freedom), rel_tol=1e-12
            )
    for f, first, second in ((0.5, 2, 10), (3.2, 4, 40), (12.0, 19, 281)):
        assert math.isclose(
            special.fdtrc(first, second, f), stats.f.sf(f, first, second), rel_tol=1e-9
        )
