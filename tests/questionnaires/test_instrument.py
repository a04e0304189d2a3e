"""The shipped Krachtspiegel instruments: the full team version and the pulse.

These tests pin down the structure that reports and the pulse rely on (scale codes, item codes,
the grid's row and column codes) and the writing rules of INSTRUMENT.md that a file can show.
"""

import re
from collections import Counter
from pathlib import Path

import pytest

from questionnaires import Instrument, load_file, validate_file

QUESTIONNAIRES = Path(__file__).parents[2] / "questionnaires"
TEAM = QUESTIONNAIRES / "krachtspiegel-team-1.yaml"
PULSE = QUESTIONNAIRES / "krachtspiegel-pulse-1.yaml"

#: The scales of INSTRUMENT.md's tables: code -> (nl title, en title).
A_SCALES = {
    "A1": ("Focus op krachten", "Strengths focus"),
    "A2": ("Geloof in groei", "Belief in growth"),
    "A3": ("Regie bij de cliënt", "Client direction"),
    "A4": ("Partnerschap", 'Partnership ("power with")'),
    "A5": ("Werken in de leefomgeving", "Community-based work"),
    "A6": ("Informele hulpbronnen", "Informal resources"),
    "A7": ("Stapsgewijze doelen en leerkansen", "Step-wise goals and learning"),
    "A8": ("Methodiekgebruik", "Use of the strengths tools"),
}
B_SCALES = {
    "B1": ("Psychologische veiligheid", "Psychological safety"),
    "B2": ("Empowerment van medewerkers", "Staff empowerment"),
    "B3": ("Zelfsturing", "Team self-steering"),
    "B4": ("Horizontale samenwerking", "Horizontal collaboration"),
    "B5": ("Krachtgerichte ondersteuning", "Strengths-based supervision"),
}
SCALE_TYPES = {"A": "frequency5", "B": "agreement5"}

STRENGTH_SOURCES = [
    "Wensen en dromen",
    "Talenten en vaardigheden",
    "(Zelf)vertrouwen",
    "Materiële hulpbronnen",
    "Sociale relaties en netwerk",
    "Kansen in de omgeving",
]
LIFE_DOMAINS = [
    "Wonen en dagelijks leven",
    "Geld en administratie",
    "School, opleiding, werk en dagbesteding",
    "Gezin en relaties thuis",
    "Sociaal netwerk en steun",
    "Gezondheid (lichamelijk, psychisch, middelen)",
    "Vrije tijd",
    "Zingeving, cultuur en levensbeschouwing",
    "Maatschappelijke participatie",
]
TIME_PERSPECTIVES = ["De huidige situatie", "Wensen voor de toekomst", "Wat vroeger hielp"]
GRID_ROWS = ["aspirations", "competencies", "confidence", "resources", "relations", "opportunities"]
GRID_COLUMNS = [
    "living",
    "finances",
    "work",
    "family",
    "network",
    "health",
    "leisure",
    "meaning",
    "participation",
]

#: A reversed item is an antonym, never a negated sentence.
NEGATION = re.compile(r"\b(niet|geen|nooit|not|no|never|don't|doesn't)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def team() -> Instrument:
    return load_file(TEAM)


@pytest.fixture(scope="module")
def pulse() -> Instrument:
    return load_file(PULSE)


def scored_scales(instrument: Instrument, section: str):
    return next(s for s in instrument.sections if s.code == section).scales


def likert_items(instrument: Instrument):
    return [item for scale in instrument.scales() for item in scale.items]


@pytest.mark.parametrize("path", [TEAM, PULSE], ids=["team", "pulse"])
def test_shipped_files_load_without_problems(path):
    assert validate_file(path) == []


def test_headers(team, pulse):
    assert (team.id, team.version) == ("krachtspiegel-team", "1.3")
    assert (pulse.id, pulse.version) == ("krachtspiegel-pulse", "1")
    assert team.title == {
        "nl": "Krachtspiegel — krachtgericht werken in ons team",
        "en": "Krachtspiegel — strengths-based work in our team",
    }
    assert team.languages == pulse.languages == ("nl", "en")


@pytest.mark.parametrize("name", ["team", "pulse"])
def test_introduction_says_what_anonymity_means(name, request):
    introduction = request.getfixturevalue(name).introduction
    assert introduction is not None
    nl, en = introduction["nl"], introduction["en"]
    assert "audit" in nl and "audit" in en
    assert "IP-adres" in nl and "IP address" in en
    assert "e-mailadres" in nl and "e-mail address" in en
    assert "minstens 5" in nl and "at least 5" in en
    assert "willekeurige volgorde" in nl and "random order" in en
    assert "weet ik niet / n.v.t." in nl and "don't know / not applicable" in en


def test_team_introduction_covers_purpose_duration_and_feedback(team):
    nl, en = team.introduction["nl"], team.introduction["en"]
    assert "fidelity" in nl and "fidelity" in en
    assert "individuele medewerkers" in nl and "individual staff" in en
    assert "12 tot 15 minuten" in nl and "12 to 15 minutes" in en
    assert "juiste of foute" in nl and "right or wrong" in en
    assert "als eerste" in nl and "first" in en


def test_team_sections_in_order(team):
    assert [section.code for section in team.sections] == ["A", "B", "C", "D", "E"]
    assert team.sections[0].title == {
        "nl": "Krachtgerichte praktijk",
        "en": "Strengths-based practice",
    }
    assert team.sections[1].title == {
        "nl": "Krachtgerichte organisatie",
        "en": "Strength-oriented organisation",
    }
    assert "de voorbije zes maanden" in team.sections[0].description["nl"]


@pytest.mark.parametrize(("section", "expected"), [("A", A_SCALES), ("B", B_SCALES)])
def test_scales_match_the_instrument_table(team, section, expected):
    scales = scored_scales(team, section)
    assert {scale.code: (scale.title["nl"], scale.title["en"]) for scale in scales} == expected
    assert [scale.code for scale in scales] == list(expected)
    for scale in scales:
        assert [item.code for item in scale.items] == [f"{scale.code}.{n}" for n in range(1, 5)]
        assert all(item.type == SCALE_TYPES[section] for item in scale.items), scale.code
        assert all(item.dont_know for item in scale.items), scale.code
        assert not any(item.optional or item.required for item in scale.items), scale.code


def test_the_team_version_has_no_other_scales(team):
    assert [scale.code for scale in team.scales()] == [*A_SCALES, *B_SCALES]


def test_reversed_items_are_few_antonyms_and_never_first(team):
    reversed_items = [item for item in likert_items(team) if item.reverse]
    assert 3 <= len(reversed_items) <= 5
    for scale in team.scales():
        assert sum(item.reverse for item in scale.items) <= 1, scale.code
        assert not scale.items[0].reverse, scale.code
    for item in reversed_items:
        for language in ("nl", "en"):
            assert not NEGATION.search(item.text[language]), (item.code, language)
    assert all(not item.reverse for item in team.all_items() if item.scale is None)


def test_items_are_short(team):
    for item in likert_items(team):
        for language in ("nl", "en"):
            assert len(item.text[language].split()) <= 20, (item.code, language)


def test_practice_items_speak_as_the_team(team):
    for scale in scored_scales(team, "A"):
        for item in scale.items:
            assert re.search(r"\bwij\b", item.text["nl"], re.IGNORECASE), item.code
            assert re.search(r"\bwe\b", item.text["en"], re.IGNORECASE), item.code


@pytest.mark.parametrize("name", ["team", "pulse"])
def test_item_codes_are_unique(name, request):
    codes = [item.code for item in request.getfixturevalue(name).all_items()]
    assert len(codes) == len(set(codes))


def test_strengths_model_groups(team):
    section = next(s for s in team.sections if s.code == "C")
    assert section.scales == ()
    groups = {group.code: group for group in section.groups}
    assert list(groups) == ["C1", "C2", "C3"]
    expected = {"C1": STRENGTH_SOURCES, "C2": LIFE_DOMAINS, "C3": TIME_PERSPECTIVES}
    for code, texts in expected.items():
        group = groups[code]
        assert group.description is not None, code
        assert [item.code for item in group.items] == [
            f"{code}.{n}" for n in range(1, len(texts) + 1)
        ]
        assert [item.text["nl"] for item in group.items] == texts
        assert all(item.type == "frequency5" and item.dont_know for item in group.items)
        assert not any(item.reverse for item in group.items)
        assert "Hoe consequent verkent ons team met cliënten" in group.description["nl"]
    assert all(item.optional for item in groups["C2"].items)
    assert not any(item.optional for item in groups["C1"].items + groups["C3"].items)


def test_grid_of_strength_sources_by_life_domains(team):
    grid = team.item("C4")
    assert grid.type == "grid"
    assert grid.section == "D"
    assert [row.code for row in grid.rows] == GRID_ROWS
    assert [column.code for column in grid.columns] == GRID_COLUMNS
    assert grid.text["nl"] == (
        "Welke combinaties verkennen wij als team gewoonlijk met cliënten? "
        "Vink aan wat bij ons de gewoonte is."
    )
    # Short labels, so that the grid fits a phone.
    for entry in grid.rows + grid.columns:
        for language in ("nl", "en"):
            assert len(entry.label[language]) <= 16, (entry.code, language)
    section = next(s for s in team.sections if s.code == "D")
    assert "niet verplicht" in section.description["nl"]
    assert "optional" in section.description["en"]


def test_open_questions(team):
    for code in ("O1", "O2", "O3"):
        item = team.item(code)
        assert (item.type, item.max_length, item.section) == ("text", 1000, "E")


def test_background_questions(team):
    background = [item for item in team.all_items() if item.background]
    assert [item.code for item in background] == ["BG1", "BG2"]
    for item, codes in zip(background, [range(1, 7), range(1, 5)], strict=True):
        assert item.type == "single_choice"
        assert not item.required
        assert [option.code for option in item.options] == list(codes)
        assert item.hint is not None
        assert "minimale groepsgrootte" in item.hint["nl"]
        assert "minimum group size" in item.hint["en"]


def test_team_length_fits_twelve_to_fifteen_minutes(team):
    # The grid counts as one item.
    counts = Counter(item.section for item in team.all_items())
    assert counts == {"A": 32, "B": 20, "C": 18, "D": 1, "E": 5}
    assert 70 <= len(team.all_items()) <= 95


def test_pulse_reuses_items_of_the_team_version(team, pulse):
    for item in pulse.all_items():
        original = team.item(item.code)
        assert item.type == original.type, item.code
        assert item.text == original.text, item.code
        assert item.hint == original.hint, item.code
        assert (item.dont_know, item.reverse, item.max_length) == (
            original.dont_know,
            original.reverse,
            original.max_length,
        ), item.code


def test_pulse_covers_each_scale_once_with_its_first_item(team, pulse):
    assert pulse.scales() == ()
    assert [group.code for group in pulse.groups()] == ["PA", "PB"]
    likert = [item for item in pulse.all_items() if item.type != "text"]
    covered = Counter(team.item(item.code).scale for item in likert)
    assert covered == Counter({scale.code: 1 for scale in team.scales()})
    assert [item.code for item in likert] == [f"{scale.code}.1" for scale in team.scales()]
    assert [item.code for item in pulse.groups()[0].items] == [f"A{n}.1" for n in range(1, 9)]
    assert [item.code for item in pulse.groups()[1].items] == [f"B{n}.1" for n in range(1, 6)]
    assert [item.code for item in pulse.all_items() if item.type == "text"] == ["O2"]
    assert "3 minuten" in pulse.introduction["nl"]
    assert "3 minutes" in pulse.introduction["en"]
