"""Staff addresses are shown to administrators only (issue 18): every page and download a
quality officer or a manager can reach from their start page, followed link by link in the
demo organisation, is searched for the addresses on its teams' staff lists."""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import StaffMember, Unit, UnitKind
from survey.services.demo import DEMO_DOMAIN, DEMO_PASSWORD
from tests.conftest import login

MARK = "geheim-adres"
HREF = re.compile(r'href="([^"#]+)')
#: Links not followed: leaving, changing the language, static files, PDFs (compressed streams).
SKIP = re.compile(r"^/(logout|language/|static/)|\.pdf$|/report$")
MAX_PAGES = 120


@pytest.fixture
def staff_lists(demo, app):
    teams = db.session.scalars(sa.select(Unit).where(Unit.kind == UnitKind.TEAM)).all()
    for number, team in enumerate(teams):
        for person in range(3):
            address = f"{MARK}.{number}.{person}@personeel.example"
            db.session.add(StaffMember(unit_id=team.id, email=address, language="nl"))
    db.session.commit()
    return len(teams) * 3


def contents(response) -> str:
    data = response.get_data()
    if data.startswith(b"PK\x03\x04"):  # an XLSX download: every part of it, unpacked
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return data.decode("utf-8", "replace")


def crawl(client, start: list[str]) -> dict[str, str]:
    """Every page reachable by links from ``start`` (at most MAX_PAGES, each path before its
    variants with a query string): url → content."""
    seen: dict[str, str] = {}
    queue, variants = list(start), []
    while (queue or variants) and len(seen) < MAX_PAGES:
        url = queue.pop(0) if queue else variants.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = contents(response) if response.status_code == 200 else ""
        if response.mimetype != "text/html":
            continue
        hrefs = HREF.findall(seen[url])
        if response.status_code in (301, 302, 303):
            hrefs = [response.location]
        for href in hrefs:
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc or SKIP.search(parts.path):
                continue
            if parts.query:
                variants.append(f"{parts.path}?{parts.query}")
            else:
                queue.append(parts.path)
    return seen


@pytest.mark.parametrize(
    "account, start",
    [
        (
            f"kwaliteit@{DEMO_DOMAIN}",
            ["/quality/", "/quality/trends", "/quality/waves/3/responses.csv", "/dashboard/"],
        ),
        (f"leiding.jeugdhulp@{DEMO_DOMAIN}", ["/dashboard/"]),
        (f"leiding.anker@{DEMO_DOMAIN}", ["/dashboard/"]),
    ],
)
def test_no_page_or_download_of_a_quality_officer_or_manager_shows_an_address(
    app, client, staff_lists, account, start
):
    app.config["TEAM_FIRST_DAYS"] = 0  # every released result is reachable
    assert staff_lists > 0
    assert login(client, account, DEMO_PASSWORD).status_code == 302
    pages = crawl(client, start)
    assert len(pages) > 10, pages.keys()
    downloads = [url for url in pages if re.search(r"\.(csv|xlsx)|format=", url)]
    if "kwaliteit" in account:
        assert downloads, "the quality officer's downloads were not reached"
    leaks = [
        url for url, content in pages.items() if MARK in content or "personeel.example" in content
    ]
    assert leaks == []


def test_the_search_finds_the_addresses_where_they_are_shown(client, staff_lists):
    """The control: an administrator's staff list page is found to hold them."""
    assert login(client, f"beheer@{DEMO_DOMAIN}", DEMO_PASSWORD).status_code == 302
    pages = crawl(client, ["/admin/units/team-anker/staff-list"])
    assert MARK in pages["/admin/units/team-anker/staff-list"]
