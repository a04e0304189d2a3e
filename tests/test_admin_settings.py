"""The settings page: current values, validation with clear messages, what a save changes (the
audit log, the anonymity gate on a team's page), and the database's own floor for k."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from survey.extensions import db
from survey.models import AuditEvent, OrganisationSettings, Role, WaveStatus
from survey.services.settings import save_settings
from tests.conftest import csrf_token, login
from tests.test_team_results import add_responses, agreeing

ADMIN = "admin@example.org"
VALID = {
    "min_group_size": "5",
    "spread_threshold": "7",
    "comments_enabled": "y",
    "team_first_days": "0",
    "languages": ["nl", "en"],
    "retention_years": "",
}


@pytest.fixture(autouse=True)
def everyone_at_once(app):
    """These tests save and show settings from the old default of no team-first period (the
    default is 14 days now: tests/test_insider_storage.py)."""
    app.config["TEAM_FIRST_DAYS"] = 0


@pytest.fixture
def admin(client, make_account):
    make_account(ADMIN, Role.ADMIN)
    assert login(client, ADMIN).status_code == 302
    client.get("/language/en")
    return client


def save(client, **changes):
    data = {**VALID, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    token = csrf_token(client, "/admin/settings")
    return client.post("/admin/settings", data={**data, "csrf_token": token})


def stored() -> OrganisationSettings | None:
    db.session.expire_all()
    return db.session.get(OrganisationSettings, 1)


def test_the_page_shows_the_values_in_force(admin):
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="min_group_size" required type="number" value="5"' in page
    assert 'name="spread_threshold" required type="number" value="7"' in page
    assert 'checked id="comments_enabled"' in page
    assert 'checked id="languages-0"' in page and 'checked id="languages-1"' in page
    assert "can never be lower than 3" in page  # why k has a floor
    assert "without limit" in page


def test_saving_stores_every_setting_and_audits_what_changed(admin):
    reply = save(
        admin,
        min_group_size="6",
        spread_threshold="8",
        comments_enabled=None,
        team_first_days="14",
        languages=["nl"],
        retention_years="10",
    )
    assert reply.status_code == 302
    row = stored()
    assert (row.min_group_size, row.spread_threshold, row.comments_enabled) == (6, 8, False)
    assert (row.team_first_days, row.languages, row.retention_years) == (14, ["nl"], 10)
    assert row.life_domains is None  # not this page's business: left as it was
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "settings.change")
    ).all()
    assert event.actor == ADMIN
    assert event.details["changes"] == {
        "min_group_size": [5, 6],
        "spread_threshold": [7, 8],
        "comments_enabled": [True, False],
        "team_first_days": [0, 14],
        "languages": [["nl", "en"], ["nl"]],
        "retention_years": [None, 10],
    }
    # only Dutch offered now: the page follows, whatever the session asked before
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert '<html lang="nl">' in page and 'hreflang="en"' not in page


def test_raising_k_says_what_it_means(admin):
    reply = save(admin, min_group_size="6")
    assert reply.status_code == 302
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "The minimum group size is now 6 (was 5)" in page
    assert "no longer shown anywhere" in page
    lowered = save(admin, min_group_size="4")
    assert lowered.status_code == 302
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "is now 4 (was 6) for waves opened from now on" in page
    assert "keep the minimum group size they were answered under" in page


def test_saving_the_same_values_changes_nothing(admin):
    assert save(admin).status_code == 302
    assert "Nothing changed" in admin.get("/admin/settings").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"min_group_size": "2"}, "Fill in a number from 3 to 50."),
        ({"min_group_size": "-1"}, "Fill in a number from 3 to 50."),
        ({"min_group_size": "five"}, "Fill in a whole number, e.g. 5."),
        ({"min_group_size": ""}, "Fill in the minimum group size."),
        ({"min_group_size": "6", "spread_threshold": "5"}, "at least as many answers as the"),
        ({"team_first_days": "91"}, "Fill in a number from 0 to 90."),
        ({"team_first_days": "1.5"}, "Fill in a whole number"),
        ({"languages": []}, "Choose at least one language."),
        ({"languages": ["nl", "de"]}, "Choose Nederlands, English or both."),
        ({"retention_years": "0"}, "Fill in a number from 1 to 50."),
        ({"retention_years": "51"}, "Fill in a number from 1 to 50."),
        ({"retention_years": "9" * 40}, "Fill in a number from 1 to 50."),
    ],
)
def test_invalid_settings_are_refused_with_a_summary_and_the_typed_values_kept(
    admin, changes, message
):
    reply = save(admin, **changes)
    page = html.unescape(reply.get_data(as_text=True))
    assert reply.status_code == 422
    assert "There is a problem" in page and message in page
    for name, value in changes.items():
        if isinstance(value, str) and value:
            assert f'name="{name}"' in page and f'value="{value}"' in page
    assert stored() is None
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_a_post_without_the_form_token_is_refused(admin):
    reply = admin.post("/admin/settings", data=VALID)
    assert reply.status_code == 400 and stored() is None


def test_the_database_refuses_k_below_3_even_without_the_form(app):
    with pytest.raises(IntegrityError):
        save_settings({"min_group_size": 2, "spread_threshold": 7}, None)
    db.session.rollback()
    with pytest.raises(IntegrityError):
        save_settings({"min_group_size": 5, "spread_threshold": 4}, None)
    db.session.rollback()
    assert stored() is None


def test_a_saved_k_takes_effect_behind_the_anonymity_gate(
    admin, client, tree, make_wave, make_account
):
    wave = make_wave([tree["team-a"]], status=WaveStatus.CLOSED)
    add_responses(wave.teams[0], agreeing(5))
    team_page = f"/dashboard/waves/{wave.id}/teams/team-a"
    shown = admin.get(team_page).get_data(as_text=True)
    assert "<td>4.0</td>" in shown and "Fewer than 5 answers" not in shown
    assert save(admin, min_group_size="6").status_code == 302
    assert stored().min_group_size == 6
    hidden = admin.get(team_page).get_data(as_text=True)
    assert "Fewer than 6 answers: not shown to protect anonymity." in hidden
    assert "<td>4.0</td>" not in hidden
    # the team's own link follows the same setting
    link = admin.get(f"/team/{wave.teams[0].results_slug}").get_data(as_text=True)
    assert "Fewer than 6 answers" in link and "<td>4.0</td>" not in link
    # and a manager (another session) sees the same
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    other = client.application.test_client()
    login(other, "lg@example.org")
    other.get("/language/en")
    assert "Fewer than 6 answers" in other.get(team_page).get_data(as_text=True)
