"""Short codes of team links (/t/ABCD-EFGH), what the printed pages carry, and the results
link on the manager's team page."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Wave, WaveStatus, WaveTeam
from survey.models.waves import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH
from survey.services import short_links
from tests.conftest import app_on, csrf_token
from tests.test_admin_waves import admin  # noqa: F401 (the fixture: logged in as an administrator)
from tests.test_codes import pdf_text

PUBLIC_URL = "https://ks.example.org"
SHORT_FORMAT = re.compile(f"[{SHORT_CODE_ALPHABET}]{{4}}-[{SHORT_CODE_ALPHABET}]{{4}}")


@pytest.fixture
def wave(app, tree, make_wave) -> Wave:
    app.config["PUBLIC_URL"] = PUBLIC_URL
    return make_wave([tree["north"]], name="Voorjaar 2026")


@pytest.fixture
def team(wave) -> WaveTeam:
    return next(team for team in wave.teams if team.unit.slug == "team-a")


def shown(team: WaveTeam) -> str:
    return short_links.display(team.short_code)


# --- The codes --------------------------------------------------------------------------------


def test_the_alphabet_has_no_look_alikes_and_the_space_is_as_documented():
    assert not set("0O1IL") & set(SHORT_CODE_ALPHABET)
    # Of each pair people mix up, the codes hold only one.
    for typed, held in short_links.LOOK_ALIKES.items():
        assert chr(typed) not in SHORT_CODE_ALPHABET and held in SHORT_CODE_ALPHABET
    assert len(set(SHORT_CODE_ALPHABET)) == len(SHORT_CODE_ALPHABET) == 26
    assert SHORT_CODE_LENGTH == 8
    space = len(SHORT_CODE_ALPHABET) ** SHORT_CODE_LENGTH
    assert space == 208_827_064_576  # the figure in docs/anonymity.md
    assert round(math.log2(space), 1) == 37.6


def test_every_wave_team_gets_its_own_code(wave):
    codes = [team.short_code for team in wave.teams]
    assert len(set(codes)) == len(codes) == 2
    assert all(SHORT_FORMAT.fullmatch(short_links.display(code)) for code in codes)


def test_a_new_wave_draws_codes_no_team_has(app, tree, make_wave, monkeypatch):
    """A code drawn again (rare, but the column is unique) is replaced, not a 500."""
    first = make_wave([tree["team-a"]])
    taken = first.teams[0].short_code
    drawn = iter([taken, taken, "ACDE2345", "ACDE2346"])
    monkeypatch.setattr(short_links, "new_short_code", lambda: next(drawn))
    assert short_links.fresh_codes(2) == ["ACDE2345", "ACDE2346"]


@pytest.mark.parametrize(
    "typed",
    ["ACDE-2345", "acde-2345", "ACDE2345", "acde 2345", " ac-de.23_45 ", "AC DE 23 45"],
)
def test_typed_codes_are_read_generously(typed):
    assert short_links.normalise(typed) == "ACDE2345"


@pytest.mark.parametrize(
    ("typed", "read"),
    [("8G5V-Z234", "865U2234"), ("bgsv-zacd", "865U2ACD"), ("B8G6-S5Z2", "88665522")],
)
def test_look_alikes_are_read_as_the_character_codes_hold(typed, read):
    assert short_links.normalise(typed) == read


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "-",
        "ACDE-234",
        "ACDE-23456",
        "ACDE-O345",
        "ACDE-0345",
        "ICDE-2345",
        "LCDE-2345",
        "1CDE-2345",
        "ÄCDE-2345",
        "ACDE–2345",
        "ACDE\x002345",
        "A---CDE2345",
        "A" * 5000,
    ],
)
def test_text_that_cannot_be_a_code_is_none(typed):
    assert short_links.normalise(typed) is None


# --- The route --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [str.upper, str.lower, lambda c: c.replace("-", ""), lambda c: quote(c.replace("-", " "))],
    ids=["as-printed", "lower-case", "without-dash", "with-space"],
)
def test_a_short_code_leads_to_the_team_link(client, team, form):
    reply = client.get(f"/t/{form(shown(team))}")
    assert reply.status_code == 302
    assert reply.headers["Location"] == f"/t/{team.link_slug}"
    landing = client.get(reply.headers["Location"])
    assert landing.status_code == 200 and "Team A" in landing.get_data(as_text=True)


def test_look_alike_letters_typed_for_digits_still_lead_there(client, team):
    team.short_code = "862UUACD"
    db.session.commit()
    reply = client.get("/t/bgzv-uacd")
    assert reply.status_code == 302 and reply.headers["Location"] == f"/t/{team.link_slug}"


def test_an_unknown_code_gets_a_friendly_404(client, wave):
    reply = client.get("/t/ACDE-2345")
    assert reply.status_code == 404
    page = reply.get_data(as_text=True)
    assert "We kennen deze code niet" in page and "ACDE-2345" in page  # the example, in Dutch


@pytest.mark.parametrize(
    "path",
    [
        "/t/",
        "/t/-",
        "/t/ACDE-234",
        "/t/ACDE-O345",
        "/t/" + "A" * 17,
        "/t/" + "AB-" * 2000,
        "/t/" + quote("ÄCDE-2345"),
        "/t/" + quote("团队-二三四五"),
        "/t/" + quote("ACDE\x002345"),
        "/t/" + quote("<script>"),
        "/t/..",
        "/t/%",
    ],
)
def test_odd_codes_get_a_404_never_a_500(client, wave, path):
    reply = client.get(path)
    assert reply.status_code == 404, path
    assert "<script>" not in reply.get_data(as_text=True)


def test_a_post_to_a_short_code_opens_nothing(client, team):
    reply = client.post(f"/t/{shown(team)}", data={"csrf_token": csrf_token(client, "/code")})
    assert reply.status_code == 404


# --- The throttle on guesses ------------------------------------------------------------------


class TestGuessing:
    @pytest.fixture
    def app(self, database_url):
        yield from app_on(
            database_url,
            RATELIMIT_ENABLED=True,
            SHORT_LINK_GUESSES_PER_ADDRESS="3 per hour",
            SHORT_LINK_GUESSES="5 per hour",
        )

    @staticmethod
    def browser_at(app, number: int):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"
        return browser

    def test_class01_short_codes_failed_guesses_are_throttled_per_address(self, app, team):
        browser = self.browser_at(app, 1)
        for _ in range(4):  # codes that exist are not guesses that failed
            assert browser.get(f"/t/{shown(team)}").status_code == 302
        for guess in ("ACDE-2345", "ACDE-2346", quote("acde 2347")):
            assert browser.get(f"/t/{guess}").status_code == 404
        refused = browser.get("/t/ACDE-2348")
        assert refused.status_code == 429
        assert "Scan de QR-code" in refused.get_data(as_text=True)
        # Once spent, a real code answers 429 too: guessing cannot go on.
        assert browser.get(f"/t/{shown(team)}").status_code == 429
        # The QR code's full link keeps working; another address is not affected.
        assert browser.get(f"/t/{team.link_slug}").status_code == 200
        assert self.browser_at(app, 2).get(f"/t/{shown(team)}").status_code == 302

    def test_class01_short_codes_failed_guesses_from_all_addresses_are_throttled(self, app, team):
        for number in range(5):
            assert self.browser_at(app, number).get("/t/ACDE-2345").status_code == 404
        assert self.browser_at(app, 50).get(f"/t/{shown(team)}").status_code == 429

    def test_class01_short_codes_the_full_link_is_not_a_guess(self, app, team):
        browser = self.browser_at(app, 7)
        for _ in range(6):
            assert browser.get(f"/t/{team.link_slug}").status_code == 200
        assert browser.get(f"/t/{shown(team)}").status_code == 302


# --- Where the code is shown ------------------------------------------------------------------


@pytest.mark.usefixtures("admin")
def test_the_wave_page_shows_each_teams_short_code(client, wave):
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert f"{PUBLIC_URL}/t/" in page
    for team in wave.teams:
        cell = re.search(rf'<td data-short-code="{team.unit.slug}">(.*?)</td>', page, re.S)
        assert cell and shown(team) in cell.group(1), team.unit.slug


@pytest.mark.usefixtures("admin")
def test_the_links_page_prints_the_short_link_under_each_qr_code(client, wave):
    page = client.get(f"/admin/waves/{wave.id}/links").get_data(as_text=True)
    for team in wave.teams:
        qr = re.search(rf'data-qr="{team.unit.slug}">(.*?)</div>', page, re.S)
        assert qr, team.unit.slug
        svg_end = qr.group(1).index("</svg>")
        under = re.sub(r"<[^>]+>", "", qr.group(1)[svg_end:])
        assert f"{PUBLIC_URL}/t/{shown(team)}" in under.strip()


@pytest.mark.usefixtures("admin")
def test_a_codes_only_wave_shows_and_prints_no_short_links(client, wave):
    wave.codes_only = True
    db.session.commit()
    for url in (f"/admin/waves/{wave.id}", f"/admin/waves/{wave.id}/links"):
        page = client.get(url).get_data(as_text=True)
        assert "data-short-code" not in page and "data-short-link" not in page
        assert all(shown(team) not in page for team in wave.teams)


# --- What is printed never carries the results link -------------------------------------------


def printable_pages(client, wave: Wave, tmp_path) -> dict[str, str]:
    """Everything an administrator prints for a wave: the team-link posters, and per team the
    access-code slips (PDF, as text) and their list (CSV)."""
    pages = {"links": client.get(f"/admin/waves/{wave.id}/links").get_data(as_text=True)}
    url = f"/admin/waves/{wave.id}/codes"
    for team in wave.teams:
        for output in ("pdf", "csv"):
            data = {"team": team.unit.slug, "count": "2", "output": output}
            reply = client.post(url, data={"csrf_token": csrf_token(client, url), **data})
            assert reply.status_code == 200, (team.unit.slug, output)
            body = reply.get_data()
            text = pdf_text(body) if output == "pdf" else body.decode("utf-8-sig")
            pages[f"{output} {team.unit.slug}"] = text
    return pages


@pytest.mark.parametrize("status", [WaveStatus.DRAFT, WaveStatus.OPEN], ids=["draft", "open"])
@pytest.mark.usefixtures("admin")
def test_no_printable_page_carries_a_results_link(client, wave, status, tmp_path):
    wave.status = status
    db.session.commit()
    pages = printable_pages(client, wave, tmp_path)
    assert len(pages) == 1 + 2 * len(wave.teams)
    assert pages["csv team-a"].splitlines()[0] == "code" and "/code" in pages["pdf team-a"]
    for name, text in pages.items():
        for team in wave.teams:
            assert team.results_slug not in text, name
            assert "/team/" not in text, name
    assert all(shown(team) in pages["links"] for team in wave.teams)


@pytest.mark.usefixtures("admin")
def test_after_the_wave_the_posters_still_carry_no_results_link(client, wave, tmp_path):
    """Closed and released to everyone (no team-first period): the results link exists and is
    shown to managers, yet the posters an administrator prints never carry it."""
    wave.status, wave.closed_on = WaveStatus.CLOSED, date.today() - timedelta(days=30)
    wave.team_first_days = 0
    db.session.commit()
    page = client.get(f"/admin/waves/{wave.id}/links").get_data(as_text=True)
    assert all(team.results_slug not in page and shown(team) in page for team in wave.teams)
    manager_page = client.get(f"/dashboard/waves/{wave.id}/teams/team-a").get_data(as_text=True)
    assert next(t for t in wave.teams if t.unit.slug == "team-a").results_slug in manager_page


# --- The results link on the manager's team page ----------------------------------------------


@pytest.mark.usefixtures("admin")
def test_the_results_link_sits_near_the_top_with_a_copy_button(client, wave):
    wave.status, wave.closed_on = WaveStatus.CLOSED, date.today() - timedelta(days=30)
    wave.team_first_days = 0
    db.session.commit()
    team = next(t for t in wave.teams if t.unit.slug == "team-a")
    page = client.get(f"/dashboard/waves/{wave.id}/teams/team-a").get_data(as_text=True)
    field = re.search(r'<input type="text" id="team-results-link" value="([^"]+)" readonly', page)
    assert field and field.group(1) == f"{PUBLIC_URL}/team/{team.results_slug}"
    assert 'for="team-results-link"' in page
    # Before the results and the actions: right under the facts of the wave.
    main = page.split("<main", 1)[1]
    assert main.index('id="team-results-link"') < main.index('id="actions-title"')
    assert "<h2" not in main[: main.index('<h2 id="team-link-title"')]
    # The button is an enhancement from a static file: hidden without JavaScript.
    assert re.search(r'<p class="copy-actions no-print" data-copy-actions hidden>', page)
    assert "js/copy-link.js" in page.split("</head>")[0]
    assert "<script>" not in page and "onclick" not in page


@pytest.mark.usefixtures("admin")
def test_while_the_wave_runs_the_team_page_has_no_results_link(client, wave):
    page = client.get(f"/dashboard/waves/{wave.id}/teams/team-a").get_data(as_text=True)
    assert 'id="team-results-link"' not in page
    assert "copy-link.js" not in page
    assert all(team.results_slug not in page for team in wave.teams)


# --- The migration ----------------------------------------------------------------------------


def test_migration_0008_gives_every_existing_team_its_own_code(app, demo):
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    with db.engine.connect() as connection:
        teams = connection.execute(sa.text("SELECT count(*) FROM wave_teams")).scalar()
    downgrade(revision="0007")
    upgrade()
    with db.engine.connect() as connection:
        codes = connection.execute(sa.text("SELECT short_code FROM wave_teams")).scalars().all()
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert len(codes) == len(set(codes)) == teams > 10
    assert all(short_links.normalise(code) == code for code in codes)
