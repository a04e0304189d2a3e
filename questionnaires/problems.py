"""What can be wrong with an instrument file, where, and the bounds of reading one.

Files may come from an administrator's upload form, so reading is bounded: at most 1 MB, at
most `MAX_NODES` values nested at most `MAX_DEPTH` deep, numbers of at most `MAX_NUMBER_LENGTH`
characters. Beyond that the file is refused with a problem, not read on.
"""

from __future__ import annotations

from dataclasses import dataclass

from yaml.nodes import Node

MAX_FILE_BYTES = 1024 * 1024
#: The full team instrument has about 1,600 values, nested 9 deep.
MAX_NODES = 20_000
MAX_DEPTH = 32
MAX_NUMBER_LENGTH = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instrument file."""

    file: str
    #: 1-based; None when the problem concerns the file as a whole
    line: int | None
    #: e.g. "item A2.3", "item BG1, options[1].label" or "sections[1].scales[0].items[2]"
    where: str
    message: str

    def __str__(self) -> str:
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        return ": ".join(part for part in (location, self.where, self.message) if part)


class QuestionnaireError(ValueError):
    """An instrument file has problems; `problems` lists all of them, in line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def line_of(node: Node) -> int:
    """The 1-based line a node starts on."""
    return node.start_mark.line + 1


def too_large(filename: str, size: int) -> Problem:
    return Problem(
        filename, None, "", f"the file is {size} bytes; instrument files may be at most 1 MB"
    )


def too_deep(filename: str, line: int | None) -> Problem:
    return Problem(
        filename, line, "", f"values are nested more than {MAX_DEPTH} levels deep: not read on"
    )


def too_many(filename: str, line: int | None) -> Problem:
    return Problem(
        filename,
        line,
        "",
        f"the file holds more than {MAX_NODES} values (keys, texts, numbers, lists): not read on",
    )
