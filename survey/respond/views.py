"""The respondent's pages: no account, no tracking; a draft reached through the session."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response

from questionnaires import DONT_KNOW_LABEL
from questionnaires.paging import Page
from survey.caching import KeptPerObject
from survey.extensions import client_address, db, limiter
from survey.forms import (
    PlainForm,
    SectionForm,
    answers_from,
    duplicated_fields,
    field_name,
    section_form,
)
from survey.models import Draft, Wave, WaveState, WaveTeam, now_utc
from survey.respond.blueprint import bp
from survey.respond.forms import CodeForm, ColleagueStartForm, ResumeForm, StartForm
from survey.services import responding, short_links
from survey.services.codes import claim_code
from survey.services.questionnaires import instrument_of
from survey.services.responding import TeamComplete
from survey.services.settings import wave_policy

#: Session keys: the draft this browser works on, and when it was last active on a respondent
#: page (whole minutes since 1970, UTC); both go when it is sent, paused or left idle.
DRAFT = "draft"
DRAFT_SEEN = "draft_seen"
THANKS = "thanks_wave"
DONE_COOKIE = "ks_done_{}"


def _minutes_now() -> int:
    return int(now_utc().timestamp() // 60)


@bp.before_request
def forget_an_idle_draft() -> None:
    """On a shared computer, the next person must not find the answers someone left
    unfinished: after RESPONDENT_IDLE_MINUTES without a respondent page, the browser's draft
    is dropped from the session and deleted (unless it was paused: then only its resume code
    reaches it). Whoever comes back sooner continues, and the clock starts again."""
    if DRAFT not in session:
        return
    now, seen = _minutes_now(), session.get(DRAFT_SEEN)
    if isinstance(seen, int) and now - seen > current_app.config["RESPONDENT_IDLE_MINUTES"]:
        _forget_session_draft()
        db.session.commit()
    elif seen != now:
        session[DRAFT_SEEN] = now


def _forget_session_draft(keep: Draft | None = None) -> None:
    """Drop the session's draft; delete it unless it is ``keep`` or was paused with a code."""
    draft = responding.get_draft(session.pop(DRAFT, None))
    session.pop(DRAFT_SEEN, None)
    if draft is not None and draft is not keep:
        responding.forget_draft(draft)


def _reading_only() -> None:
    """For a page view, which only reads: its queries run without a transaction around them,
    which on PostgreSQL saves the round trips of its BEGIN and ROLLBACK (at READ COMMITTED
    each query sees the latest committed rows either way). Nothing may be written after this:
    a write would be committed on its own, at once (tests/test_respond_queries.py checks that
    these pages write nothing)."""
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _link_key() -> str:
    return (request.view_args or {}).get("link_slug", "")


def _started(reply: Response) -> bool:
    """Only a start counts against the limits (a redirect to the first page), not a page with
    an error or a refusal."""
    return reply.status_code == 302


def _language() -> str:
    return str(get_locale())


def _message(kind: str, wave: Wave | None = None, status: int = 200) -> tuple[str, int]:
    """A friendly page for a link, code or wave that cannot be answered now."""
    return render_template("respond/message.html", kind=kind, wave=wave), status


@bp.errorhandler(429)
def too_many_starts(error: Exception) -> tuple[str, int]:
    if request.endpoint == "respond.short_link":
        return _message("too_many_guesses", status=429)
    return _message("too_many", status=429)


def _closed_or_not_yet(wave: Wave) -> tuple[str, int] | None:
    state = wave.state()
    if state is WaveState.OPEN:
        return None
    return _message("closed" if state is WaveState.CLOSED else "not_yet_open", wave)


def _begin(draft: Draft, commit: bool = False) -> Response:
    """Keep the draft in this browser's session and go to its page (committing first when
    asked: after the id and page are read, as a commit expires them). A draft the session
    pointed to before is deleted unless paused: nothing would reach it any more."""
    _forget_session_draft(keep=draft)
    session[DRAFT] = str(draft.id)
    session[DRAFT_SEEN] = _minutes_now()
    reply = redirect(_resume_url(draft))
    if commit:
        db.session.commit()
    return reply


def _resume_url(draft: Draft) -> str:
    """The page a draft continues on (the furthest it reached)."""
    pages = responding.asked_pages(draft.wave_team.wave)
    return url_for("respond.step", number=responding.current_page(draft, pages))


def _team_complete(wave: Wave, draft: Draft | None, status: int) -> tuple[str, int]:
    """The team has as many answers as staff: say so, and whom to ask; answers in progress
    in this browser are kept (they can be paused with a resume code)."""
    page = render_template(
        "respond/complete.html",
        wave=wave,
        draft=draft,
        idle_hours=current_app.config["RESPONDENT_IDLE_MINUTES"] // 60,
    )
    return page, status


def _session_draft_of(wave_team: WaveTeam) -> Draft | None:
    """The draft this browser is answering for ``wave_team``, if any."""
    draft = _current_draft()
    if draft is None or (draft.wave_id, draft.unit_id) != (wave_team.wave_id, wave_team.unit_id):
        return None
    return draft


@bp.route("/t/<link_slug>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["START_LIMIT_PER_ADDRESS"],
    key_func=client_address,
    methods=["POST"],
    deduct_when=_started,
)
@limiter.limit(
    lambda: current_app.config["START_LIMIT_PER_LINK"],
    key_func=_link_key,
    methods=["POST"],
    deduct_when=_started,
)
def team_link(link_slug: str) -> Response | tuple[str, int] | str:
    if request.method == "GET":
        _reading_only()
    wave_team = responding.wave_team_by_link(link_slug)
    if wave_team is None:
        return _message("unknown_link", status=404)
    wave = wave_team.wave
    if wave.codes_only:
        return _message("codes_only", wave)
    if wave.invitations:
        return _message("invitations_only", wave)
    if unavailable := _closed_or_not_yet(wave):
        return unavailable
    draft = _session_draft_of(wave_team)
    if responding.team_is_complete(wave_team):
        return _team_complete(wave, draft, 200 if request.method == "GET" else 409)
    wave_policy(wave)  # the page states the k this wave was opened with (page_settings)
    answered_before = request.cookies.get(DONE_COOKIE.format(wave.id)) == "1"
    form = ColleagueStartForm() if answered_before and draft is None else StartForm()
    if form.validate_on_submit():
        if draft is not None and not form.restart.data:
            return redirect(_resume_url(draft))  # nothing is discarded
        if draft is not None:
            session.pop(DRAFT, None)
            responding.delete_draft(draft)  # "start again": the earlier answers go
        return _begin(responding.start_draft(wave_team), commit=True)
    return _landing(wave_team, form, draft, answered_before)


def _landing(
    wave_team: WaveTeam, form: FlaskForm, draft: Draft | None, answered_before: bool = False
) -> tuple[str, int]:
    """The landing page of a wave team's questionnaire (team link or personal invitation):
    422 when its start form came back with errors."""
    wave = wave_team.wave
    pages = responding.asked_pages(wave)
    page = render_template(
        "respond/landing.html",
        wave=wave,
        team=wave_team.unit,
        instrument=instrument_of(wave),
        form=form,
        draft=draft,
        resume_page=responding.current_page(draft, pages) if draft else None,
        page_count=len(pages),
        answered_before=answered_before,
    )
    return page, 422 if form.errors else 200


class ShortCodeConverter(BaseConverter):
    """A path part that reads as a short code (``short_links.TYPED_PATTERN``). Its rule is
    tried before the team link's (lower weight); other text, such as a team link's slug, falls
    through to that."""

    regex = short_links.TYPED_PATTERN
    weight = 50


# Registered before the rule below is added to the app's URL map (deferred in this order).
bp.record_once(lambda state: state.app.url_map.converters.update(short_code=ShortCodeConverter))


def _failed_guess(reply: Response) -> bool:
    return reply.status_code == 404


@bp.get("/t/<short_code:typed>")
@limiter.limit(
    lambda: current_app.config["SHORT_LINK_GUESSES_PER_ADDRESS"],
    key_func=client_address,
    deduct_when=_failed_guess,
)
@limiter.limit(
    lambda: current_app.config["SHORT_LINK_GUESSES"],
    key_func=lambda: "all addresses",
    deduct_when=_failed_guess,
)
def short_link(typed: str) -> Response | tuple[str, int]:
    """A team link's short form, for people who type it off the poster: on to the team link.

    An unknown code counts as a failed guess, per address and from all addresses together;
    once either limit is spent every short code answers 429 for the rest of the hour, known or
    not, so guessing cannot go on (docs/anonymity.md, "Padding a team")."""
    wave_team = short_links.wave_team_by_code(typed)
    if wave_team is None:
        return _message("unknown_short_link", status=404)
    return redirect(url_for("respond.team_link", link_slug=wave_team.link_slug))


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def code() -> Response | tuple[str, int] | str:
    form = CodeForm()
    unknown = False
    if form.validate_on_submit():
        claim = claim_code(form.code.data)
        if claim.status == "unknown":
            unknown = True
        elif unavailable := _closed_or_not_yet(claim.wave_team.wave):
            # Before "used": once a wave has ended, a used and an unused code of it get the
            # same page, so the code list tells nobody who took part.
            db.session.rollback()  # an unused code stays usable
            return unavailable
        elif claim.status == "used":
            return _message("used_code", claim.wave_team.wave)
        elif responding.team_is_complete(claim.wave_team):
            db.session.rollback()
            return _team_complete(claim.wave_team.wave, None, 409)
        else:
            return _begin(responding.start_draft(claim.wave_team), commit=True)
    return render_template("respond/code.html", form=form, unknown=unknown)


@bp.route("/resume", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def resume() -> Response | tuple[str, int] | str:
    form = ResumeForm()
    unknown = False
    if form.validate_on_submit():
        draft = responding.draft_by_resume_code(form.code.data)
        if draft is None:
            unknown = True
        elif unavailable := _closed_or_not_yet(draft.wave_team.wave):
            return unavailable
        else:
            return _begin(draft)
    return render_template("respond/resume.html", form=form, unknown=unknown)


def _current_draft() -> Draft | None:
    return responding.get_draft(session.get(DRAFT))


def _require_posted_button() -> None:
    """The POST-only respondent routes carry nothing but the CSRF token: without it, 400."""
    if not PlainForm().validate_on_submit():
        abort(400)


def _draft_in_open_wave() -> tuple[Draft | None, tuple[str, int] | None]:
    """This browser's draft, or the page to show instead (none in progress, wave not open)."""
    draft = _current_draft()
    if draft is None:
        return None, _message("no_draft")
    if unavailable := _closed_or_not_yet(draft.wave_team.wave):
        return None, unavailable
    return draft, None


@bp.route("/respond/<int:number>", methods=["GET", "POST"])
def step(number: int) -> Response | tuple[str, int] | str:
    if request.method == "GET":
        _reading_only()
    draft, other_page = _draft_in_open_wave()
    if draft is None:
        return other_page
    pages = responding.asked_pages(draft.wave_team.wave)
    if not 1 <= number <= len(pages):
        abort(404)
    page = pages[number - 1]
    if request.method == "POST" and duplicated_fields(page, request.form):
        abort(400)
    if request.method == "GET" and not any(item.code in draft.answers for item in page.all_items()):
        # A page seen for the first time: the same items for everyone, kept; the form only
        # carries the CSRF token.
        form, items_html = PlainForm(), _fresh_items_html(page)
    else:
        form = section_form(page, _language(), draft.answers)
        if request.method == "POST":
            valid = form.validate()
            if form.action.errors:
                abort(400)
            responding.save_answers(draft, list(page.all_items()), answers_from(form, page))
            action = form.action.data
            moving_on = action in ("next", "review")
            if valid or not moving_on:
                if moving_on:
                    draft.step = max(draft.step, number + 1)
                db.session.commit()
                return _after_step(action, number, len(pages), draft)
            db.session.commit()
        items_html = _render_items(page, form)
    return render_template(
        "respond/step.html",
        form=form,
        page=page,
        total=len(pages),
        questions=pages[-1].last_question,
        items_html=items_html,
        draft_key=draft.id.hex[:16],
    )


#: The items of a page as first shown (nothing answered, no errors), per page and
#: language. Every respondent's first view of every page is this same HTML, and rendering its
#: fieldsets was the largest part of the page's time (tests/benchmarks/profile_submit.py).
_FRESH_ITEMS: KeptPerObject[Page, Markup] = KeptPerObject(128)


def _fresh_items_html(page: Page) -> Markup:
    """The page's items with nothing answered and no errors, rendered once per language."""
    lang = _language()
    return _FRESH_ITEMS.get(page, lang, lambda: _render_items(page, section_form(page, lang, {})))


def _render_items(page: Page, form: SectionForm) -> Markup:
    html = render_template(
        "respond/_section_items.html", page=page, form=form, field_name=field_name
    )
    return Markup(html)  # noqa: S704 (rendered by Jinja, which escaped it)


def _pause(draft: Draft) -> str:
    """A resume code for the draft, which leaves this browser's session."""
    code = responding.new_resume_code(draft)
    expires_on = draft.expires_on
    db.session.commit()
    session.pop(DRAFT, None)
    session.pop(DRAFT_SEEN, None)
    return render_template("respond/paused.html", code=code, expires_on=expires_on)


def _after_step(action: str, number: int, total: int, draft: Draft) -> Response | str:
    if action == "pause":
        return _pause(draft)
    if action.startswith("lang-"):
        session["lang"] = action.removeprefix("lang-")
        return redirect(url_for("respond.step", number=number))
    if action == "previous":
        return redirect(url_for("respond.step", number=max(1, number - 1)))
    if action == "review" or number == total:
        return redirect(url_for("respond.review"))
    return redirect(url_for("respond.step", number=number + 1))


@bp.get("/respond/review")
def review() -> tuple[str, int] | str:
    _reading_only()
    draft, other_page = _draft_in_open_wave()
    if draft is None:
        return other_page
    pages = responding.asked_pages(draft.wave_team.wave)
    return render_template(
        "respond/review.html",
        pages=pages,
        open_items=responding.open_items(pages, draft.answers),
        answers=draft.answers,
        dont_know_label=DONT_KNOW_LABEL,
        form=PlainForm(),
        field_name=field_name,
        draft_key=draft.id.hex[:16],
    )


@bp.post("/respond/submit")
def submit() -> Response | tuple[str, int]:
    _require_posted_button()
    draft, other_page = _draft_in_open_wave()
    if draft is None:
        return other_page
    wave = draft.wave_team.wave
    try:
        response = responding.submit_draft(draft.id, _language())
    except TeamComplete:
        db.session.rollback()  # the draft stays as it was
        return _team_complete(wave, _current_draft(), 409)
    if response is None:  # submitted already, from another tab
        db.session.rollback()
        session.pop(DRAFT, None)
        return _message("no_draft")
    # Read before the commit, which expires every loaded object (reading after it reloads).
    wave_id, closes_on = wave.id, wave.closes_on
    db.session.commit()
    session.pop(DRAFT, None)
    session.pop(DRAFT_SEEN, None)
    session[THANKS] = wave_id
    reply = redirect(url_for("respond.thanks"))
    reply.set_cookie(
        DONE_COOKIE.format(wave_id),
        "1",
        # The same moment for everyone of the wave (the end of its last day, UTC): an expiry
        # counted from now would tell when this browser answered.
        expires=datetime.combine(closes_on + timedelta(days=1), time.min, tzinfo=UTC),
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return reply


@bp.get("/respond/thanks")
def thanks() -> str | tuple[str, int]:
    _reading_only()
    wave = responding.wave_by_id(session.get(THANKS) or 0)
    if wave is None:
        return _message("no_draft")
    wave_policy(wave)  # the page states the k this wave was opened with (page_settings)
    return render_template("respond/thanks.html", wave=wave)


@bp.post("/respond/pause")
def pause() -> str | tuple[str, int]:
    """Pause from a page that is not a questionnaire page (the team-complete page)."""
    _require_posted_button()
    draft, other_page = _draft_in_open_wave()
    if draft is None:
        return other_page
    return _pause(draft)


@bp.get("/respond/discard")
def confirm_discard() -> str | tuple[str, int]:
    """What clearing deletes, and the two ways on: clear (a POST) or back where one came from
    (``back``: a page number; else the review)."""
    draft = _current_draft()
    if draft is None:
        return _message("no_draft")
    back = request.args.get("back", type=int)
    pages = responding.asked_pages(draft.wave_team.wave)
    if back is not None and 1 <= back <= len(pages):
        back_url = url_for("respond.step", number=back)
    else:
        back_url = url_for("respond.review")
    return render_template(
        "respond/discard.html",
        form=PlainForm(),
        back_url=back_url,
        answered=len(draft.answers),
        draft_key=draft.id.hex[:16],
    )


@bp.post("/respond/discard")
def discard() -> str | tuple[str, int]:
    _require_posted_button()
    draft = _current_draft()
    if draft is not None:
        responding.delete_draft(draft)
        db.session.commit()
    session.pop(DRAFT, None)
    session.pop(DRAFT_SEEN, None)
    return _message("discarded")
