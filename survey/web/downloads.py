"""Tables as a CSV or XLSX download: the one writer behind every export page.

A page builds its tables as (title, header, rows), a pure function of its data; the view picks
the format (``FORMATS``) and hands them to ``download``. The XLSX gets a sheet per table, under
its title, and, when the tables describe answers to a questionnaire, its codebook.

A CSV holds one table: one header row, then the data, no title line, written for the request's
language (``reports.csv_table``: semicolons and a decimal comma in Dutch). A page with several
tables offers one CSV per table (``?format=csv&table=<slug>``, a link each, ``table_choices``)
rather than a ZIP of CSVs: a quality officer clicks the table they want and Excel opens it at
once, whereas a ZIP must first be unpacked (Excel opens a CSV inside a ZIP only as a read-only
temporary copy), and the workbook already gives every table in one file. Without ``table`` the
page's first table, its main one, is given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from flask import abort
from flask_babel import get_locale
from werkzeug.wrappers import Response

from questionnaires import Instrument
from questionnaires.codebook import codebook_sheets
from reports.csv_table import csv_bytes, dialect_for
from reports.xlsx import workbook_bytes

Table = tuple[str, Sequence[str], list[list[object]]]
FORMATS = ("csv", "xlsx")


class TableChoice(NamedTuple):
    """A table a page offers as its own CSV: ``slug`` for ``?table=``, ``title`` to show."""

    slug: str
    title: str


def slug_of(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def table_choices(titles: Sequence[str]) -> list[TableChoice]:
    """A unique slug per table title, in order (a repeated title gets ``-2``, ``-3``, ...)."""
    choices: list[TableChoice] = []
    taken: set[str] = set()
    for index, title in enumerate(titles):
        slug = slug_of(str(title)) or f"table-{index + 1}"
        if slug in taken:
            slug = f"{slug}-{index + 1}"
        taken.add(slug)
        choices.append(TableChoice(slug, str(title)))
    return choices


def download(
    tables: list[Table],
    fmt: str,
    name: str,
    instrument: Instrument | None = None,
    table: str | None = None,
) -> Response:
    """One table as CSV (``table``: its slug, by default the first; 404 for a slug the page
    does not have) or all tables as one workbook (a sheet each, plus the instrument's codebook,
    and its changes, when the tables describe answers to it)."""
    slug = slug_of(name)
    if fmt == "csv":
        return _csv_download(tables, slug, table)
    sheets = [
        (_sheet_title(title, index), header, rows)
        for index, (title, header, rows) in enumerate(tables)
    ]
    if instrument is not None:  # the codebook, and what changed since the version before
        sheets.extend(codebook_sheets([instrument]))
    return Response(
        workbook_bytes(sheets),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{slug}.xlsx"'},
    )


def _csv_download(tables: list[Table], slug: str, table: str | None) -> Response:
    choices = table_choices([title for title, _header, _rows in tables])
    index = 0
    if table is not None:
        index = next((i for i, choice in enumerate(choices) if choice.slug == table), -1)
        if index < 0:
            abort(404)
    _title, header, rows = tables[index]
    file_name = f"{slug}-{choices[index].slug}" if len(tables) > 1 else slug
    return Response(
        csv_bytes(header, rows, dialect_for(str(get_locale()))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{file_name}.csv"'},
    )


def _sheet_title(title: str, index: int) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, and unique."""
    clean = re.sub(r"[\[\]:*?/\\]", " ", title).strip()
    return f"{index + 1} {clean}"[:31]
