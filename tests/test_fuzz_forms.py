"""Hypothesis throws malformed input at every form of the application: never a 500.

The forms are not listed by hand: the test visits every page an administrator (and a
respondent, through a team link) can reach, collects each ``<form method="post">`` with its
fields, and posts hostile variants of it: missing fields, wrong types, unknown option values,
duplicated fields, huge and odd text, random files with path tricks in their names. Routes
that accept a POST but whose form the crawl did not find are posted random fields too. A new
form is fuzzed the day it appears.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.extensions import db
from survey.models import Account, Role, StaffMember, WaveSchedule, WaveStatus
from tests.conftest import login

#: Forms that end the session under test; fuzzing them would only log the crawler out.
SKIPPED_ACTIONS = {"/logout"}


@dataclass
class Form:
    action: str
    multipart: bool
    #: name → the values the page offers (options, radio/checkbox values, the preset value).
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


class FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self._form = Form(action, a.get("enctype") == "multipart/form-data")
            self.forms.append(self._form)
        elif self._form is None or not a.get("name") and tag != "option":
            return
        elif tag == "input" and a.get("type") == "file":
            self._form.files.append(a["name"])
        elif tag in ("input", "textarea", "button"):
            self._form.fields.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
            self._form.fields.setdefault(a["name"], [])
        elif tag == "option" and self._select:
            self._form.fields[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_on(client: FlaskClient, url: str) -> list[Form]:
    response = client.get(url)
    if response.status_code != 200 or response.mimetype != "text/html":
        return []
    parser = FormParser(url)
    parser.feed(response.get_data(as_text=True))
    return [form for form in parser.forms if urlsplit(form.action).path not in SKIPPED_ACTIONS]


def crawl(
    app: Flask, client: FlaskClient, start: list[str], skip: tuple[str, ...] = ()
) -> dict[str, Form]:
    """Every post form on the pages reachable from ``start`` (same site, GET links only),
    except those whose action starts with one of ``skip``."""
    seen: set[str] = set()
    found: dict[str, Form] = {}
    queue = list(start)
    while queue and len(seen) < 150:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        parser = FormParser(url)
        parser.feed(page)
        for form in parser.forms:
            path = urlsplit(form.action).path
            if path not in SKIPPED_ACTIONS and not path.startswith(skip):
                found.setdefault(path, form)
        for href in LinkParser.links(page):
            target = urlsplit(urljoin(url, href))
            if not target.netloc and target.path.startswith(("/admin", "/respond")):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


class LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)

    @classmethod
    def links(cls, page: str) -> list[str]:
        parser = cls()
        parser.feed(page)
        return parser.hrefs


HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "0",
            "3.5",
            "1e309",
            "99999999999999999999999",
            "2026-02-30",
            "31-12-2026",
            "../../../etc/passwd",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "\x00",
            "nl\r\nSet-Cookie: x=y",
            "ü" * 5000,
            "A" * 200_000,
        ]
    ),
)
FILE_NAMES = st.sampled_from(
    [
        "units.csv",
        "../../etc/passwd",
        "..\\..\\boot.ini",
        "a\x00.yaml",
        "",
        "ünï cödé.toml",
        "x" * 300,
    ]
)
FILE_CONTENT = st.one_of(
    st.binary(max_size=4000),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"\xff\xfe\x00\x00",
            "naam;soort;bovenliggend\nTeam é;team;nergens\n".encode("cp1252"),
            b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n",
            b"[" * 50_000,
            b"a = " + b"[" * 50_000,
            b"x,y\n" * 60_000,
        ]
    ),
)


@st.composite
def hostile_post(draw, form: Form) -> dict:
    data: list[tuple[str, object]] = []
    for name, offered in form.fields.items():
        if name.endswith("csrf_token"):
            continue
        choice = draw(st.integers(0, 4))
        if choice == 0:
            continue  # missing
        values = draw(st.lists(HOSTILE_TEXT, min_size=1, max_size=3)) if choice == 1 else []
        if choice >= 2 and offered:
            values = draw(st.lists(st.sampled_from(offered), min_size=1, max_size=3))
        if choice == 4:
            values.append(draw(HOSTILE_TEXT))  # a valid value plus a stray duplicate
        data.extend((name, value) for value in values)
    for name in form.files:
        if draw(st.booleans()):
            data.append((name, (io.BytesIO(draw(FILE_CONTENT)), draw(FILE_NAMES))))
    extra = draw(
        st.lists(
            st.tuples(st.sampled_from(["item-ZZ-9", "id", "../x", "role"]), HOSTILE_TEXT),
            max_size=2,
        )
    )
    data.extend(extra)
    return data


def post(client: FlaskClient, form: Form, data: list, token: str):
    """Posts ``data`` with a valid CSRF token, under the name the form uses for it (a form
    with a prefix, e.g. ``close-``, names it ``close-csrf_token``)."""
    names = [name for name in form.fields if name.endswith("csrf_token")] or ["csrf_token"]
    body: dict[str, list] = {name: [token] for name in names}
    for name, value in data:
        body.setdefault(name, []).append(value)
    return client.post(
        form.action, data=body, content_type="multipart/form-data" if form.multipart else None
    )


def fuzz(client: FlaskClient, forms: dict[str, Form], token_url: str, relogin) -> None:
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}

    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.data())
    def every_form(data) -> None:
        relogin()
        token = csrf_token_of(client, token_url)
        # In a new order each time, so that a form that changes the state (archive, close)
        # does not always run before the others.
        for path in data.draw(st.permutations(sorted(forms)), label="order"):
            form = forms[path]
            fields = data.draw(hostile_post(form), label=path)
            response = post(client, form, fields, token)
            statuses.setdefault(path, set()).add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"POST {path} {fields!r:.300}: {response.status_code}")

    every_form()
    assert failures == []
    # The fuzz reached every form's own checks, not only the CSRF refusal in front of them.
    refused_before_the_view = [path for path, seen in statuses.items() if seen <= {400}]
    assert refused_before_the_view == []


def csrf_token_of(client: FlaskClient, url: str) -> str:
    from tests.conftest import CSRF_FIELD

    match = CSRF_FIELD.search(client.get(url).get_data(as_text=True))
    assert match, f"no form with a CSRF token on {url}"
    return match.group(1)


#: Admin forms the crawl cannot reach from a fresh organisation, and why.
NOT_CRAWLED = {
    "admin.units_import_confirm": "appears only after a previewed import (test_admin_units.py)",
    "admin.staff_import_confirm": "appears only after a previewed import (test_staff_lists.py)",
    "admin.apply_retention": "appears only when a wave is past the retention period "
    "(test_retention.py)",
    "admin.life_domains": "has a form only for a questionnaire that marks life domains, which "
    "the mini instrument does not (test_admin_questionnaires.py)",
}


@pytest.fixture
def organisation(tree, make_unit, make_wave, make_account):
    """An open wave, a draft wave, an archived team, a deactivated account and a staff list, so
    that every kind of admin form is on some page."""
    wave = make_wave([tree["team-a"], tree["team-c"]])
    make_wave([tree["team-b"]], status=WaveStatus.DRAFT, name="Draft")
    make_unit("old-team", parent=tree["south"]).archived_on = date(2025, 1, 1)
    make_account("admin@example.org", Role.ADMIN)
    make_account("manager@example.org", Role.MANAGER, [tree["team-a"]])
    make_account("gone@example.org", Role.QUALITY).active = False
    db.session.add(StaffMember(unit_id=tree["team-a"].id, email="staff@example.org"))
    # A schedule, so that its stop button is on the schedules page.
    db.session.add(
        WaveSchedule(
            name="Pulse",
            every_months=3,
            open_days=14,
            next_opens_on=date(2031, 1, 1),
            last_wave_id=wave.id,
        )
    )
    db.session.commit()
    return wave


def test_no_admin_form_answers_500_to_hostile_input(app, client, organisation):
    def relogin() -> None:
        if client.get("/admin/").status_code != 200:
            assert login(client, "admin@example.org").status_code == 302

    relogin()
    # Not the crawler's own account: a reset of its own password would only log it out.
    own = db.session.scalar(sa.select(Account.id).where(Account.email == "admin@example.org"))
    forms = crawl(app, client, ["/admin/"], skip=(f"/admin/accounts/{own}/",))
    adapter = app.url_map.bind("localhost")
    crawled = {adapter.match(path, method="POST")[0] for path in forms}
    admin_posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and "POST" in rule.methods
    }
    assert admin_posts - crawled == NOT_CRAWLED.keys()
    fuzz(client, forms, "/admin/", relogin)


def respondent_forms(app, client, organisation) -> tuple[str, dict[str, Form], object]:
    """The respondent's forms, and how to get a fresh draft (the fuzz may have submitted or
    discarded the last one). The team's staff is unknown, so no number of submissions fills
    it; a browser that has answered begins again as a colleague, starting again."""
    # One team, picked once: a relationship's order after a commit is not fixed on PostgreSQL.
    team = organisation.teams[0]
    team.invited = None
    link = f"/t/{team.link_slug}"
    db.session.commit()

    def relogin() -> None:
        token = csrf_token_of(client, link)
        client.post(link, data={"csrf_token": token, "colleague": "y", "restart": "y"})

    relogin()
    forms = crawl(app, client, ["/respond/1", "/respond/2", "/code", "/resume", link])
    assert "/respond/1" in forms and "/code" in forms
    return link, forms, relogin


def test_no_respondent_form_answers_500_to_hostile_input(app, client, organisation):
    link, forms, relogin = respondent_forms(app, client, organisation)
    fuzz(client, forms, link, relogin)


def test_no_respondent_form_answers_500_to_duplicated_fields(app, client, organisation):
    """Every field of every respondent form posted twice, with the same value and with two
    different ones (issue 14, class 16: a grid cell posted twice made the submission fail)."""
    link, forms, relogin = respondent_forms(app, client, organisation)
    failures = []
    for path, form in sorted(forms.items()):
        for name, offered in form.fields.items():
            if name.endswith("csrf_token"):
                continue
            values = [value for value in offered if value] or ["4"]
            for pair in ([values[0], values[0]], [values[0], values[-1] + "x"]):
                relogin()
                token = csrf_token_of(client, link)
                # The other fields once each (a page that would otherwise be complete).
                data = [(other, vals[0]) for other, vals in form.fields.items() if vals]
                data = [(n, v) for n, v in data if n != name and not n.endswith("csrf_token")]
                data += [(name, value) for value in pair]
                response = post(client, form, data, token)
                if response.status_code >= 500:
                    failures.append(f"POST {path} {name}={pair}: {response.status_code}")
                # And the draft, with whatever that saved, can still be sent or refused.
                token = csrf_token_of(client, link)
                sent = client.post("/respond/submit", data={"csrf_token": token})
                if sent.status_code >= 500:
                    failures.append(f"submit after {path} {name}={pair}: {sent.status_code}")
    assert failures == []


@pytest.mark.parametrize("path", ["/login", "/code", "/resume"])
def test_invalid_utf8_and_oversized_bodies_are_refused_cleanly(client, organisation, path):
    token = csrf_token_of(client, path)
    invalid = client.post(
        path,
        data=b"csrf_token=" + token.encode() + b"&email=%FF%FE%FD&code=%C0%AF",
        content_type="application/x-www-form-urlencoded",
    )
    assert invalid.status_code < 500
    huge = client.post(path, data={"csrf_token": token, "email": "x" * (3 * 1024 * 1024)})
    assert huge.status_code == 413
