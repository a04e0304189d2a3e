"""HTML to PDF responses (WeasyPrint), for every printed report of the app."""

from __future__ import annotations

from pathlib import Path

from werkzeug.wrappers import Response

STYLESHEETS = Path(__file__).parents[1] / "static" / "css"
#: The colour scales shared with the pages, then the report's own layout.
PDF_STYLESHEETS = (STYLESHEETS / "colours.css", STYLESHEETS / "report.css")


def _fetch_nothing(url: str, *args: object, **kwargs: object) -> dict:
    """The report is self-contained (inline SVG, one stylesheet): it never fetches a URL."""
    raise ValueError(f"the PDF report does not load external resources ({url[:80]})")


def render_pdf(html: str, filename: str, *, landscape: bool = False) -> Response:
    """HTML to a PDF response (WeasyPrint) with the report stylesheets; nothing is fetched."""
    from weasyprint import CSS, HTML  # imported here: only the PDF needs it

    stylesheets = [CSS(filename=str(path)) for path in PDF_STYLESHEETS]
    if landscape:
        stylesheets.append(CSS(string="@page { size: A4 landscape; }"))
    pdf = HTML(string=html, url_fetcher=_fetch_nothing).write_pdf(stylesheets=stylesheets)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
