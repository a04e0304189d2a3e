"""The respondent's pages of the full team instrument (1.3) through the Flask test client:
pages of at most twelve items, progress in pages and questions, no item codes, the open
questions on the review page, and clearing that asks first."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import questionnaires
from questionnaires.paging import instrument_pages
from survey.extensions import db
from survey.models import Draft, Wave, WaveStatus, WaveTeam
from survey.services.questionnaires import store_instrument
from survey.services.settings import save_settings
from tests.conftest import csrf_token, stored_answers

FULL = Path(questionnaires.__file__).parent / "krachtspiegel-team-1.yaml"
INSTRUMENT = questionnaires.load_file(FULL)
PAGES = instrument_pages(INSTRUMENT)


@pytest.fixture
def full_link(tree) -> str:
    version = store_instrument(INSTRUMENT, FULL.name).version
    today = date.today()
    wave = Wave(
        questionnaire_version=version,
        name="Najaar 2026",
        opens_on=today - timedelta(days=7),
        closes_on=today + timedelta(days=14),
        status=WaveStatus.OPEN,
        units=[tree["team-a"]],
    )
    wave.teams = [WaveTeam(unit=tree["team-a"], invited=12)]
    db.session.add(wave)
    db.session.commit()
    return f"/t/{wave.teams[0].link_slug}"


def start(client, link: str) -> None:
    reply = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert reply.headers["Location"] == "/respond/1"


def field(code: str) -> str:
    return "item-" + code.replace(".", "-")


def answers_for(page) -> dict[str, object]:
    """Form data answering every item of ``page``, and what is stored for it."""
    data = {}
    for index, item in enumerate(page.all_items()):
        if item.type == "grid":
            data[field(item.code)] = ["aspirations:living", "resources:work"]
        elif item.type == "text":
            data[field(item.code)] = "Wij vieren kleine stappen."
        elif item.dont_know and index % 5 == 4:
            data[field(item.code)] = "dk"
        else:
            data[field(item.code)] = str(1 + index % 5 if item.item_type.is_likert else 2)
    return data


def post_page(client, number: int, data: dict, action: str = "next"):
    token = csrf_token(client, f"/respond/{number}")
    return client.post(f"/respond/{number}", data={"csrf_token": token, "action": action, **data})


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]*>", " ", html)


def test_nine_pages_with_progress_in_pages_and_questions(client, full_link):
    start(client, full_link)
    first = client.get("/respond/1").get_data(as_text=True)
    assert "Pagina 1 van 9 · vraag 1–12 van 76" in first
    assert '<progress max="76" value="12"' in first
    assert "Krachtgerichte praktijk" in first and "(deel 1 van 3)" in first
    assert "Hoe vaak gebeurt dit in ons team" in first  # the section's description
    assert first.count('class="item choice likert"') == 12
    second = client.get("/respond/2").get_data(as_text=True)
    assert "Pagina 2 van 9 · vraag 13–24 van 76" in second and "(deel 2 van 3)" in second
    assert "Hoe vaak gebeurt dit in ons team" not in second  # only on the section's first page
    grid = client.get("/respond/8").get_data(as_text=True)
    assert "Pagina 8 van 9 · vraag 71 van 76" in grid and "deel 1 van" not in grid
    assert client.get("/respond/10").status_code == 404
    assert 'value="lang-en"' in first and 'value="lang-nl"' not in first
    english = post_page(client, 1, {}, action="lang-en")
    assert english.headers["Location"] == "/respond/1"
    in_english = client.get("/respond/1").get_data(as_text=True)
    assert "Page 1 of 9 · questions 1–12 of 76" in in_english
    assert 'value="lang-nl"' in in_english and 'value="lang-en"' not in in_english


def test_a_page_offers_no_language_the_organisation_does_not(client, full_link):
    save_settings({"languages": ["nl"]}, None)
    db.session.commit()
    start(client, full_link)
    page = client.get("/respond/1").get_data(as_text=True)
    assert "Pagina 1 van 9" in page
    assert 'value="lang-' not in page and "inline-language" not in page


def test_no_item_code_reaches_the_respondent_but_the_ids_stay(client, full_link):
    start(client, full_link)
    pages = [client.get(f"/respond/{n}").get_data(as_text=True) for n in range(1, 10)]
    review = client.get("/respond/review").get_data(as_text=True)
    for html in [*pages, review]:
        text = visible_text(html)
        shown = [
            item.code
            for item in INSTRUMENT.all_items()
            if re.search(rf"(?<![\w.-]){re.escape(item.code)}(?![\w-])", text)
        ]
        assert shown == []
        assert 'class="item-code"' not in html
    assert 'id="item-A1-1"' in pages[0] and 'id="item-C4"' in pages[7]


def test_every_item_is_answered_through_the_pages(client, full_link):
    start(client, full_link)
    for page in PAGES:
        reply = post_page(client, page.number, answers_for(page))
        following = (
            "/respond/review" if page.number == len(PAGES) else f"/respond/{page.number + 1}"
        )
        assert reply.headers["Location"] == following
    review = client.get("/respond/review").get_data(as_text=True)
    assert "Je hebt alle vragen beantwoord." in review and "vragen open" not in review
    reply = client.post(
        "/respond/submit", data={"csrf_token": csrf_token(client, "/respond/review")}
    )
    assert reply.headers["Location"] == "/respond/thanks"
    assert set(stored_answers()) == {item.code for item in INSTRUMENT.all_items()}


def test_the_review_counts_the_open_questions_and_links_to_them(client, full_link):
    start(client, full_link)
    for page in PAGES[:-1]:
        data = answers_for(page)
        if page.number == 4:
            data.pop("item-B2-1")  # B2.1 stays open, on page 4
        post_page(client, page.number, data)
    last = answers_for(PAGES[-1])
    post_page(client, 9, {code: value for code, value in last.items() if code != "item-O2"})
    review = client.get("/respond/review").get_data(as_text=True)
    assert "Nog 2 vragen open" in review and "<details open>" in review
    assert 'href="/respond/4#item-B2-1"' in review and 'href="/respond/9#item-O2"' in review
    assert "(pagina 4)" in review
    # The anchor is on the page it points to.
    assert 'id="item-B2-1"' in client.get("/respond/4").get_data(as_text=True)


def test_required_open_questions_are_marked(client, make_wave, tree):
    wave = make_wave([tree["team-a"]])  # the mini instrument: scale A1 is required
    start(client, f"/t/{wave.teams[0].link_slug}")
    review = client.get("/respond/review").get_data(as_text=True)
    assert "Nog 13 vragen open" in review and "Je mag vragen openlaten" not in review
    assert "<details>" in review  # a long list is folded away, and opens without a script
    assert re.search(
        r'href="/respond/1#item-A1-2">[^<]*</a>\s*<span[^>]*>\(pagina 1, verplicht\)', review
    )
    assert re.search(r'href="/respond/2#item-O1">[^<]*</a>\s*<span[^>]*>\(pagina 2\)', review)


def test_clearing_asks_first_without_javascript(client, full_link):
    start(client, full_link)
    post_page(client, 1, answers_for(PAGES[0]))
    page_two = client.get("/respond/2").get_data(as_text=True)
    # A plain link, away from the page's buttons, not a button that deletes.
    assert 'href="/respond/discard?back=2"' in page_two
    assert 'action="/respond/discard"' not in page_two
    confirm = client.get("/respond/discard?back=2")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Je hebt tot nu toe 12 vragen beantwoord." in html
    assert "toegangscode" in html and "blijft die code gebruikt" in html
    assert "Ja, mijn antwoorden wissen" in html and 'href="/respond/2">Nee, terug' in html
    assert "<script>" not in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 1  # GET keeps it
    assert client.post("/respond/discard", data={}).status_code == 400  # no CSRF token
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 1
    reply = client.post("/respond/discard", data={"csrf_token": csrf_token(client, "/respond/2")})
    assert "Je antwoorden zijn gewist" in reply.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
    assert "Geen vragenlijst bezig" in client.get("/respond/discard").get_data(as_text=True)


def test_back_from_clearing_defaults_to_the_review(client, full_link):
    start(client, full_link)
    for back in ("", "?back=review", "?back=99", "?back=x"):
        html = client.get(f"/respond/discard{back}").get_data(as_text=True)
        assert 'href="/respond/review">Nee, terug' in html


def test_returning_to_the_team_link_offers_to_continue(client, full_link):
    start(client, full_link)
    for page in PAGES[:3]:
        post_page(client, page.number, answers_for(page))
    landing = client.get(full_link).get_data(as_text=True)
    assert "Verder invullen" in landing and 'href="/respond/4"' in landing
    assert "pagina 4 van 9" in landing


def test_a_draft_saved_when_a_step_was_a_section_continues_on_a_page_that_exists(client, full_link):
    start(client, full_link)
    post_page(client, 1, answers_for(PAGES[0]))
    draft = db.session.scalar(sa.select(Draft))
    draft.step = 42  # beyond the pages (or an old section number): clamped
    db.session.commit()
    landing = client.get(full_link).get_data(as_text=True)
    assert 'href="/respond/9"' in landing
    reply = client.post(full_link, data={"csrf_token": csrf_token(client, full_link)})
    assert reply.headers["Location"] == "/respond/9"
    assert re.search(
        r'id="item-A1-1-1" value="1" checked', client.get("/respond/1").get_data(as_text=True)
    )
