"""Issue 17, "exports a Belgian spreadsheet opens right": every CSV and XLSX an admin or quality
officer can download (the list: ``DOWNLOADS`` in tests/test_insider_figures.py; a manager
downloads PDFs only) is followed from the page that links it and opened with pandas as a user
would: Dutch with ``sep=";"`` and ``decimal=","``, English with ``sep=","`` and ``decimal="."``,
``encoding="utf-8-sig"``; the workbook with ``pd.read_excel``.

Each CSV starts with a byte order mark and its header row (no title line above it); holds the
table of one sheet of the page's workbook, number for number; numbers come out as numbers; and
every number in it is printed on the page the same way.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd
import pytest
from openpyxl import load_workbook
from pandas.api.types import is_numeric_dtype

from questionnaires.codebook import COLUMNS as CODEBOOK_COLUMNS
from reports.csv_table import DUTCH, ENGLISH, cell_text, csv_bytes
from reports.xlsx import workbook_bytes
from survey.extensions import db
from survey.models import Role, WaveStatus
from survey.services import background_use
from tests.conftest import csrf_token, login
from tests.test_insider_figures import DOWNLOADS
from tests.test_team_results import add_responses

BOM = b"\xef\xbb\xbf"
DIALECTS = {"nl": {"sep": ";", "decimal": ","}, "en": {"sep": ",", "decimal": "."}}
DOWNLOAD_LINK = re.compile(r'href="([^"]*(?:format=(?:csv|xlsx)|\.csv|\.xlsx)[^"]*)"')


@pytest.fixture(autouse=True)
def everyone_at_once(app):
    """The waves close today; their figures are read at once (no team-first period)."""
    app.config["TEAM_FIRST_DAYS"] = 0


def answer_sets(count: int, shift: int) -> list[dict[str, object]]:
    """``count`` varied answer sets, so that means, α, intervals and changes all exist."""
    sets = []
    for index in range(count):
        level = 2 + (index + shift) % 3
        wobble = index % 2
        sets.append(
            {
                "A1.1": level,
                "A1.2": min(5, level + wobble),
                "A1.3": 6 - level,
                "B1.1": min(5, level + shift % 2),
                "B1.2": level,
                "B1.3": min(5, level + 1 + wobble),
                "B1.4": level,
                "BG1": 1 + index % 2,
            }
        )
    return sets


@pytest.fixture
def organisation(tree, make_wave, make_account):
    """Two ended waves over the whole tree, every team with 8 answers (above k and the spread
    threshold, so every figure is shown), background answers used for the response export."""
    autumn = make_wave([tree["org"]], status=WaveStatus.CLOSED, name="Najaar 2025")
    autumn.opens_on -= timedelta(days=200)
    autumn.closes_on -= timedelta(days=200)
    spring = make_wave([tree["org"]], status=WaveStatus.CLOSED, name="Voorjaar 2026")
    db.session.commit()
    for shift, wave in enumerate((autumn, spring)):
        for index, team in enumerate(sorted(wave.teams, key=lambda t: t.unit.slug)):
            add_responses(team, answer_sets(8, shift + index))
        background_use.choose(wave, background_use.ROWS, None)
    db.session.commit()
    make_account("kwaliteit@example.org", Role.QUALITY)
    make_account("beheer@example.org", Role.ADMIN)
    return spring


def signed_in(client, email: str, lang: str):
    login(client, email)
    client.get(f"/language/{lang}")
    return client


def workbook_of(url: str) -> str:
    """The workbook link that holds the table of a CSV link: same page, same choices."""
    parts = urlsplit(url)
    query = [(k, "xlsx" if k == "format" else v) for k, v in parse_qsl(parts.query) if k != "table"]
    path = re.sub(r"\.csv$", ".xlsx", parts.path)
    return f"{path}?{urlencode(query)}" if query else path


def links_of(page: str) -> tuple[list[str], list[str]]:
    """The page's CSV links and workbook links, in order."""
    urls = [url.replace("&amp;", "&") for url in DOWNLOAD_LINK.findall(page)]
    xlsx = [url for url in urls if "xlsx" in url]
    return [url for url in urls if url not in xlsx], xlsx


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def shown_variants(raw: str) -> set[str]:
    """How a page may print the CSV's number ``raw``: as is, signed, with a true minus sign."""
    return {raw, f"+{raw}", raw.replace("-", "\u2212")}


#: Columns whose figure a page prints only sometimes: the trend page writes a change as a
#: number only when it is clear ("no clear change" otherwise); the export always gives it.
NOT_ALWAYS_ON_THE_PAGE = ("Verandering ", "Change ")


def read_workbook(content: bytes) -> dict[str, tuple[list[str], pd.DataFrame]]:
    """Per sheet: its header row as written (pandas renames repeated names) and its table."""
    frames = pd.read_excel(io.BytesIO(content), sheet_name=None)
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    headers = {
        sheet.title: ["" if v is None else str(v) for v in next(sheet.values)]
        for sheet in workbook.worksheets
    }
    workbook.close()
    return {name: (headers[name], frame) for name, frame in frames.items()}


def in_the_same_order(
    frame: pd.DataFrame, sheet: pd.DataFrame, raw: list[list[str]]
) -> tuple[pd.DataFrame, pd.DataFrame, list[list[str]]]:
    """The response-level export shuffles its rows on every download, then numbers them: both
    sorted on every column but the running number, which is compared as a set."""
    assert sorted(frame.iloc[:, 0]) == sorted(sheet.iloc[:, 0])
    by = list(range(1, frame.shape[1]))
    order = frame.sort_values([frame.columns[i] for i in by]).index
    frame = frame.loc[order].iloc[:, by].reset_index(drop=True)
    sheet = sheet.sort_values([sheet.columns[i] for i in by]).iloc[:, by].reset_index(drop=True)
    return frame, sheet, [raw[0][1:]] + [raw[i + 1][1:] for i in order]


def check_csv(
    reply,
    table: tuple[list[str], pd.DataFrame],
    lang: str,
    page: str | None,
    shuffled: bool = False,
) -> int:
    """Open one CSV as a user would and hold it against its sheet of the workbook (and the
    page). Returns how many all-number columns came out as numbers."""
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    assert reply.data.startswith(BOM)
    dialect = DIALECTS[lang]
    raw = list(csv.reader(io.StringIO(reply.data.decode("utf-8-sig")), delimiter=dialect["sep"]))
    header, sheet = table
    assert raw[0] == header  # the first line is the header: no title line above it
    frame = pd.read_csv(io.BytesIO(reply.data), encoding="utf-8-sig", **dialect)
    assert frame.shape == sheet.shape, (frame.shape, sheet.shape)
    if shuffled:
        frame, sheet, raw = in_the_same_order(frame, sheet, raw)
        header = raw[0]
    numeric_columns = 0
    for column in range(sheet.shape[1]):
        expected = list(sheet.iloc[:, column])
        got = list(frame.iloc[:, column])
        numbers = [v for v in expected if is_number(v) and not math.isnan(v)]
        texts = [v for v in expected if isinstance(v, str)]
        if numbers and not texts:
            assert is_numeric_dtype(frame.iloc[:, column]), (header[column], got)
            numeric_columns += 1
        for row, (want, have) in enumerate(zip(expected, got, strict=True)):
            if is_number(want) and math.isnan(want):
                assert have != have or have == "", (header[column], row, have)
            elif is_number(want):
                value = float(str(have).replace(dialect["decimal"], "."))
                assert value == want, (header[column], row, have, want)
                text = raw[row + 1][column]
                assert "," not in text or lang == "nl", text  # never a thousands separator
                if page is not None and not header[column].startswith(NOT_ALWAYS_ON_THE_PAGE):
                    assert any(v in page for v in shown_variants(text)), (header[column], text)
            else:
                assert str(have) == str(want), (header[column], row, have, want)
    return numeric_columns


def check_page(client, url: str, lang: str, with_page_figures: bool = True) -> int:
    """Every CSV linked from ``url`` against its workbook (and, optionally, the page)."""
    reply = client.get(url)
    assert reply.status_code == 200, url
    page = reply.get_data(as_text=True)
    csv_links, xlsx_links = links_of(page)
    assert csv_links and xlsx_links, url
    per_workbook: dict[str, list[str]] = defaultdict(list)
    for link in csv_links:
        per_workbook[workbook_of(link)].append(link)
    assert set(per_workbook) <= set(xlsx_links), (per_workbook, xlsx_links)
    numeric_columns = 0
    for workbook_url, links in per_workbook.items():
        workbook = client.get(workbook_url)
        assert workbook.status_code == 200, workbook_url
        sheets = read_workbook(workbook.data)
        names = [name for name in sheets if name != "codebook"]
        assert "codebook" in sheets and len(names) == len(links), (names, links)
        for link, name in zip(links, names, strict=True):
            shown = page if with_page_figures else None
            shuffled = "/responses." in link and name.startswith("1 ")
            numeric_columns += check_csv(client.get(link), sheets[name], lang, shown, shuffled)
    return numeric_columns


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_quality_export_opens_right_in_pandas(client, organisation, lang):
    wave = organisation
    signed_in(client, "kwaliteit@example.org", lang)
    pages = [
        f"/quality/waves/{wave.id}/profile",
        f"/quality/waves/{wave.id}/instrument",
        "/quality/units/org",
        "/quality/units/team-a",
    ]
    for url in pages:
        assert check_page(client, url, lang) >= 2, url
    # The wave page: the scores (as on the page) and the response-level export (on no page).
    for url in (f"/quality/waves/{wave.id}", f"/quality/waves/{wave.id}?under=north"):
        page = client.get(url).get_data(as_text=True)
        csv_links, _xlsx = links_of(page)
        scores = [link for link in csv_links if "scores.csv" in link]
        assert len(scores) == 1 and len(csv_links) == 4, csv_links  # scores + 3 response tables
        sheets = read_workbook(client.get(workbook_of(scores[0])).data)
        assert check_csv(client.get(scores[0]), sheets[next(iter(sheets))], lang, page) >= 4
    assert check_page(client, f"/quality/waves/{wave.id}", lang, with_page_figures=False) > 4


def test_the_page_and_the_csv_print_the_same_figures(client, organisation):
    """Spot checks beside the generic comparison: a mean and an α, as the page prints them."""
    wave = organisation
    signed_in(client, "kwaliteit@example.org", "nl")
    text = client.get(f"/quality/waves/{wave.id}/scores.csv").data
    scores = pd.read_csv(io.BytesIO(text), sep=";", decimal=",", encoding="utf-8-sig")
    org = scores[scores.iloc[:, 0] == "Org"].iloc[0]
    mean = org["A1 Focus op krachten"]
    assert isinstance(mean, float) and org["n A1 Focus op krachten"] == 24  # 3 teams of 8
    page = client.get(f"/quality/waves/{wave.id}").get_data(as_text=True)
    assert f"{mean:.1f}".replace(".", ",") in page
    instrument = client.get(f"/quality/waves/{wave.id}/instrument?format=csv")
    reliability = pd.read_csv(
        io.BytesIO(instrument.data), sep=";", decimal=",", encoding="utf-8-sig"
    )
    assert list(reliability.columns[:4]) == ["Schaal", "n", "α", "ω"]
    alpha = reliability["α"].iloc[0]
    assert isinstance(alpha, float) and 0 < alpha < 1
    instrument_page = client.get(f"/quality/waves/{wave.id}/instrument").get_data(as_text=True)
    assert f"{alpha:.2f}".replace(".", ",") in instrument_page


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_audit_log_opens_right(client, organisation, lang):
    signed_in(client, "beheer@example.org", lang)
    # The wave events only: each download is itself a new event of the log.
    page = client.get("/admin/audit?action=wave.").get_data(as_text=True)
    (link,), (workbook_url,) = links_of(page)
    (table,) = read_workbook(client.get(workbook_url).data).values()
    check_csv(client.get(link), table, lang, None)
    reply = client.get(link)
    first_line = reply.data.decode("utf-8-sig").splitlines()[0]
    assert first_line.split(DIALECTS[lang]["sep"])[0] in ("Wanneer", "When")


def test_issued_codes_open_right_in_a_spreadsheet(client, organisation, tree, make_wave):
    wave = make_wave([tree["team-a"]], name="Najaar 2026")
    signed_in(client, "beheer@example.org", "nl")
    url = f"/admin/waves/{wave.id}/codes"
    data = {"team": "team-a", "count": "3", "output": "csv", "csrf_token": csrf_token(client, url)}
    reply = client.post(url, data=data)
    assert reply.status_code == 200 and reply.data.startswith(BOM)
    codes = pd.read_csv(io.BytesIO(reply.data), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(codes.columns) == ["code"] and len(codes) == 3
    assert all(re.fullmatch(r"[2-9A-Z]{5}-[2-9A-Z]{5}", code) for code in codes["code"])


def test_the_codebook_opens_right(client, organisation):
    signed_in(client, "beheer@example.org", "nl")
    version_id = organisation.questionnaire_version.id
    reply = client.get(f"/admin/questionnaires/{version_id}/codebook")
    assert reply.status_code == 200
    codebook = pd.read_excel(io.BytesIO(reply.data))
    assert list(codebook.columns) == list(CODEBOOK_COLUMNS)
    assert set(codebook["item"]) >= {"A1.1", "B1.4"}


def test_every_spreadsheet_route_is_covered_here():
    """A new CSV or XLSX download joins DOWNLOADS (tests/test_insider_figures.py) and a test
    here; the rest of DOWNLOADS are PDFs and the questionnaire's own file."""
    covered = {
        "admin.audit_export",
        "admin.questionnaire_codebook",
        "quality.instrument",
        "quality.profile",
        "quality.responses",
        "quality.trends",
        "quality.wave_csv",
        "quality.wave_xlsx",
    }
    not_spreadsheets = {
        "dashboard.team_report",
        "quality.report",
        "team.report",
        "admin.questionnaire_source",
    }
    assert covered | not_spreadsheets == DOWNLOADS


def test_a_table_the_page_does_not_have_is_404(client, organisation):
    wave = organisation
    signed_in(client, "kwaliteit@example.org", "nl")
    base = f"/quality/waves/{wave.id}/instrument?format=csv"
    assert client.get(f"{base}&table=per-vraag").status_code == 200
    assert client.get(f"{base}&table=no-such-table").status_code == 404
    assert client.get(f"/quality/waves/{wave.id}/responses.csv?table=x").status_code == 404
    # without a table: the page's first, main table
    first = client.get(base).data.decode("utf-8-sig").splitlines()[0]
    assert first.startswith("Schaal;n;α;ω")


def test_cells_are_written_as_a_spreadsheet_reads_them():
    assert cell_text(3.5, DUTCH) == "3,5" and cell_text(3.5, ENGLISH) == "3.5"
    assert cell_text(-0.25, DUTCH) == "-0,25" and cell_text(12, DUTCH) == "12"
    assert cell_text(1234567.5, DUTCH) == "1234567,5"  # no thousands separator
    assert cell_text(0.00001, ENGLISH) == "0.00001"  # no exponent
    assert cell_text(1e16, ENGLISH) == "10000000000000000"
    assert cell_text(float("nan"), DUTCH) == "" and cell_text(None, DUTCH) == ""
    assert cell_text("3.5", DUTCH) == "3.5"  # text stays text
    content = csv_bytes(["a", "b"], [[1, 2.5], ["x;y", None]], DUTCH)
    assert content == BOM + b'a;b\r\n1;2,5\r\n"x;y";\r\n'


def test_text_that_looks_like_a_formula_stays_text_in_both_formats():
    """A name an administrator typed ("=HYPERLINK(...)", "+31 ...", "@SUM") is shown as text:
    behind an apostrophe in a CSV, typed as a string in a workbook; numbers stay numbers."""
    names = ['=HYPERLINK("http://x")', "+32 470", "-team", "@SUM(A1)", "Team Anker"]
    rows = [[name, -0.5] for name in names]
    text = csv_bytes(["naam", "gemiddelde"], rows, DUTCH).decode("utf-8-sig")
    read = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    assert list(read["naam"]) == ["'" + name for name in names[:4]] + ["Team Anker"]
    assert list(read["gemiddelde"]) == [-0.5] * 5
    sheet = load_workbook(io.BytesIO(workbook_bytes([("t", ["naam", "gemiddelde"], rows)]))).active
    cells = [sheet.cell(row, 1) for row in range(2, 7)]
    assert [cell.value for cell in cells] == names
    assert {cell.data_type for cell in cells} == {"s"} and sheet.cell(2, 2).value == -0.5
