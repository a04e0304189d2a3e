"""One table to a CSV file that a spreadsheet opens right in the reader's language.

A spreadsheet opened by double-click reads a CSV with the computer's regional settings: in
Belgium (Dutch) the list separator is a semicolon and the decimal sign a comma, in English a
comma and a point. So a Dutch file is ``;`` and ``3,5``, an English one ``,`` and ``3.5``. The
file starts with a UTF-8 byte order mark, without which Excel reads "cliënt" as "cliÃ«nt".

Numbers are written as numbers and nothing else: no thousands separator, no exponent, no
trailing text. They arrive already rounded by ``reports.rounding`` and are written as they are
(0.8 stays "0,8", 12 stays "12"). Text is written as is, except that text a spreadsheet would
run as a formula (names an administrator typed: "=HYPERLINK(...)") starts with an apostrophe, so
it is shown as text (``no_formula``); one header row, then the data, no title.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

BOM = "\ufeff"
#: The first characters that make a spreadsheet read a text cell as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvDialect:
    """How numbers and fields are separated for readers of one language."""

    separator: str
    decimal_sign: str


DUTCH = CsvDialect(separator=";", decimal_sign=",")
ENGLISH = CsvDialect(separator=",", decimal_sign=".")


def dialect_for(language: str) -> CsvDialect:
    """Dutch (the default language) gets semicolons and a decimal comma; English commas and a
    decimal point."""
    return ENGLISH if language.startswith("en") else DUTCH


def cell_text(value: object, dialect: CsvDialect) -> str:
    """A cell as the spreadsheet should read it: empty for None/NaN, integers as digits, other
    numbers in plain decimal notation with the dialect's decimal sign, everything else as text."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return ""
        text = format(Decimal(repr(number)), "f")
        return text.replace(".", dialect.decimal_sign)
    return no_formula(str(value))


def no_formula(text: str) -> str:
    """Text that a spreadsheet would run as a formula, behind an apostrophe: shown as text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(
    header: Sequence[object], rows: Iterable[Sequence[object]], dialect: CsvDialect
) -> bytes:
    """The table as the bytes of a CSV file: BOM, one header row, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect.separator, lineterminator="\r\n")
    writer.writerow([cell_text(name, dialect) for name in header])
    writer.writerows([cell_text(value, dialect) for value in row] for row in rows)
    return (BOM + buffer.getvalue()).encode("utf-8")
