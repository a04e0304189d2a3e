"""One rounding rule (reports/rounding.py): the same cell reads the same on the page, in the CSV
and in the PDF, and the shares of one row of answers add up to 100."""

import csv
import io
import json
import re
from decimal import Decimal
from itertools import product

import pytest

from reports.rounding import formatted, rounded, shares_of_100, whole_percent
from survey.models import Role, WaveStatus
from tests.conftest import login
from tests.test_codes import pdf_text
from tests.test_insider_figures import CHART_JSON, wave_team_of
from tests.test_team_results import add_responses


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (12.5, 0, 13.0),  # Python's round() and "%.0f" give 12
        (13.5, 0, 14.0),
        (3.25, 1, 3.3),  # "%.1f" gives 3.2
        (3.45, 1, 3.5),  # binary 3.4500000000000001776...
        (3.4499999999999997, 1, 3.5),  # float noise of a mean that is 3.45
        (3.449, 1, 3.4),
        (2.675, 2, 2.68),  # binary 2.67499999999999982236431605997495353221893310546875
        (-0.25, 1, -0.3),  # half away from zero on both sides
        (-0.04, 1, 0.0),
    ],
)
def test_halves_round_away_from_zero(value, digits, expected):
    assert rounded(value, digits) == expected


def test_a_rounded_zero_has_no_sign_and_dutch_takes_a_comma():
    assert formatted(-0.04) == "0.0" and formatted(-0.04, decimal_comma=True) == "0,0"
    assert formatted(-0.06) == "-0.1"
    assert formatted(3.25, decimal_comma=True) == "3,3" and formatted(12.5, 0) == "13"
    assert formatted(4, 2) == "4.00"
    assert rounded(None) is None and rounded(float("nan")) is None
    assert whole_percent(12.5) == 13 and whole_percent(None) is None


def test_the_shares_of_a_row_add_up_to_100_and_stay_within_a_point_of_their_own_share():
    assert shares_of_100([1, 1, 1]) == [34, 33, 33]  # rounded one by one: 99
    assert shares_of_100([1, 1, 1, 1, 1, 1]) == [17, 17, 17, 17, 16, 16]  # one by one: 102
    assert shares_of_100([0, 0, 0]) == [0, 0, 0]
    for counts in product(range(4), repeat=5):
        if not sum(counts):
            continue
        shares = shares_of_100(counts)
        assert sum(shares) == 100, counts
        for count, share in zip(counts, shares, strict=True):
            assert abs(Decimal(100 * count) / sum(counts) - share) < 1, counts


# The same cell on the page, in the CSV and in the PDF ------------------------------------------


def answers(a1: tuple[int, int, int], b1: tuple[int, int, int, int], count: int = 10):
    a, b = ["A1.1", "A1.2", "A1.3"], ["B1.1", "B1.2", "B1.3", "B1.4"]
    return [dict(zip(a, a1, strict=True)) | dict(zip(b, b1, strict=True))] * count


@pytest.fixture
def halves(app, tree, make_wave, make_account):
    """B1 means at exact halves of a decimal: team-a 3.25, team-b 4.25, team-c 2.25, so north
    (a + b) 3.75 and the organisation 3.25; A1 answered 2, 4 and 1 (reversed: 5) by everyone
    in team-a, so its answers split in thirds."""
    app.config["TEAM_FIRST_DAYS"] = 0
    wave = make_wave([tree["org"]], status=WaveStatus.CLOSED)
    add_responses(wave_team_of(wave, "team-a"), answers((2, 4, 1), (3, 3, 3, 4)))
    add_responses(wave_team_of(wave, "team-b"), answers((4, 4, 2), (4, 4, 4, 5)))
    add_responses(wave_team_of(wave, "team-c"), answers((3, 3, 3), (2, 2, 2, 3)))
    make_account("kwaliteit@example.org", Role.QUALITY)
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    return wave


def page_cells(page: str, unit: str) -> list[str]:
    """The figures of a unit's row of the heatmap: its n, then one per scale."""
    heading = rf"<th scope=\"row\">\s*(?:<a[^>]*>)?{unit}(?:</a>)?.*?</th>"
    row = re.search(heading + r"(.*?)</tr>", page, re.S)
    assert row, unit
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def csv_cells(text: str, unit: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    return next(row for row in rows if row and row[0] == unit)


def pdf_figures(pdf: bytes, tmp_path) -> str:
    """The PDF's text without its colour key's ranges ("2,8–3,2")."""
    return re.sub(r"\d,\d–\d,\d", "", pdf_text(pdf))


def test_page_csv_and_pdf_print_the_same_rounded_figure(client, halves, tmp_path):
    login(client, "kwaliteit@example.org")
    expected = {"Org": "3,3", "North": "3,8", "South": "2,3"}  # 3.25, 3.75, 2.25
    page = client.get(f"/quality/waves/{halves.id}").get_data(as_text=True)
    text = client.get(f"/quality/waves/{halves.id}/scores.csv").get_data(as_text=True)
    for unit, b1 in expected.items():
        cells = page_cells(page, unit)
        assert cells[0] == {"Org": "30", "North": "20", "South": "10"}[unit]  # n per row
        assert cells[2] == b1, unit  # n, A1, B1
        csv_row = csv_cells(text, unit)  # unit, level, A1, n A1, B1, n B1
        assert csv_row[4] == b1, unit  # a decimal comma in Dutch, as on the page
    pdf = client.get(f"/quality/waves/{halves.id}/report.pdf").data
    shown = pdf_figures(pdf, tmp_path)
    for b1 in expected.values():
        assert re.search(rf"(?<![\d,]){b1}(?![\d])", shown), b1
    # the figures a half-to-even rule, or two decimals, would print: nowhere
    for wrong in ("3,2", "3,25", "2,2", "2,25", "4,2", "4,25"):
        assert not re.search(rf"(?<![\d,]){wrong}(?![\d])", shown), wrong
        assert not re.search(rf"<td[^>]*>{wrong}</td>", page), wrong


def test_the_team_page_and_its_pdf_round_alike_and_its_shares_add_up(client, halves, tmp_path):
    login(client, "lg@example.org")
    base = f"/dashboard/waves/{halves.id}/teams/team-a"
    page = client.get(base).get_data(as_text=True)
    b1_row = re.search(r"B1 Psychologische veiligheid</th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r"<td>(.*?)</td>", b1_row)[1] == "3,3"
    shown = pdf_figures(client.get(f"{base}/report.pdf").data, tmp_path)
    assert re.search(r"(?<![\d,])3,3(?![\d])", shown)
    assert not re.search(r"(?<![\d,])3,2(?![\d])", shown)
    charts = {name: json.loads(payload) for name, payload in CHART_JSON.findall(page)}
    answers_chart = charts["chart-answers-A"]
    # one trace per answer on each side of the middle; the shares of each row add up to 100
    per_answer = {}
    for trace in answers_chart["data"]:
        per_answer[trace["legendgroup"]] = trace["customdata"]
    rows = list(zip(*per_answer.values(), strict=True))
    assert rows and all(sum(row) == 100 for row in rows)
    assert (34, 33, 33) in {tuple(sorted(row, reverse=True))[:3] for row in rows}  # A1's thirds
