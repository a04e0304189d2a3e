"""Tables as a CSV or XLSX download: the one writer behind every export page.

A page builds its tables as (title, header, rows), a pure function of its data; the view picks
the format (``FORMATS``) and hands them to ``download``. The XLSX gets a sheet per table and,
when the tables describe answers to a questionnaire, its codebook.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from werkzeug.wrappers import Response

from questionnaires import Instrument
from questionnaires.codebook import codebook_sheets
from reports.xlsx import workbook_bytes

Table = tuple[str, Sequence[str], list[list[object]]]
FORMATS = ("csv", "xlsx")


def download(
    tables: list[Table], fmt: str, name: str, instrument: Instrument | None = None
) -> Response:
    """The tables as one CSV (a title row before each) or one workbook (a sheet each, plus the
    instrument's codebook, and its changes, when the tables describe answers to it)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        for index, (title, header, rows) in enumerate(tables):
            if index:
                writer.writerow([])
            writer.writerow([title])
            writer.writerow(header)
            writer.writerows(rows)
        return Response(
            "\ufeff" + buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{slug}.csv"'},
        )
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


def _sheet_title(title: str, index: int) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, and unique."""
    clean = re.sub(r"[\[\]:*?/\\]", " ", title).strip()
    return f"{index + 1} {clean}"[:31]
