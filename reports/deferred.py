"""pandas, NumPy and SciPy, imported the first time code uses them, not when a module is loaded.

Why: they are most of a worker's memory (pandas with NumPy about 60 MB, ``scipy.stats`` another
60 MB), and most requests need none of them: a respondent's pages, the log-in, the
administration. The modules that compute with them (``reports.statistics``, the result
services) are still imported by the app at start, as their callers import them; what they name
``pd``, ``np``, ``special``, ``optimize`` and ``openpyxl`` loads the library at its first
attribute, e.g. ``pd.DataFrame(...)`` in the first results page a worker builds. A worker that
only served respondents never loads them (``tests/test_lean_worker.py``).

    from reports.deferred import pd, np

Annotations (``pd.DataFrame``) cost nothing: every module here has
``from __future__ import annotations``. After the first use an attribute costs one dictionary
look-up more than a plain module's.

openpyxl (XLSX downloads and staff lists read from a workbook) brings NumPy with it when NumPy
is installed, so it waits too.

SciPy: only ``scipy.special`` (the t and F distributions' inverse and tail, about 13 MB) and
``scipy.optimize`` (the one-factor model of the instrument-quality page) are used; ``scipy.stats``
is not, as importing it loads most of SciPy.
"""

from __future__ import annotations

import gc
import importlib
import sys
from types import ModuleType
from typing import Any


def _imported(name: str) -> ModuleType:
    """The module, imported; in a serving process that froze what it had imported
    (``survey.settle_for_serving``), what this import brought is frozen too, so that the garbage
    collector's full passes do not walk pandas' objects again (about 110 ms a pause). Objects of
    the request under way are frozen with them: freed as usual when no longer referenced, kept
    only if they are garbage in a cycle, once per library and worker."""
    if name in sys.modules:
        return sys.modules[name]
    frozen = gc.get_freeze_count()
    module = importlib.import_module(name)
    if frozen:
        gc.freeze()
    return module


class Deferred:
    """Stands for a module that is imported when one of its attributes is first read."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = _imported(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<deferred module {self._name!r}, {state}>"


pd: Any = Deferred("pandas")
np: Any = Deferred("numpy")
special: Any = Deferred("scipy.special")
optimize: Any = Deferred("scipy.optimize")
openpyxl: Any = Deferred("openpyxl")
