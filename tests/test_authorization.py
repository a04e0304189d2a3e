"""The authorisation matrix: every route × every role × an object inside and outside scope.

A new route fails ``test_every_route_has_an_expectation`` until it is added to EXPECTED, so the
matrix grows with the application.
"""

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Account, Role, UnitKind
from tests.conftest import login

ANONYMOUS, ADMIN, QUALITY, MANAGER = "anonymous", "admin", "quality", "manager"
ROLES = [ANONYMOUS, ADMIN, QUALITY, MANAGER]


def public(ok: int = 200, logged_in: int | None = None):
    def expect(role: str, inside: bool) -> int:
        return ok if role == ANONYMOUS or logged_in is None else logged_in

    return expect


def public_object(role: str, inside: bool) -> int:
    """Open to everyone who has the (unguessable) link; an unknown one is 404."""
    return 200 if inside else 404


def short_object(role: str, inside: bool) -> int:
    """A team link's short code leads on to the team link; an unknown one is 404."""
    return 302 if inside else 404


def readers(role: str, inside: bool) -> int:
    """Every account role reads, but a manager only inside their scope (404 outside)."""
    if role == ANONYMOUS:
        return 302
    if role == MANAGER and not inside:
        return 404
    return 200


def quality_only(ok: int):
    """Admins and quality officers only: a manager gets 403 (not a 404: the page exists)."""

    def expect(role: str, inside: bool) -> int:
        return {ANONYMOUS: 302, MANAGER: 403}.get(role, ok)

    return expect


def admin_only(ok: int = 200, outside: int | None = None):
    """Administrators only: a quality officer or manager gets 403. ``outside`` is what an
    administrator gets for the world's other object (e.g. 404 for an id that does not exist)."""

    def expect(role: str, inside: bool) -> int:
        if role == ADMIN:
            return ok if inside or outside is None else outside
        return {ANONYMOUS: 302}.get(role, 403)

    return expect


def not_released(role: str, inside: bool) -> int:
    return 302 if role == ANONYMOUS else 404


#: endpoint → (HTTP method, expected status for (role, inside-scope)).
EXPECTED = {
    "static": ("GET", public()),
    "main.index": ("GET", public(200, logged_in=302)),
    "main.set_language": ("GET", public(302)),
    "main.health": ("GET", public()),
    "auth.login": ("GET", public(200, logged_in=302)),
    # POST without a CSRF token: refused before anything else, for everyone.
    "auth.logout": ("POST", public(400)),
    "main.privacy": ("GET", public()),
    # The respondent's pages: no account needed, nothing to see without a draft.
    "respond.team_link": ("GET", public_object),
    "respond.short_link": ("GET", short_object),
    "respond.code": ("GET", public()),
    "respond.resume": ("GET", public()),
    "respond.step": ("GET", public()),
    "respond.review": ("GET", public()),
    "respond.thanks": ("GET", public()),
    "respond.submit": ("POST", public(400)),
    "respond.confirm_discard": ("GET", public()),
    "respond.discard": ("POST", public(400)),
    "respond.pause": ("POST", public(400)),
    # A personal invitation's link (tests/test_invitations.py has real ones): an unknown one is
    # a 404 page; /invitation without one in the session says so.
    "respond.invitation_link": ("GET", public(404)),
    "respond.invitation": ("GET", public()),
    "respond.stop_reminders": ("GET", public(404)),
    "dashboard.index": ("GET", readers),
    "dashboard.unit": ("GET", readers),
    "dashboard.wave": ("GET", readers),
    "dashboard.wave_team": ("GET", readers),
    "dashboard.meeting_guide": ("GET", readers),
    # The matrix's waves are open: no report yet for anyone (tests/test_team_pages.py has the
    # closed case, with the manager refused outside their scope).
    "dashboard.team_report": ("GET", not_released),
    "dashboard.unit_trend": ("GET", readers),
    # The matrix's slugs are teams, which have no department view: 404 for every reader
    # (tests/test_department_view.py has departments inside and outside a manager's scope).
    "dashboard.department": ("GET", not_released),
    # The team's own results link: whoever has it, nothing without it.
    "team.results": ("GET", public_object),
    "team.meeting_guide": ("GET", public_object),
    "team.report": ("GET", public(404)),
    # The team records and follows up its actions through its link (tests/test_team_actions.py).
    "team.add_action": ("POST", public(400)),
    "team.update_action": ("POST", public(400)),
    # The quality officer's comparisons; the matrix's waves have not ended (404 for a wave).
    "quality.index": ("GET", quality_only(200)),
    "quality.wave": ("GET", quality_only(404)),
    "quality.wave_csv": ("GET", quality_only(404)),
    "quality.wave_xlsx": ("GET", quality_only(404)),
    "quality.trends": ("GET", quality_only(200)),
    "quality.profile": ("GET", quality_only(404)),
    "quality.instrument": ("GET", quality_only(404)),
    "quality.report": ("GET", quality_only(404)),
    "quality.responses": ("GET", quality_only(404)),
    "quality.choose_background_use": ("POST", public(400)),
    "quality.participation": ("GET", quality_only(200)),
    # Administration (survey/admin/): every route for administrators only. A POST without a
    # CSRF token is refused (400) before anything else, for everyone.
    "admin.index": ("GET", admin_only()),
    "admin.units": ("GET", admin_only()),
    "admin.unit_new": ("GET", admin_only()),
    "admin.unit_edit": ("GET", admin_only(200, 404)),
    "admin.unit_rename": ("POST", public(400)),
    "admin.unit_move": ("POST", public(400)),
    "admin.unit_staff": ("POST", public(400)),
    "admin.unit_archive": ("POST", public(400)),
    "admin.unit_restore": ("POST", public(400)),
    "admin.units_import": ("GET", admin_only()),
    "admin.units_import_confirm": ("POST", public(400)),
    # A team's staff list; the matrix's unit_slug is a department, which has none: 404 for an
    # administrator (tests/test_staff_lists.py has teams).
    "admin.staff_list": ("GET", admin_only(404)),
    "admin.staff_add": ("POST", public(400)),
    "admin.staff_remove": ("POST", public(400)),
    "admin.staff_remove_all": ("POST", public(400)),
    "admin.staff_set_expected": ("POST", public(400)),
    "admin.staff_import": ("GET", admin_only()),
    "admin.staff_import_confirm": ("POST", public(400)),
    "admin.settings": ("GET", admin_only()),
    "admin.audit": ("GET", admin_only()),
    "admin.audit_export": ("GET", admin_only()),
    "admin.questionnaires": ("GET", admin_only()),
    "admin.questionnaire_upload": ("GET", admin_only()),
    "admin.questionnaire_source": ("GET", admin_only(200, 404)),
    "admin.questionnaire_codebook": ("GET", admin_only(200, 404)),
    "admin.questionnaire_preview": ("GET", admin_only(200, 404)),
    "admin.life_domains": ("GET", admin_only()),
    "admin.accounts": ("GET", admin_only()),
    "admin.invite_account": ("GET", admin_only()),
    "admin.account": ("GET", admin_only(200, 404)),
    "admin.change_account_access": ("POST", public(400)),
    "admin.deactivate_account": ("POST", public(400)),
    "admin.reactivate_account": ("POST", public(400)),
    "admin.reset_account_password": ("POST", public(400)),
    # A set-password link that does not exist (tests/test_admin_accounts.py has real ones).
    "auth.set_password": ("GET", public(404)),
    "auth.confirm_password": ("GET", readers),
    # Every signed-in person's own account page (no object: "inside" only).
    "auth.account": ("GET", readers),
    "auth.save_account": ("POST", public(400)),
    "admin.waves": ("GET", admin_only()),
    "admin.new_wave": ("GET", admin_only()),
    "admin.wave": ("GET", admin_only()),
    "admin.wave_links": ("GET", admin_only()),
    "admin.wave_codes": ("GET", admin_only()),
    "admin.wave_invitations": ("GET", admin_only()),
    "admin.open_wave": ("POST", public(400)),
    "admin.extend_wave": ("POST", public(400)),
    "admin.close_wave": ("POST", public(400)),
    "admin.edit_wave": ("POST", public(400)),
    "admin.repeat_wave": ("GET", admin_only()),
    "admin.schedule_wave": ("GET", admin_only()),
    "admin.schedules": ("GET", admin_only()),
    "admin.stop_schedule": ("POST", public(400)),
    "admin.retention": ("GET", admin_only()),
    "admin.apply_retention": ("POST", public(400)),
}


@pytest.fixture
def world(tree, make_unit, make_wave, make_account):
    """Team A (the manager's) and team C (not theirs); wave 1 asks both, wave 2 only team C."""
    shared = make_wave([tree["team-a"], tree["team-c"]], name="Wave A and C")
    other = make_wave([tree["team-c"]], name="Wave C")
    make_account("admin@example.org", Role.ADMIN)
    make_account("quality@example.org", Role.QUALITY)
    make_account("manager@example.org", Role.MANAGER, [tree["team-a"]])
    common = {"lang": "en", "filename": "css/app.css", "number": 1, "action_id": 1, "fmt": "csv"}
    manager = db.session.scalar(sa.select(Account).where(Account.role == Role.MANAGER))
    return {
        True: {
            **common,
            "slug": "team-a",
            "wave_id": shared.id,
            "link_slug": shared.teams[0].link_slug,
            "typed": shared.teams[0].short_code.lower(),
            "results_slug": shared.teams[0].results_slug,
            "account_id": manager.id,
            "version_id": shared.questionnaire_version_id,
            "unit_slug": "north",
            "event_id": 1,
            "token": "no-such-token",
            "schedule_id": 1,
        },
        False: {
            **common,
            "slug": "team-c",
            "wave_id": other.id,
            "link_slug": "no-such-link",
            "typed": "ACDE-2345",
            "results_slug": "no-such-link",
            "account_id": 999_999,
            "version_id": 999_999,
            "unit_slug": "no-such-unit",
            "event_id": 999_999,
            "token": "no-such-token",
            "schedule_id": 999_999,
        },
    }


def test_every_route_has_an_expectation(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - EXPECTED.keys() == set(), "add the new routes to EXPECTED"
    assert EXPECTED.keys() - endpoints == set(), "remove routes that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_matrix(app, client, world, role):
    if role != ANONYMOUS:
        assert login(client, f"{role}@example.org").status_code == 302
    failures = []
    for rule in app.url_map.iter_rules():
        method, expect = EXPECTED[rule.endpoint]
        for inside in (True, False) if rule.arguments else (True,):
            values = {name: world[inside][name] for name in rule.arguments}
            if {"wave_id", "slug"} <= rule.arguments and not inside:
                values["wave_id"] = world[True]["wave_id"]  # a wave they see, a team they don't
            url = rule.build(values, append_unknown=False)[1]
            with client.open(url, method=method) as response:
                status = response.status_code
                missing = missing_security_headers(response)
            if status != expect(role, inside):
                failures.append(f"{method} {url}: {status}, expected {expect(role, inside)}")
            if missing:
                failures.append(f"{method} {url} ({status}): no or wrong {', '.join(missing)}")
    assert failures == []


def missing_security_headers(response) -> list[str]:
    """The headers every response must carry, whatever its status (the matrix sees 200, 302,
    400, 403 and 404 on every route)."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.split(" ", 1)[0]: part for part in csp.split("; ")}
    expected = {
        "Content-Security-Policy script-src": directives.get("script-src") == "script-src 'self'",
        "Content-Security-Policy frame-ancestors": directives.get("frame-ancestors")
        == "frame-ancestors 'none'",
        "Content-Security-Policy object-src": directives.get("object-src") == "object-src 'none'",
        "X-Content-Type-Options": headers.get("X-Content-Type-Options") == "nosniff",
        "X-Frame-Options": headers.get("X-Frame-Options") == "DENY",
        "Referrer-Policy": headers.get("Referrer-Policy") == "same-origin",
    }
    if response.mimetype == "text/html":
        expected["Cache-Control"] = headers.get("Cache-Control") == "no-store"
    return [name for name, present in expected.items() if not present]


def test_a_manager_sees_only_their_teams_in_a_shared_wave(client, world):
    login(client, "manager@example.org")
    page = client.get(f"/dashboard/waves/{world[True]['wave_id']}").get_data(as_text=True)
    assert "Team A" in page
    assert "Team C" not in page


def test_a_manager_of_a_department_sees_the_teams_below_it(client, tree, make_account):
    make_account("north@example.org", Role.MANAGER, [tree["north"]])
    login(client, "north@example.org")
    assert client.get("/dashboard/units/north").status_code == 200
    assert client.get("/dashboard/units/team-b").status_code == 200
    assert client.get("/dashboard/units/org").status_code == 404
    assert client.get("/dashboard/units/south").status_code == 404
    overview = client.get("/dashboard/").get_data(as_text=True)
    assert "Team A" in overview and "Team B" in overview and "Team C" not in overview


def test_deeper_trees_stay_in_scope(client, tree, make_unit, make_account):
    sub = make_unit("north-east", UnitKind.DEPARTMENT, tree["north"])
    make_unit("team-deep", parent=sub)
    make_account("north@example.org", Role.MANAGER, [tree["north"]])
    login(client, "north@example.org")
    assert client.get("/dashboard/units/team-deep").status_code == 200
