"""The team's own results link: the same results without the management parts, and the
team's actions, which the team records and follows up here (it is the team's plan).

Anyone with the link sees the team's results once the wave has ended; everything on it passed
the anonymity gate, and a team-first period never holds it back (it exists for the team).
"""

import hashlib

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from survey.extensions import db, limiter
from survey.models import ActionKind, ActionStatus, TeamAction, WaveTeam
from survey.services import team_actions
from survey.services.questionnaires import instrument_of
from survey.services.results import results_ended
from survey.team.blueprint import bp
from survey.team.forms import ActionUpdateForm, NewActionForm, update_form
from survey.web.team_pages import pdf_response, results_context


def _wave_team_or_404(results_slug: str) -> WaveTeam:
    wave_team = db.session.scalar(sa.select(WaveTeam).where(WaveTeam.results_slug == results_slug))
    if wave_team is None:
        abort(404)
    return wave_team


def _link_key() -> str:
    """The action limit's key: a digest of the link, so its storage never holds the link."""
    slug = (request.view_args or {}).get("results_slug", "")
    return "team-actions:" + hashlib.sha256(slug.encode()).hexdigest()[:24]


def _action_limit() -> str:
    return current_app.config["TEAM_ACTION_LIMIT_PER_LINK"]


def _new_form(wave_team: WaveTeam, **kwargs) -> NewActionForm:
    form = NewActionForm(prefix="new", wave=wave_team.wave, **kwargs)
    form.offer(list(instrument_of(wave_team.wave).scales()), str(get_locale()))
    return form


def _page(
    wave_team: WaveTeam,
    *,
    new_form: NewActionForm | None = None,
    submitted: dict[int, ActionUpdateForm] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The team's page; after a refused form, that form with its errors (the others as
    stored: they read nothing of the request)."""
    context = results_context(wave_team, team_first_days=0)
    actions = team_actions.wave_actions(wave_team, context["results"]) if context["ended"] else None
    forms = {
        action.id: (submitted or {}).get(action.id)
        or update_form(action.id, action.wave_team.wave, obj=action, formdata=None)
        for action in (actions.updatable() if actions else [])
    }
    page = render_template(
        "team/results.html",
        wave_team=wave_team,
        wave=wave_team.wave,
        guide_url=url_for("team.meeting_guide", results_slug=wave_team.results_slug),
        report_url=url_for("team.report", results_slug=wave_team.results_slug),
        actions=actions,
        actions_editable=_actions_editable(wave_team),
        new_action_form=new_form or _new_form(wave_team, formdata=None),
        action_forms=forms,
        action_conflict=conflict,
        **context,
    )
    return page, status


def _actions_editable(wave_team: WaveTeam) -> bool:
    """The team plans on an ended wave's page; a wave whose answers were deleted under the
    retention setting is long past, and its page only reads."""
    return results_ended(wave_team) and wave_team.wave.purged_on is None


@bp.get("/<results_slug>")
def results(results_slug: str) -> tuple[str, int]:
    return _page(_wave_team_or_404(results_slug))


def _back_to(wave_team: WaveTeam, anchor: str) -> Response:
    return redirect(url_for("team.results", results_slug=wave_team.results_slug) + anchor)


def _cap_reached(wave_team: WaveTeam, form: NewActionForm) -> tuple[str, int]:
    message = _(
        "The team already has %(n)d actions for this wave. Update their status instead.",
        n=TeamAction.MAX_PER_WAVE,
    )
    return _page(wave_team, new_form=form, conflict=message, status=409)


@bp.post("/<results_slug>/actions")
@limiter.limit(_action_limit, key_func=_link_key)
def add_action(results_slug: str) -> Response | tuple[str, int]:
    wave_team = _wave_team_or_404(results_slug)
    if not _actions_editable(wave_team):
        abort(409)
    form = _new_form(wave_team)
    if len(wave_team.actions) >= TeamAction.MAX_PER_WAVE:
        return _cap_reached(wave_team, form)
    if not form.validate():
        return _page(wave_team, new_form=form, status=422)
    try:
        action = team_actions.add_action(
            wave_team,
            scale_code=form.scale_code.data,
            kind=ActionKind(form.kind.data),
            description=form.description.data,
            owner=form.owner.data,
            review_on=form.review_on.data,
        )
    except team_actions.ActionCapReached:  # another browser added the last one meanwhile
        db.session.rollback()
        return _cap_reached(wave_team, form)
    db.session.commit()
    flash(_("The action has been recorded."), "success")
    return _back_to(wave_team, f"#action-{action.id}")


@bp.post("/<results_slug>/actions/<int:action_id>")
@limiter.limit(_action_limit, key_func=_link_key)
def update_action(results_slug: str, action_id: int) -> Response | tuple[str, int]:
    wave_team = _wave_team_or_404(results_slug)
    if not _actions_editable(wave_team):
        abort(409)
    action = team_actions.updatable_action(wave_team, action_id)
    if action is None:
        abort(404)
    form = update_form(action.id, action.wave_team.wave)
    if not form.validate():
        return _page(wave_team, submitted={action.id: form}, status=422)
    changed = team_actions.update_action(
        action,
        status=ActionStatus(form.status.data),
        status_note=form.status_note.data or "",
        owner=form.owner.data or "",
        review_on=form.review_on.data,
    )
    db.session.commit()
    flash(_("The action has been updated.") if changed else _("Nothing changed."), "success")
    return _back_to(wave_team, f"#action-{action.id}")


@bp.get("/<results_slug>/guide")
def meeting_guide(results_slug: str) -> str:
    wave_team = _wave_team_or_404(results_slug)
    context = results_context(wave_team, team_first_days=0)
    return render_template(
        "results/guide.html", wave_team=wave_team, wave=wave_team.wave, **context
    )


@bp.get("/<results_slug>/report.pdf")
def report(results_slug: str) -> Response:
    wave_team = _wave_team_or_404(results_slug)
    context = results_context(wave_team, team_first_days=0)
    if context["results"] is None:
        abort(404)
    return pdf_response(wave_team, context)
