"""Every table on a quality page as CSV or XLSX: aggregates only, hidden cells marked.

A page builds its tables as (title, header, rows) and passes them here when the request asks
for ``?format=csv`` or ``?format=xlsx``; the XLSX gets a sheet per table and the codebook.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from flask import current_app
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from questionnaires import Instrument
from questionnaires.codebook import COLUMNS as CODEBOOK_COLUMNS
from questionnaires.codebook import codebook_rows
from reports.xlsx import workbook_bytes
from survey.services.comparisons import Cell

Table = tuple[str, Sequence[str], list[list[object]]]
FORMATS = ("csv", "xlsx")


def hidden_marker() -> str:
    return _("not shown (fewer than %(k)d)", k=current_app.config["MIN_GROUP_SIZE"])


def mean_of(cell: Cell | None) -> object:
    """A cell's mean (2 decimals), the hidden marker, or empty when there were no answers."""
    if cell is not None and cell.summary is not None:
        return round(cell.summary.mean, 2)
    if cell is not None and cell.verdict.n:
        return hidden_marker()
    return ""


def n_of(cell: Cell | None) -> object:
    return cell.summary.n if cell is not None and cell.summary is not None else ""


def download(tables: list[Table], fmt: str, name: str, instrument: Instrument) -> Response:
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
    sheets.append(("codebook", CODEBOOK_COLUMNS, [r.values() for r in codebook_rows([instrument])]))
    return Response(
        workbook_bytes(sheets),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{slug}.xlsx"'},
    )


def _sheet_title(title: str, index: int) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, and unique."""
    clean = re.sub(r"[\[\]:*?/\\]", " ", title).strip()
    return f"{index + 1} {clean}"[:31]
