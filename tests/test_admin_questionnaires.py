"""The administration's questionnaire pages: the list, downloads, upload (also of hostile files),
the preview, and the life domains with their effect on the respondent's form."""

from __future__ import annotations

import io
import re
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import questionnaires
from survey.extensions import db
from survey.models import (
    AuditEvent,
    Draft,
    OrganisationSettings,
    QuestionnaireVersion,
    Response,
    Role,
    Wave,
    WaveStatus,
    WaveTeam,
)
from survey.services.questionnaires import store_instrument
from survey.services.settings import save_settings
from tests.conftest import MINI_INSTRUMENT, csrf_token, login, stored_answers

TEAM_FILE = Path(questionnaires.__file__).parent / "krachtspiegel-team-1.yaml"
MINI_TOML = MINI_INSTRUMENT.with_suffix(".toml")
ADMIN = "admin@example.org"
UPLOAD = "/admin/questionnaires/upload"
DOMAINS = "/admin/questionnaires/life-domains"
C2 = [f"C2.{n}" for n in range(1, 10)]


@pytest.fixture
def admin(client, make_account):
    """The client, logged in as an administrator who reads the pages in English."""
    make_account(ADMIN, Role.ADMIN)
    login(client, ADMIN)
    client.get("/language/en")
    return client


@pytest.fixture
def team_version(app) -> QuestionnaireVersion:
    version = store_instrument(questionnaires.load_file(TEAM_FILE), TEAM_FILE.name).version
    db.session.commit()
    return version


def upload(client, content: bytes, name: str = "mini.yaml", token: str | None = None):
    token = token or csrf_token(client, UPLOAD)
    reply = client.post(
        UPLOAD,
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    # The test client keeps a large request body in a temporary file and, without following
    # redirects, leaves closing it to us.
    reply.request.input_stream.close()
    return reply


def stored_domains() -> list[str] | None:
    """The life domains as stored (not current_settings(): the test's own ``g`` keeps it)."""
    db.session.expire_all()
    row = db.session.get(OrganisationSettings, 1)
    return row.life_domains if row else None


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def row_of(page: str, version_id: int) -> str:
    """The text of the list's table row of a version."""
    [row] = [
        row
        for row in re.findall(r"<tr>.*?</tr>", page, re.DOTALL)
        if f"/admin/questionnaires/{version_id}/preview" in row
    ]
    return text_of(row)


def versions() -> list[tuple[str, str, int]]:
    db.session.expire_all()
    return [
        (v.questionnaire.key, v.version, v.revision)
        for v in db.session.scalars(
            sa.select(QuestionnaireVersion).order_by(QuestionnaireVersion.id)
        )
    ]


def answer(wave: Wave) -> None:
    """One response to ``wave`` (its content does not matter here)."""
    team = wave.teams[0]
    db.session.add(
        Response(wave_id=wave.id, unit_id=team.unit_id, submitted_on=date.today(), language="nl")
    )
    db.session.commit()


# The list and the downloads


def test_the_list_shows_every_version_with_its_use(admin, tree, make_wave, team_version):
    wave = make_wave([tree["team-a"]])
    make_wave([tree["team-b"]], name="Najaar 2026")
    answer(wave)
    page = admin.get("/admin/questionnaires").get_data(as_text=True)
    assert "Mini Strengths Mirror" in page and "Krachtspiegel — strengths-based work" in page
    mini = row_of(page, wave.questionnaire_version_id)
    assert mini.startswith("2 1 mini.yaml ")
    assert " 2 yes: its content can no longer change " in mini
    team = row_of(page, team_version.id)
    assert team.startswith("1.3 1 krachtspiegel-team-1.yaml ") and " 0 none yet " in team


def test_the_list_without_questionnaires(admin):
    page = admin.get("/admin/questionnaires").get_data(as_text=True)
    assert "No questionnaire is stored yet" in page


def test_a_versions_file_and_codebook_download(admin, questionnaire_version):
    base = f"/admin/questionnaires/{questionnaire_version.id}"
    source = admin.get(f"{base}/source")
    assert source.status_code == 200
    assert source.data == MINI_INSTRUMENT.read_bytes()
    assert source.headers["Content-Disposition"] == "attachment; filename=mini.yaml"
    assert source.mimetype == "application/yaml"
    workbook = admin.get(f"{base}/codebook")
    assert workbook.data[:2] == b"PK" and workbook.headers["Content-Disposition"].endswith(".xlsx")
    markdown = admin.get(f"{base}/codebook?format=md").get_data(as_text=True)
    assert "| A1.3 | A1 | Wij beginnen een gesprek bij de problemen." in markdown
    assert admin.get(f"{base}/codebook?format=pdf").status_code == 404
    assert admin.get("/admin/questionnaires/999999/source").status_code == 404


# Uploading


def test_a_valid_file_is_stored_under_its_safe_name_and_audited(admin):
    reply = upload(admin, TEAM_FILE.read_bytes(), "../../etc/krachtspiegel team.yaml")
    assert reply.status_code == 302 and reply.headers["Location"] == "/admin/questionnaires"
    [version] = db.session.scalars(sa.select(QuestionnaireVersion)).all()
    assert (version.version, version.revision) == ("1.3", 1)
    assert version.filename == "krachtspiegel_team.yaml"
    assert version.content == TEAM_FILE.read_text(encoding="utf-8")
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "questionnaire.load")
    ).all()
    assert event.actor == ADMIN and event.target == "krachtspiegel-team 1.3"
    assert event.details == {"file": "krachtspiegel_team.yaml", "status": "new version"}
    page = admin.get("/admin/questionnaires").get_data(as_text=True)
    assert "krachtspiegel_team.yaml was stored as krachtspiegel-team 1.3." in page
    assert "etc" not in page and "../" not in page


def test_the_same_file_again_changes_nothing(admin, questionnaire_version):
    reply = upload(admin, MINI_INSTRUMENT.read_bytes(), "copy.yaml")
    assert reply.status_code == 302
    assert versions() == [("mini-krachtspiegel", "2", 1)]
    page = admin.get("/admin/questionnaires").get_data(as_text=True)
    assert "This file is stored already, as mini-krachtspiegel 2. Nothing changed." in page
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1
    )  # the fixture's


CHANGED_MINI = MINI_INSTRUMENT.read_bytes().replace(b"Mini-Krachtspiegel", b"Mini-Spiegel")


def test_a_changed_file_without_responses_becomes_a_new_revision(admin, questionnaire_version):
    assert upload(admin, CHANGED_MINI).status_code == 302
    assert versions() == [("mini-krachtspiegel", "2", 1), ("mini-krachtspiegel", "2", 2)]
    page = admin.get("/admin/questionnaires").get_data(as_text=True)
    assert "mini.yaml was stored as mini-krachtspiegel 2.2: a new revision of version 2" in page


def test_a_changed_file_for_an_answered_version_is_refused(admin, tree, make_wave):
    answer(make_wave([tree["team-a"]]))
    reply = upload(admin, CHANGED_MINI)
    assert reply.status_code == 409
    page = text_of(reply.get_data(as_text=True))
    assert (
        "Version 2 of mini-krachtspiegel already has responses, so its content can no longer "
        "change. Nothing was stored. Give the changed file a new version number" in page
    )
    assert versions() == [("mini-krachtspiegel", "2", 1)]
    new_version = CHANGED_MINI.replace(b"version: 2", b'version: "3"')
    assert upload(admin, new_version).status_code == 302
    assert versions()[-1] == ("mini-krachtspiegel", "3", 1)


def test_a_file_with_problems_is_listed_line_by_line_and_nothing_is_stored(admin):
    broken = TEAM_FILE.read_bytes().replace(b"type: grid", b"type: tick_grid")
    broken = broken.replace(b'version: "1.3"', b"version: [1]")
    reply = upload(admin, broken, "team.yaml")
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    page = text_of(html)
    grid_line = broken[: broken.index(b"tick_grid")].count(b"\n") + 1
    assert "2 problems in the file" in page
    assert "line 8 : version: expected a name or number, got a list 8 version: [1]" in page
    assert f"line {grid_line} : item C4: unknown item type 'tick_grid'" in page.replace(
        "&#39;", "'"
    )
    assert f"{grid_line} type: tick_grid" in page
    assert 'type="file"' in html and 'name="csrf_token"' in html  # the form keeps working
    assert versions() == []
    assert upload(admin, TEAM_FILE.read_bytes(), "team.yaml").status_code == 302


def test_a_toml_file_is_stored_and_downloaded_as_toml(admin):
    assert upload(admin, MINI_TOML.read_bytes(), "mini.toml").status_code == 302
    [version] = db.session.scalars(sa.select(QuestionnaireVersion)).all()
    assert version.filename == "mini.toml"
    source = admin.get(f"/admin/questionnaires/{version.id}/source")
    assert source.mimetype == "application/toml" and source.data == MINI_TOML.read_bytes()


BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
).encode()

HOSTILE_UPLOADS = {
    "billion laughs": (BOMB, "bomb.yaml", 422, "YAML anchors and aliases"),
    "deep nesting": (b"a: " + b"[" * 500_000, "deep.yaml", 422, "nested more than 32 levels"),
    "many values": (b"sections:\n" + b"- x\n" * 100_000, "many.yaml", 422, "the file holds more"),
    "toml dotted key": (b"a" + b".a" * 400_000 + b" = 1", "bomb.toml", 422, "more than 200 dots"),
    "toml deep": (b"a = " + b"{b = " * 100_000, "deep.toml", 422, "nested more than 32 levels"),
    "half a character": (
        MINI_INSTRUMENT.read_bytes().replace(b"nl: Mini-Krachtspiegel", b'nl: "Mini\\ud800"'),
        "mini.yaml",
        422,
        "line 6 : a \\u escape here stands for half a character",
    ),
    "over 1 MB": (b"#" * 1_500_000, "big.yaml", 422, "instrument files may be at most 1 MB"),
    "over 2 MB": (b"#" * 3_000_000, "huge.yaml", 413, ""),
    "not UTF-8": (b"title: caf\xe9\n", "latin.yaml", 422, "the file is not UTF-8 text"),
    "UTF-16": ("instrument: x\n".encode("utf-16"), "wide.yaml", 422, "UTF-16 text"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.yaml", 422, "not UTF-8 text"),
    "empty": (b"", "empty.yaml", 422, "the file is empty"),
    "wrong suffix": (MINI_INSTRUMENT.read_bytes(), "mini.exe", 422, "must end in .yaml"),
    "a path, no suffix": (MINI_INSTRUMENT.read_bytes(), "../../../etc/passwd", 422, "must end"),
    "only dots": (MINI_INSTRUMENT.read_bytes(), "../../.yaml", 422, "must end in .yaml"),
    "no name": (MINI_INSTRUMENT.read_bytes(), "", 422, "Choose a questionnaire file"),
}


@pytest.mark.parametrize(
    ("content", "name", "status", "message"), HOSTILE_UPLOADS.values(), ids=HOSTILE_UPLOADS
)
def test_hostile_uploads_get_a_clear_message(admin, content, name, status, message):
    # CPU seconds of this process: the wall time also counts whatever else the machine runs.
    start = time.process_time()
    reply = upload(admin, content, name)
    assert time.process_time() - start < 5
    assert reply.status_code == status
    assert message in text_of(reply.get_data(as_text=True))
    assert versions() == []


def test_a_post_without_a_file_field(admin):
    reply = admin.post(UPLOAD, data={"csrf_token": csrf_token(admin, UPLOAD)})
    assert reply.status_code == 422
    assert "Choose a questionnaire file (.yaml or .toml) to upload." in reply.get_data(as_text=True)


YAMLISH = (
    st.lists(
        st.sampled_from(
            ["instrument: ", "sections:", "\n", "- ", "  ", "[", "{", "}", "]", ": ", "&a ", "*a",
             '"\\ud800"', "!!int ", "=", '"""', "[[", "x", "1", "é", "\t", "#"]
        ),
        max_size=80,
    )
    .map("".join)
    .map(str.encode)
)  # fmt: skip
FILE_NAMES = st.sampled_from(["x.yaml", "x.yml", "x.toml", "X.TOML", "../x.yaml", "x", ""]) | (
    st.text(max_size=40)
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=st.binary(max_size=4000) | YAMLISH, name=FILE_NAMES)
def test_random_uploads_never_fail(admin, content, name):
    start = time.process_time()
    reply = upload(admin, content, name)
    assert reply.status_code in (302, 409, 422)
    assert time.process_time() - start < 5


STRUCTURES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["instrument", "version", "sections", "code", "items", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(structure=STRUCTURES, toml=st.booleans())
def test_random_yaml_structures_uploaded_never_fail(admin, structure, toml):
    import yaml

    content = yaml.safe_dump(structure, allow_unicode=True).encode()
    reply = upload(admin, content, "x.toml" if toml else "x.yaml")
    assert reply.status_code == 422


# The preview


def test_the_preview_in_both_languages(admin, questionnaire_version):
    url = f"/admin/questionnaires/{questionnaire_version.id}/preview"
    dutch = admin.get(f"{url}?lang=nl").get_data(as_text=True)
    assert "Preview: answers are not stored." in dutch  # the interface stays English
    assert '<div class="preview-body" lang="nl">' in dutch
    assert "Wij vragen cliënten wat er goed gaat in hun leven." in dutch
    assert "(bijna) altijd" in dutch and "Pagina 1 van 2 · vraag 1–5 van 13" in dutch
    assert 'name="item-BG1"' in dutch and "Andere rol" in dutch and 'name="item-C4"' in dutch
    english = admin.get(f"{url}?lang=en").get_data(as_text=True)
    assert "We ask clients what is going well in their lives." in english
    assert "(almost) always" in english and "Page 1 of 2 · questions 1–5 of 13" in english
    assert "Wij vragen" not in english
    # Nothing to send: the only form on the page is the log-out button's.
    assert english.count("<form") == 1 and 'action="/logout"' in english
    assert admin.get(f"{url}?lang=fr").status_code == 200  # an unknown language: the default


def test_the_preview_leaves_out_the_life_domains_the_organisation_does_not_ask(admin, team_version):
    url = f"/admin/questionnaires/{team_version.id}/preview?lang=en"
    assert 'name="item-C2-3"' in admin.get(url).get_data(as_text=True)
    save_settings({"life_domains": ["C2.1", "C2.2"]}, None)
    db.session.commit()
    page = admin.get(url).get_data(as_text=True)
    assert 'name="item-C2-1"' in page and 'name="item-C2-2"' in page
    assert 'name="item-C2-3"' not in page and 'name="item-C2-9"' not in page
    assert "The organisation leaves 7 life domains out" in page


# Life domains


def test_every_life_domain_is_offered_and_chosen_by_default(admin, team_version):
    page = admin.get(DOMAINS).get_data(as_text=True)
    for code in C2:
        assert re.search(
            rf'<input type="checkbox" name="domains" [^>]*value="{code}" checked>', page
        )
    assert "Housing and daily living" in page  # in the interface's language


def test_choosing_life_domains(admin, team_version):
    token = csrf_token(admin, DOMAINS)
    reply = admin.post(DOMAINS, data={"csrf_token": token, "domains": ["C2.4", "C2.1", "X9"]})
    assert reply.status_code == 302
    assert stored_domains() == ["C2.1", "C2.4"]
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "settings.change")
    ).all()
    assert event.actor == ADMIN
    assert event.details == {"changes": {"life_domains": [None, ["C2.1", "C2.4"]]}}
    page = admin.get(DOMAINS).get_data(as_text=True)
    assert re.search(r'value="C2.1" checked', page) and re.search(r'value="C2.2">', page)
    assert admin.post(DOMAINS, data={"csrf_token": token, "domains": C2}).status_code == 302
    assert stored_domains() is None  # every domain: the default again


def test_at_least_one_life_domain_stays_chosen(admin, team_version):
    save_settings({"life_domains": ["C2.3"]}, None)
    db.session.commit()
    reply = admin.post(DOMAINS, data={"csrf_token": csrf_token(admin, DOMAINS)})
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    assert "Choose at least one life domain in The life domains" in page
    assert "checked" not in page  # what was sent is shown again
    assert stored_domains() == ["C2.3"]


def test_without_life_domains_there_is_nothing_to_choose(admin, questionnaire_version):
    page = admin.get(DOMAINS).get_data(as_text=True)
    assert "No stored questionnaire has a group of life domains" in page
    reply = admin.post(DOMAINS, data={"csrf_token": csrf_token(admin, DOMAINS), "domains": "C1.1"})
    assert reply.status_code == 409
    assert stored_domains() is None


# The respondent's form without the left-out life domains


@pytest.fixture
def team_link(tree, team_version) -> str:
    today = date.today()
    wave = Wave(
        questionnaire_version=team_version,
        name="Voorjaar",
        opens_on=today.replace(day=1),
        closes_on=date(today.year + 1, 1, 1),
        status=WaveStatus.OPEN,
        units=[tree["team-a"]],
    )
    wave.teams = [WaveTeam(unit=tree["team-a"], invited=10)]
    db.session.add(wave)
    db.session.commit()
    return f"/t/{wave.teams[0].link_slug}"


SECTION_C = 7  # the page of the team instrument that holds the life domains (group C2), all asked
#: With only two life domains asked, section C (6 + 2 + 3 items) fits on one page.
SECTION_C_TWO_DOMAINS = 6


def start(client, link: str) -> None:
    reply = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert reply.headers["Location"] == "/respond/1"


def test_all_life_domains_are_asked_by_default(client, team_link):
    start(client, team_link)
    page = client.get(f"/respond/{SECTION_C}").get_data(as_text=True)
    assert all(f'name="item-{code.replace(".", "-")}"' in page for code in C2)


def test_left_out_life_domains_are_not_asked_shown_or_stored(client, team_link):
    save_settings({"life_domains": ["C2.1", "C2.2"]}, None)
    db.session.commit()
    start(client, team_link)
    url = f"/respond/{SECTION_C_TWO_DOMAINS}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="item-C2-1"' in page and 'name="item-C2-2"' in page
    assert "item-C2-3" not in page and "Vrije tijd" not in page
    # A submission that carries a left-out domain anyway: that answer is ignored.
    token = csrf_token(client, url)
    reply = client.post(
        url,
        data={"csrf_token": token, "action": "next", "item-C2-1": "4", "item-C2-7": "5"},
    )
    assert reply.status_code == 302
    [draft] = db.session.scalars(sa.select(Draft)).all()
    assert draft.answers == {"C2.1": {"value": 4}}
    # An answer from before the choice changed (here: put in the draft directly).
    draft.answers = {**draft.answers, "C2.5": {"value": 2}}
    db.session.commit()
    review = client.get("/respond/review").get_data(as_text=True)
    assert "Wonen en dagelijks leven" in review and "Sociaal netwerk en steun" not in review
    reply = client.post(
        "/respond/submit", data={"csrf_token": csrf_token(client, "/respond/review")}
    )
    assert reply.headers["Location"] == "/respond/thanks"
    assert stored_answers() == {"C2.1": 4}
