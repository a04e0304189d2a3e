"""A personal invitation's link: ``/i/<token>`` puts the token in the session and goes on at once
to ``/invitation`` (so the token is in an access log only once, and redacted there:
``survey/access_log.py``), which shows the wave's landing page; posting it claims the
invitation, in a transaction of its own, and starts a draft exactly as a code does.
``/i/<token>/stop`` is the mails' one-click unsubscribe (RFC 8058): no more reminders."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from survey.extensions import csrf, db, limiter
from survey.models import WaveTeam
from survey.respond import views
from survey.respond.blueprint import bp
from survey.respond.forms import StartForm
from survey.services import invitations, responding
from survey.services.settings import wave_policy
from survey.web import invitation_mails

#: Session key: the token of the invitation this browser came with, until it is used.
INVITATION = "invitation_token"

bp.record_once(lambda state: invitation_mails.register(state.app))


@bp.get("/i/<token>")
@limiter.limit("60 per minute")
def invitation_link(token: str) -> Response | tuple[str, int]:
    if invitations.invitation_by_token(token) is None:
        return views._message("unknown_invitation", status=404)
    session[INVITATION] = token
    return redirect(url_for("respond.invitation"))


@bp.route("/invitation", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def invitation() -> Response | tuple[str, int] | str:
    token = session.get(INVITATION)
    if not isinstance(token, str):
        return views._message("no_invitation")
    found = invitations.invitation_by_token(token)
    if found is None:
        session.pop(INVITATION, None)
        return views._message("unknown_invitation", status=404)
    wave_team = found.wave_team
    wave = wave_team.wave
    # Before "used": once a wave has ended, a used and an unused link get the same page.
    if unavailable := views._closed_or_not_yet(wave):
        return unavailable
    if found.used:
        session.pop(INVITATION, None)
        return _used(wave_team)
    if responding.team_is_complete(wave_team):
        return views._team_complete(wave, None, 200 if request.method == "GET" else 409)
    form = StartForm()
    if form.validate_on_submit():
        return _claim_and_begin(token)
    wave_policy(wave)  # the page states the k this wave was opened with (page_settings)
    return views._landing(wave_team, form, None)


def _claim_and_begin(token: str) -> Response | tuple[str, int]:
    """Claim the invitation and commit that on its own (nothing in its transaction names the
    draft), then start the draft in the next one, as a code does."""
    claim = invitations.claim(token)
    session.pop(INVITATION, None)
    if claim.status != "claimed":
        db.session.rollback()
        if claim.wave_team is None:
            return views._message("unknown_invitation", status=404)
        return _used(claim.wave_team)
    wave_team_id = claim.wave_team.id
    db.session.commit()
    wave_team = db.session.get_one(WaveTeam, wave_team_id)
    return views._begin(responding.start_draft(wave_team), commit=True)


def _used(wave_team: WaveTeam) -> tuple[str, int]:
    """This link has been used to begin: say so kindly, and how to go on (a resume code, or
    the answers in progress in this browser)."""
    draft = views._session_draft_of(wave_team)
    return render_template(
        "respond/message.html",
        kind="used_invitation",
        wave=wave_team.wave,
        resume_url=views._resume_url(draft) if draft else None,
    ), 200


@bp.route("/i/<token>/stop", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit("60 per minute")
def stop_reminders(token: str) -> tuple[str, int] | str:
    """GET: a small page with the button; POST: no more reminders (idempotent, RFC 8058's
    one-click unsubscribe, so without a CSRF token; the same answer for any token)."""
    if request.method == "POST":
        invitations.opt_out(token)
        db.session.commit()
        return views._message("stopped")
    if invitations.invitation_by_token(token) is None:
        return views._message("unknown_invitation", status=404)
    return render_template("respond/stop_reminders.html")
