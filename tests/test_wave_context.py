"""A wave asks its questionnaire in a chosen context's wording (e.g. youth care): the
administrator chooses it while the wave is a draft, and respondents, results, the PDF and the
codebook then read that wording."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

import questionnaires
from questionnaires.codebook import COLUMNS
from survey.extensions import db
from survey.models import AuditEvent, QuestionnaireVersion, Role, Wave, WaveStatus, WaveTeam
from survey.services import waves as wave_service
from survey.services.questionnaires import instrument_of, instrument_of_version, store_instrument
from tests.conftest import csrf_token, login
from tests.test_team_results import add_responses

CONTEXTS = Path(__file__).parent / "questionnaires" / "files" / "contexts.yaml"
YOUTH_A11 = "Wij vragen jongeren en hun ouders wat er goed gaat in hun leven."
DEFAULT_A11 = "Wij vragen cliënten wat er goed gaat in hun leven."


@pytest.fixture
def context_version(app) -> QuestionnaireVersion:
    outcome = store_instrument(questionnaires.load_file(CONTEXTS), CONTEXTS.name)
    db.session.commit()
    return outcome.version


@pytest.fixture
def make_context_wave(context_version, tree):
    def make(status: WaveStatus, context: str | None = None) -> Wave:
        # A closed wave ended a month ago: past the team-first period, managers see it too.
        ended = status is WaveStatus.CLOSED
        opens_on = date.today() - timedelta(days=60 if ended else 7)
        wave = Wave(
            questionnaire_version=context_version,
            name="Voorjaar 2026",
            opens_on=opens_on,
            closes_on=opens_on + timedelta(days=21),
            status=status,
            units=[tree["team-a"]],
            context=context,
        )
        wave.teams = [WaveTeam(unit=tree["team-a"], invited=12)]
        db.session.add(wave)
        db.session.commit()
        return wave

    return make


@pytest.fixture
def admin(client, make_account):
    make_account("admin@example.org", Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


def post_edit(client, wave: Wave, **fields: str):
    url = f"/admin/waves/{wave.id}"
    data = {"csrf_token": csrf_token(client, url), "edit-name": wave.name}
    data.update({f"edit-{name}": value for name, value in fields.items()})
    if wave.status is WaveStatus.DRAFT:
        data |= {
            "edit-opens_on": wave.opens_on.isoformat(),
            "edit-closes_on": wave.closes_on.isoformat(),
        }
    return client.post(f"{url}/edit", data=data)


def stored_context(wave: Wave) -> str | None:
    db.session.expire_all()
    return db.session.get(Wave, wave.id).context


def context_edits() -> list[dict]:
    db.session.expire_all()
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "wave.edit").order_by(AuditEvent.id)
    )
    return [event.details for event in events if "context" in event.details]


# --- The administrator's choice ---------------------------------------------------------------


def test_a_draft_offers_standard_and_each_context_of_its_version(admin, make_context_wave):
    wave = make_context_wave(WaveStatus.DRAFT)
    page = admin.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    select = page[
        page.index('name="edit-context"') : page.index(
            "</select>", page.index('name="edit-context"')
        )
    ]
    assert '<option selected value="">Standaard</option>' in select
    assert '<option value="jeugdhulp">Jeugdhulp</option>' in select
    assert "Bewoording" in page


def test_the_administrator_chooses_a_context_on_a_draft_and_it_is_audited(admin, make_context_wave):
    wave = make_context_wave(WaveStatus.DRAFT)
    assert post_edit(admin, wave, context="jeugdhulp").status_code == 302
    assert stored_context(wave) == "jeugdhulp"
    assert context_edits() == [{"context": "jeugdhulp"}]
    page = admin.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert '<option selected value="jeugdhulp">Jeugdhulp</option>' in page
    # ... and back to the standard wording.
    assert post_edit(admin, wave, context="").status_code == 302
    assert stored_context(wave) is None
    assert context_edits() == [{"context": "jeugdhulp"}, {"context": None}]


def test_an_unknown_context_is_refused_with_a_clear_message(admin, make_context_wave):
    wave = make_context_wave(WaveStatus.DRAFT)
    reply = post_edit(admin, wave, context="ggz")
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    assert "heeft geen bewoording voor de context &#39;ggz&#39;" in page
    assert 'class="error-summary"' in page
    assert stored_context(wave) is None and context_edits() == []


def test_a_version_without_contexts_offers_no_choice(admin, tree, make_wave):
    wave = make_wave([tree["team-a"]], status=WaveStatus.DRAFT)
    page = admin.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert 'name="edit-context"' not in page and "Bewoording" not in page
    assert post_edit(admin, wave, context="jeugdhulp").status_code == 422
    assert stored_context(wave) is None


@pytest.mark.parametrize("status", [WaveStatus.OPEN, WaveStatus.CLOSED])
def test_an_opened_wave_keeps_its_context(admin, make_context_wave, status):
    wave = make_context_wave(status, context="jeugdhulp")
    page = admin.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert 'name="edit-context"' not in page
    assert "<dt>Bewoording</dt><dd>Jeugdhulp</dd>" in page
    reply = post_edit(admin, wave, context="")
    assert reply.status_code == 409
    assert "verandert de bewoording van de vragenlijst niet meer" in reply.get_data(as_text=True)
    assert stored_context(wave) == "jeugdhulp" and context_edits() == []
    # A page kept open from the draft posts the same choice: nothing to refuse.
    assert post_edit(admin, wave, context="jeugdhulp").status_code == 302


def test_the_service_refuses_a_context_change_on_an_open_wave(make_context_wave):
    wave = make_context_wave(WaveStatus.OPEN)
    with pytest.raises(wave_service.WaveConflict):
        wave_service.edit_wave(wave, {"context": "jeugdhulp"}, actor=None)
    with pytest.raises(wave_service.WaveInputError) as raised:
        wave_service.edit_wave(make_context_wave(WaveStatus.DRAFT), {"context": "x"}, actor=None)
    assert raised.value.field == "context"


# --- What everyone reads ----------------------------------------------------------------------


def test_the_waves_instrument_is_read_in_its_context(make_context_wave, context_version):
    youth = instrument_of(make_context_wave(WaveStatus.OPEN, context="jeugdhulp"))
    standard = instrument_of(make_context_wave(WaveStatus.CLOSED))
    assert youth.item("A1.1").text["nl"] == YOUTH_A11
    assert standard.item("A1.1").text["nl"] == DEFAULT_A11
    assert standard.item("A1.1").text.variants == {}
    # the version itself keeps every context's wording (the questionnaires page, its codebook)
    assert instrument_of_version(context_version).item("A1.1").text.variants
    assert instrument_of(make_context_wave(WaveStatus.DRAFT, context="jeugdhulp")) is youth


def respondent_page(client, wave: Wave) -> str:
    link = f"/t/{wave.teams[0].link_slug}"
    landing = client.get(link).get_data(as_text=True)
    reply = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert reply.headers["Location"] == "/respond/1"
    return landing + client.get("/respond/1").get_data(as_text=True)


def test_a_respondent_reads_the_youth_care_wording(client, make_context_wave):
    page = respondent_page(client, make_context_wave(WaveStatus.OPEN, context="jeugdhulp"))
    assert YOUTH_A11 in page and DEFAULT_A11 not in page
    assert "Denk aan de voorbije maand in de leefgroep." in page
    assert "Hoe vaak doen wij dit als team, met jongeren en hun ouders?" in page


def test_a_respondent_of_a_standard_wave_reads_the_default_wording(client, make_context_wave):
    page = respondent_page(client, make_context_wave(WaveStatus.OPEN))
    assert DEFAULT_A11 in page and YOUTH_A11 not in page


@pytest.fixture
def closed_youth_team(make_context_wave, make_account, tree):
    wave = make_context_wave(WaveStatus.CLOSED, context="jeugdhulp")
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    # A1 (whose reflect question youth care rewords) is the team's strength: 5 against 2.
    strong_a1 = {"A1.1": 5, "A1.2": 5, "A1.3": 1, "B1.1": 2, "B1.2": 2, "B1.3": 2, "B1.4": 2}
    add_responses(wave.teams[0], [strong_a1] * 6)
    return wave.teams[0]


def test_the_team_results_and_its_pdf_show_the_youth_care_wording(client, closed_youth_team):
    login(client, "lg@example.org")
    base = f"/dashboard/waves/{closed_youth_team.wave_id}/teams/team-a"
    page = client.get(base).get_data(as_text=True)
    assert "<td>5,0</td>" in page  # the scores are those of any wording
    assert YOUTH_A11 in page and DEFAULT_A11 not in page
    pdf = client.get(f"{base}/report.pdf")
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Welke ene stap zet ons verder met jongeren en hun ouders?" in " ".join(text.split())


def test_the_waves_codebook_download_names_its_context(client, closed_youth_team, make_account):
    make_account("kwaliteit@example.org", Role.QUALITY)
    login(client, "kwaliteit@example.org")
    reply = client.get(f"/quality/waves/{closed_youth_team.wave_id}/scores.xlsx")
    assert reply.status_code == 200
    sheet = load_workbook(io.BytesIO(reply.data))["codebook"]
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in sheet.iter_rows(values_only=True)]
    a11 = next(row for row in rows if row["item"] == "A1.1")
    assert (a11["text_nl"], a11["context"]) == (YOUTH_A11, "jeugdhulp")


def test_the_versions_codebook_lists_every_contexts_wording(admin, context_version):
    base = f"/admin/questionnaires/{context_version.id}/codebook"
    sheet = load_workbook(io.BytesIO(admin.get(base).data))["codebook"]
    header, *rows = sheet.iter_rows(values_only=True)
    a11 = dict(
        zip(header, next(row for row in rows if row[header.index("item")] == "A1.1"), strict=True)
    )
    assert a11["text_nl"] == DEFAULT_A11
    assert a11["context_variants"].startswith(f"jeugdhulp: {YOUTH_A11} / We ask young people")
    markdown = admin.get(f"{base}?format=md").get_data(as_text=True)
    assert f"|  | ↳ jeugdhulp | {YOUTH_A11} |" in markdown
