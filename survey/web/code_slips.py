"""Freshly issued access codes as something to hand out: A4 slips to cut out, or a CSV.

The one place both the administrator's codes page and ``flask codes issue`` turn the plain
codes of ``survey.services.codes.issue_codes`` into a file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

from flask import current_app, render_template

from reports.csv_table import CsvDialect, csv_bytes
from survey.models import WaveTeam

SLIPS_PER_PAGE = 10


def slips_pdf(
    codes: list[str],
    wave_team: WaveTeam,
    *,
    progress: Callable[[Iterable[list[str]]], Iterable[list[str]]] = lambda pages: pages,
) -> bytes:
    """A4 slips to cut out, ``SLIPS_PER_PAGE`` a page: each code with the address to enter it
    (``PUBLIC_URL/code``), the team, the wave and a short instruction in Dutch and English.

    Laid out a page at a time, so ``progress`` (which wraps the pages) can show how far it is.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    pages = [
        codes[start : start + SLIPS_PER_PAGE] for start in range(0, len(codes), SLIPS_PER_PAGE)
    ]
    context = {
        "team_name": wave_team.unit.name,
        "wave_name": wave_team.wave.name,
        "code_url": f"{current_app.config['PUBLIC_URL'].rstrip('/')}/code",
    }
    font_config = FontConfiguration()
    documents = [
        HTML(string=render_template("codes/slips.html", codes=page, **context)).render(
            font_config=font_config
        )
        for page in progress(pages)
    ]
    return documents[0].copy([page for doc in documents for page in doc.pages]).write_pdf()


def codes_csv(codes: list[str], dialect: CsvDialect | None = None) -> bytes:
    """The codes as CSV, one column ``code``. Without ``dialect``, the plain file ``codes issue
    --format csv`` writes; with one, the file a spreadsheet opens right (a download for people,
    ``reports.csv_table``: BOM, the language's separator)."""
    if dialect is not None:
        return csv_bytes(["code"], [[code] for code in codes], dialect)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code"])
    writer.writerows([code] for code in codes)
    return buffer.getvalue().encode()
