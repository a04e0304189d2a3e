"""The results in the strengths model's own words (results/_principles.html): under each
principle and starting point, the module tables' own gated figures of the scales serving it, on
the manager's page, the team's own link, the PDF and the questionnaire preview; nothing when the
team is below k or the instrument maps no principles."""

import re
from pathlib import Path

import pytest

import questionnaires
from questionnaires import load_text
from survey.extensions import db
from survey.models import Role, WaveStatus
from survey.services.questionnaires import instrument_of, store_instrument
from tests.conftest import MINI_INSTRUMENT, login
from tests.questionnaires.test_principles import MAPPING
from tests.test_codes import pdf_text
from tests.test_team_pages import latest_closed_wave, wave_team
from tests.test_team_results import add_responses, agreeing

MANAGER = "lg@example.org"
TEAM_FILE = Path(questionnaires.__file__).parent / "krachtspiegel-team-1.yaml"


@pytest.fixture
def questionnaire_version(app, request):
    """The mini instrument with a mapping of principles (`make_wave` asks it); without one when
    the test passes False through `indirect` parametrisation."""
    text = MINI_INSTRUMENT.read_text(encoding="utf-8")
    mapped = getattr(request, "param", True)
    instrument = load_text(text + MAPPING if mapped else text, "mini-principles.yaml")
    version = store_instrument(instrument, "mini-principles.yaml").version
    db.session.commit()
    return version


@pytest.fixture
def closed_team(tree, make_wave, make_account):
    wave = make_wave([tree["team-a"]], status=WaveStatus.CLOSED)
    make_account(MANAGER, Role.MANAGER, [tree["team-a"]])
    return wave.teams[0]


def manager_page(client, team) -> str:
    login(client, MANAGER)
    reply = client.get(f"/dashboard/waves/{team.wave_id}/teams/team-a")
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def principles_of(page: str) -> str:
    start = page.index('<section aria-labelledby="principles-title"')
    return page[start : page.index("</section>", start)]


def entry(section: str, code: str) -> str:
    """The text of one principle's entry (up to the end of its list of scales), without tags."""
    [html] = [
        part.split("</ul>")[0]
        for part in section.split('<li class="principle">')
        if f'<span class="principle-code">{code}</span>' in part
    ]
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_each_principle_shows_its_scales_with_their_figures(client, closed_team):
    add_responses(closed_team, agreeing(6))  # A1 mean 4.0, B1 mean 4.75
    section = principles_of(manager_page(client, closed_team))
    assert "In de woorden van het krachtenmodel" in section
    assert section.index("<h3>Principes</h3>") < section.index("<h3>Uitgangspunten</h3>")
    assert entry(section, "P1") == (
        "P1 Focus op krachten De focus ligt op krachten. "
        "A1 Focus op krachten gemiddelde 4,0 · 6 antwoorden"
    )
    assert entry(section, "P2") == (
        "P2 Samen A1 Focus op krachten gemiddelde 4,0 · 6 antwoorden "
        "B1 Psychologische veiligheid gemiddelde 4,8 · 6 antwoorden"
    )
    assert entry(section, "U1") == (
        "U1 Uniek B1 Psychologische veiligheid gemiddelde 4,8 · 6 antwoorden"
    )
    assert 'style="width: 75.0%"' in section  # A1's bar: (4.0 − 1) / 4


def test_the_team_link_shows_the_same_view_in_english(client, closed_team):
    add_responses(closed_team, agreeing(6))
    client.get("/language/en")
    page = client.get(f"/team/{closed_team.results_slug}").get_data(as_text=True)
    section = principles_of(page)
    assert "In the words of the strengths model" in section
    assert entry(section, "U1") == ("U1 Unique B1 Psychological safety mean 4.8 · 6 answers")


def test_a_scale_the_gate_hides_is_hidden_under_every_principle(client, closed_team):
    mostly_dont_know = {"A1.1": "dk", "A1.2": "dk", "A1.3": 2, "B1.1": 5, "B1.2": 5, "B1.3": 5,
                        "B1.4": 4}  # fmt: skip
    add_responses(closed_team, agreeing(3) + [mostly_dont_know] * 3)  # only 3 A1 scores
    section = principles_of(manager_page(client, closed_team))
    hidden = "Minder dan 5 antwoorden: niet getoond om de anonimiteit te beschermen."
    assert entry(section, "P1") == (
        f"P1 Focus op krachten De focus ligt op krachten. A1 Focus op krachten {hidden}"
    )
    assert entry(section, "P2") == (
        f"P2 Samen A1 Focus op krachten {hidden} "
        "B1 Psychologische veiligheid gemiddelde 4,8 · 6 antwoorden"
    )
    assert "4,0" not in section and section.count("mean-bar") == 2  # B1 under P2 and U1


def test_a_team_below_k_shows_no_principles(client, closed_team):
    add_responses(closed_team, agreeing(4))
    page = manager_page(client, closed_team)
    assert "Minder dan 5 antwoorden" in page
    assert "principles-title" not in page and "krachtenmodel" not in page


@pytest.mark.parametrize("questionnaire_version", [False], indirect=True)
def test_an_instrument_without_principles_shows_only_the_modules(client, closed_team):
    add_responses(closed_team, agreeing(6))
    page = manager_page(client, closed_team)
    assert "<td>4,0</td>" in page  # the module table
    assert "principles-title" not in page and "In de woorden van het krachtenmodel" not in page


def test_the_demo_teams_read_by_principle_with_the_module_figures(demo, client, tmp_path):
    """Anker's page by its own link: each principle's figure is its scale's row above, the
    organisation's mean included; the PDF carries the same view."""
    team = wave_team(latest_closed_wave(), "team-anker")
    page = client.get(f"/team/{team.results_slug}").get_data(as_text=True)
    section = principles_of(page)
    assert len(re.findall(r'<li class="principle">', section)) == 13  # six principles, seven points
    a1_row = page[page.index('<th scope="row">A1 Focus op krachten</th>') :].split("</tr>")[0]
    mean, organisation = re.findall(r"<td>(\d,\d)", a1_row)[:2]
    for code in ("P1", "U1"):
        assert f"gemiddelde {mean} · " in entry(section, code)
        assert f"organisatie {organisation}" in entry(section, code)
    assert "U4 Kansen op maat om te leren" in entry(section, "U4")
    assert "A7 Stapsgewijze doelen en leerkansen" in entry(section, "U4")
    report = client.get(f"/team/{team.results_slug}/report.pdf")
    assert report.status_code == 200
    text = " ".join(pdf_text(report.data).split())
    assert "In de woorden van het krachtenmodel" in text
    assert "P1 Focus op krachten, niet op problemen A1 Focus op krachten" in text


def test_the_preview_shows_the_mapping_to_the_administrator(client, make_account, closed_team):
    make_account("admin@example.org", Role.ADMIN)
    login(client, "admin@example.org")
    version_id = closed_team.wave.questionnaire_version_id
    page = client.get(f"/admin/questionnaires/{version_id}/preview").get_data(as_text=True)
    mapping = page[page.index('<details class="principle-map">') : page.index("</details>")]
    assert "Principes en uitgangspunten van het krachtenmodel" in mapping
    assert '<th scope="row">Samen</th>' in mapping
    assert "A1 Focus op krachten<br>B1 Psychologische veiligheid" in mapping


def test_the_mapped_team_file_loads_as_a_new_version_beside_an_answered_one(runner, closed_team):
    """The mapping changed the team file, so it raised its version: an installation whose waves
    asked 1.2 loads 1.3 beside it (no refusal), and those waves keep their 1.2 (no mapping)."""
    text = TEAM_FILE.read_text(encoding="utf-8")
    before = text[: text.index("\n# The strengths model's own words")] + "\n"
    old = store_instrument(
        load_text(before.replace('version: "1.3"', 'version: "1.2"'), TEAM_FILE.name),
        TEAM_FILE.name,
    ).version
    closed_team.wave.questionnaire_version = old
    db.session.commit()
    add_responses(closed_team, agreeing(1))
    result = runner.invoke(args=["questionnaires", "load", str(TEAM_FILE)])
    assert result.exit_code == 0, result.output
    assert "new version (krachtspiegel-team 1.3)" in result.output
    db.session.expire_all()
    assert instrument_of(closed_team.wave).version == "1.2"
    assert instrument_of(closed_team.wave).principles == ()
