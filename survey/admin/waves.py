"""Administration: waves. Create a draft, open, extend and close it, print the team links and
issue access codes (see survey/admin/__init__.py: every route here is for administrators only).

The verbs and their rules live in ``survey.services.waves``, the progress, closing flags and
links in ``survey.services.wave_progress``; these views parse the forms, call them, commit, and
answer 422 for a form that failed, 409 for a step the wave's status does not allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from reports.csv_table import dialect_for
from survey.admin.blueprint import bp
from survey.admin.forms.waves import (
    CloseForm,
    CodesForm,
    ExtendForm,
    OpenForm,
    WaveEditForm,
    WaveForm,
    wave_edit_form,
)
from survey.extensions import db
from survey.i18n import localized
from survey.models import QuestionnaireVersion, Unit, Wave, WaveState, WaveStatus, WaveTeam
from survey.services import participation, short_links
from survey.services import wave_progress as progress_service
from survey.services import waves as wave_service
from survey.services.codes import MAX_CODES_PER_BATCH, issue_codes
from survey.services.settings import current_policy, wave_policy
from survey.services.waves import WaveConflict, WaveInputError
from survey.web.code_slips import codes_csv, slips_pdf

#: A new wave's form suggests this period, from today.
DEFAULT_PERIOD_DAYS = 21

# --- The list and a new wave ------------------------------------------------------------------


@bp.get("/waves")
def waves() -> str:
    all_waves = db.session.scalars(
        sa.select(Wave).order_by(Wave.opens_on.desc(), Wave.id.desc())
    ).all()
    return render_template(
        "admin/waves/index.html", waves=all_waves, team_counts=wave_service.team_counts()
    )


def _wave_form() -> tuple[WaveForm, dict[int | None, list[Unit]]]:
    form = WaveForm()
    versions = wave_service.questionnaire_versions()
    # A required select starts with an empty option (HTML); the newest version stays preselected.
    form.version.choices = [("", _("Choose a questionnaire version"))] + [
        (version.id, _version_label(version)) for version in versions
    ]
    if not form.is_submitted() and versions:
        form.version.data = versions[0].id
    form.context.choices = [SelectChoice("", _("Standard")), *_context_choices(versions)]
    children = wave_service.active_unit_children()
    form.units.choices = [(unit.id, unit.name) for units in children.values() for unit in units]
    return form, children


def _context_choices(versions: list[QuestionnaireVersion]) -> list[SelectChoice]:
    """Each context any version declares, once, labelled with the versions that have it."""
    lang = str(get_locale())
    titles: dict[str, str] = {}
    having: dict[str, list[str]] = {}
    for version in versions:
        for code, title in wave_service.context_choices(version, lang):
            titles.setdefault(code, title)
            having.setdefault(code, []).append(version.label)
    return [SelectChoice(code, f"{titles[code]} ({', '.join(having[code])})") for code in titles]


def _version_label(version: QuestionnaireVersion) -> str:
    return f"{localized(version.questionnaire.title, str(get_locale()))} ({version.label})"


@bp.route("/waves/new", methods=["GET", "POST"])
def new_wave() -> Response | tuple[str, int]:
    form, children = _wave_form()
    if not form.is_submitted():
        form.opens_on.data = date.today()
        form.closes_on.data = date.today() + timedelta(days=DEFAULT_PERIOD_DAYS)
    if form.validate_on_submit():
        units = db.session.scalars(sa.select(Unit).where(Unit.id.in_(form.units.data))).all()
        try:
            wave = wave_service.create_wave(
                name=form.name.data,
                version=db.session.get_one(QuestionnaireVersion, form.version.data),
                units=list(units),
                opens_on=form.opens_on.data,
                closes_on=form.closes_on.data,
                codes_only=form.codes_only.data,
                actor=current_user,
                context=form.context.data,
                invite={name: form[name].data for name in wave_service.INVITATION_FIELDS},
            )
        except WaveInputError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(str(error))
        else:
            db.session.commit()
            flash(_("The wave is created as a draft. Check it, then open it."), "success")
            return redirect(url_for("admin.wave", wave_id=wave.id))
    status = 422 if form.is_submitted() else 200
    policy = current_policy()  # a new wave records the settings' rules when it opens
    small_teams = [
        unit
        for units in children.values()
        for unit in units
        if unit.is_team and progress_service.small_for_team_links(unit.staff, policy)
    ]
    return render_template(
        "admin/waves/new.html",
        form=form,
        children=children,
        k=policy.min_group_size,
        small_teams=sorted(small_teams, key=lambda unit: (unit.name, unit.slug)),
    ), status


# --- One wave ---------------------------------------------------------------------------------


def _wave_page(
    wave: Wave,
    *,
    edit_form: WaveEditForm | None = None,
    open_form: OpenForm | None = None,
    extend_form: ExtendForm | None = None,
    close_form: CloseForm | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    teams = progress_service.wave_teams(wave)
    policy = wave_policy(wave)
    progress = (
        progress_service.wave_progress(wave, policy)
        if wave.status is not WaveStatus.DRAFT
        else None
    )
    return render_template(
        "admin/waves/wave.html",
        wave=wave,
        teams=teams,
        progress=progress,
        participation=participation.wave_participation(wave, teams, policy=policy),
        k=policy.min_group_size,
        small_teams=[
            team.unit
            for team in teams
            if progress_service.small_for_team_links(team.invited, policy)
        ],
        # After retention deleted the answers there is nothing left to check.
        flags=(
            progress_service.closing_flags(wave, policy)
            if wave.status is WaveStatus.CLOSED and wave.purged_on is None
            else None
        ),
        state=wave.state(),
        links_closed=wave.codes_only or wave.invitations,
        short_prefix=f"{current_app.config['PUBLIC_URL'].rstrip('/')}/t/",
        short_codes={team.id: short_links.display(team.short_code) for team in teams},
        # Said before the administrator confirms, not only after (None when it may open).
        overlaps=(
            wave_service.team_overlaps(wave, wave.closes_on, date.today())
            if wave.status is WaveStatus.DRAFT
            else {}
        ),
        edit_form=edit_form or wave_edit_form(wave, teams, bound=False),
        open_form=open_form or OpenForm(prefix="open", formdata=None),
        extend_form=extend_form or ExtendForm(prefix="extend", formdata=None),
        close_form=close_form or CloseForm(prefix="close", formdata=None),
        conflict=conflict,
        contexts=dict(wave_service.context_choices(wave.questionnaire_version, str(get_locale()))),
    ), status


@bp.get("/waves/<int:wave_id>")
def wave(wave_id: int) -> tuple[str, int]:
    return _wave_page(db.get_or_404(Wave, wave_id))


def _conflict(wave: Wave, error: WaveConflict) -> tuple[str, int]:
    db.session.rollback()
    return _wave_page(wave, conflict=str(error), status=409)


def _back_to(wave: Wave) -> Response:
    return redirect(url_for("admin.wave", wave_id=wave.id))


def _refusal(
    wave: Wave, check: Callable[[Wave], None], **confirmation: OpenForm | CloseForm
) -> tuple[str, int] | None:
    """Why a step the administrator confirms with a tick (opening, closing) does not go ahead:
    409 when the wave's status does not allow it (``check`` raises), 422 when the box was not
    ticked; None when it may. ``confirmation``: the posted form, by its name on the page."""
    try:
        check(wave)
    except WaveConflict as error:
        return _conflict(wave, error)
    (form,) = confirmation.values()
    if not form.validate():
        return _wave_page(wave, status=422, **confirmation)
    return None


@bp.post("/waves/<int:wave_id>/open")
def open_wave(wave_id: int) -> Response | tuple[str, int]:
    """Opens a draft once the administrator ticked the confirmation (as closing asks for one):
    its dates and codes-only setting are fixed from then on."""
    wave = db.get_or_404(Wave, wave_id)
    refusal = _refusal(wave, wave_service.check_openable, open_form=OpenForm(prefix="open"))
    if refusal:
        return refusal
    try:
        state = wave_service.open_wave(wave, current_user)
    except WaveConflict as error:
        return _conflict(wave, error)
    db.session.commit()
    if state is WaveState.OPEN:
        flash(_("The wave is open: staff can answer now."), "success")
    else:
        flash(_("The wave is open. Staff can answer from its opening day on."), "success")
    return _back_to(wave)


@bp.post("/waves/<int:wave_id>/extend")
def extend_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    try:
        wave_service.check_extendable(wave)
    except WaveConflict as error:
        return _conflict(wave, error)
    form = ExtendForm(prefix="extend")
    if form.validate():
        try:
            wave_service.extend_wave(wave, form.closes_on.data, current_user)
        except WaveConflict as error:
            return _conflict(wave, error)
        except WaveInputError as error:
            db.session.rollback()
            form.closes_on.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("The wave has been extended."), "success")
            return _back_to(wave)
    return _wave_page(wave, extend_form=form, status=422)


@bp.post("/waves/<int:wave_id>/close")
def close_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    refusal = _refusal(wave, wave_service.check_closable, close_form=CloseForm(prefix="close"))
    if refusal:
        return refusal
    flags = wave_service.close_wave(wave, current_user)
    db.session.commit()
    flash(_("The wave is closed: nobody can answer it any more."), "success")
    if flags:
        flash(_("Some teams need a check with the team: see below."), "info")
    return _back_to(wave)


@bp.post("/waves/<int:wave_id>/edit")
def edit_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    teams = progress_service.wave_teams(wave)
    form = wave_edit_form(wave, teams, bound=True)
    if form.validate():
        changes: dict[str, Any] = {
            name: getattr(form, name).data
            for name in (
                "name",
                "opens_on",
                "closes_on",
                "codes_only",
                "context",
                *wave_service.INVITATION_FIELDS,
            )
            if name in form
        }
        changes.update(_posted_context(wave, form))
        if "invited" in wave_service.editable_fields(wave):
            changes["invited"] = {team.id: form[f"invited_{team.id}"].data for team in teams}
        try:
            changed = wave_service.edit_wave(wave, changes, current_user)
        except WaveConflict as error:
            return _conflict(wave, error)
        except WaveInputError as error:
            db.session.rollback()
            if error.field not in form:  # a choice the page does not offer (_posted_context)
                return _wave_page(wave, conflict=str(error), status=422)
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            if changed:
                flash(_("The changes have been saved."), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return _back_to(wave)
    return _wave_page(wave, edit_form=form, status=422)


def _posted_context(wave: Wave, form: WaveEditForm) -> dict[str, str | None]:
    """A wording posted where the page offers no choice (a page kept open while the wave was
    opened, or a version without contexts): handed to the service, which refuses a change."""
    posted = request.form.get("edit-context")
    if "context" in form or posted is None or (posted or None) == wave.context:
        return {}
    return {"context": posted or None}


# --- Links and codes to hand out --------------------------------------------------------------


@bp.get("/waves/<int:wave_id>/links")
def wave_links(wave_id: int) -> str:
    wave = db.get_or_404(Wave, wave_id)
    sheets = progress_service.team_links(wave, current_app.config["PUBLIC_URL"])
    return render_template(
        "admin/waves/links.html",
        wave=wave,
        sheets=sheets,
        code_url=f"{current_app.config['PUBLIC_URL'].rstrip('/')}/code",
    )


def _codes_form(teams: list[WaveTeam]) -> CodesForm:
    form = CodesForm()
    form.team.choices = [("", _("Choose a team"))] + [
        (team.unit.slug, team.unit.name) for team in teams
    ]
    return form


def _codes_page(
    wave: Wave, form: CodesForm, *, conflict: str | None = None, status: int = 200
) -> tuple[str, int]:
    policy = wave_policy(wave)
    progress = progress_service.wave_progress(wave, policy)
    return render_template(
        "admin/waves/codes.html",
        wave=wave,
        form=form,
        progress=progress,
        k=policy.min_group_size,
        conflict=conflict,
        max_codes=MAX_CODES_PER_BATCH,
    ), status


@bp.route("/waves/<int:wave_id>/codes", methods=["GET", "POST"])
def wave_codes(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    teams = progress_service.wave_teams(wave)
    form = _codes_form(teams)
    if not form.is_submitted():
        return _codes_page(wave, form)
    if wave.status is WaveStatus.CLOSED:
        conflict = _("This wave is closed: it takes no new codes.")
        return _codes_page(wave, form, conflict=conflict, status=409)
    if not form.validate():
        return _codes_page(wave, form, status=422)
    wave_team = next(team for team in teams if team.unit.slug == form.team.data)
    codes = issue_codes(wave_team, form.count.data, current_user)
    if form.output.data == "csv":
        content, mimetype, extension = (
            codes_csv(codes, dialect_for(str(get_locale()))),
            "text/csv",
            "csv",
        )
    else:
        content, mimetype, extension = slips_pdf(codes, wave_team), "application/pdf", "pdf"
    db.session.commit()
    filename = f"access-codes-wave-{wave.id}-{wave_team.unit.slug}.{extension}"
    return Response(
        content,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # The only copy of these codes: no cache may keep one.
            "Cache-Control": "no-store",
        },
    )
