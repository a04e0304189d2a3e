"""Tables to an XLSX workbook (openpyxl): one sheet per table, a bold frozen header row.

Text is stored as text: openpyxl would store a string that starts with "=" as a formula (a unit
named "=HYPERLINK(...)" would run in the reader's spreadsheet), so such a cell is typed back to
a string."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from reports.deferred import openpyxl

MAX_COLUMN_WIDTH = 60


def workbook_bytes(
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]],
) -> bytes:
    """``sheets``: (title, header, rows) triples, in order. Returns the .xlsx file's bytes."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        _append_text_safe(sheet, header)
        for cell in sheet[1]:
            cell.font = openpyxl.styles.Font(bold=True)
        widths = [len(str(name)) for name in header]
        for row in rows:
            _append_text_safe(sheet, row)
            widths = [
                max(width, len(str(value or ""))) for width, value in zip(widths, row, strict=False)
            ]
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(
                width + 2, MAX_COLUMN_WIDTH
            )
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _append_text_safe(sheet, values: Sequence[object]) -> None:
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":  # a string that starts with "=": text, never a formula
            cell.data_type = "s"
