"""Administration: waves. Create a draft, open, extend and close it, print the team links and
issue access codes (see survey/admin/__init__.py: every route here is for administrators only).

The verbs and their rules live in ``survey.services.waves``, the progress, closing flags and
links in ``survey.services.wave_progress``; these views parse the forms, call them, commit, and
answer 422 for a form that failed, 409 for a step the wave's status does not allow.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from survey.admin.blueprint import bp
from survey.extensions import db
from survey.i18n import localized
from survey.models import QuestionnaireVersion, Unit, Wave, WaveState, WaveStatus, WaveTeam
from survey.services import wave_progress as progress_service
from survey.services import waves as wave_service
from survey.services.codes import MAX_CODES_PER_BATCH, issue_codes
from survey.services.settings import current_policy, wave_policy
from survey.services.waves import WaveConflict, WaveInputError
from survey.web.code_slips import codes_csv, slips_pdf

#: The most staff a team can be expected to have; a larger number is a typing error.
MAX_INVITED = 10_000
#: A new wave's form suggests this period, from today.
DEFAULT_PERIOD_DAYS = 21

# --- Forms ------------------------------------------------------------------------------------


class DayField(DateField):
    """An ``<input type=date>`` read as an ISO date (what browsers send), with a clear message;
    an empty field is left to the required validator."""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = " ".join(valuelist).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            self.data = date.fromisoformat(text)
        except ValueError:
            raise ValueError(_("Enter a date as year-month-day, for example 2026-03-31.")) from None
        if not 2000 <= self.data.year <= 2999:
            self.data = None
            raise ValueError(_("Enter a date as year-month-day, for example 2026-03-31."))


def _closes_after_opening(form: FlaskForm, field: DayField) -> None:
    opens_on = form.opens_on.data
    if opens_on and field.data and field.data < opens_on:
        raise ValidationError(_("The closing date cannot be before the opening date."))


NAME_LENGTH = 200
_name_validators = [
    DataRequired(_l("Give the wave a name.")),
    Length(max=NAME_LENGTH, message=_l("Use at most %(max)d characters.")),
]


class WaveEditForm(FlaskForm):
    """What may change in a wave; fields its status does not allow are removed (``_edit_form``),
    and a field ``invited_<wave team id>`` (the team's expected staff) is added per team while
    the wave is a draft or open."""

    name = StringField(
        _l("Name"), validators=_name_validators, render_kw={"maxlength": NAME_LENGTH}
    )
    opens_on = DayField(
        _l("Opens on"), validators=[InputRequired(_l("Enter the day the wave opens."))]
    )
    closes_on = DayField(
        _l("Closes on"),
        validators=[InputRequired(_l("Enter the day the wave closes.")), _closes_after_opening],
    )
    codes_only = BooleanField(_l("Access codes only: the team links do not let anyone in"))


class WaveForm(WaveEditForm):
    """A new wave: what an edit may change, plus the questionnaire version and the units
    (their choices come from the database)."""

    version = SelectField(
        _l("Questionnaire version"),
        coerce=int,
        validators=[InputRequired(_l("Choose a questionnaire version."))],
    )
    units = SelectMultipleField(
        _l("Units that take part"),
        coerce=int,
        validators=[DataRequired(_l("Choose at least one unit."))],
    )


class ExtendForm(FlaskForm):
    closes_on = DayField(
        _l("New closing date"),
        validators=[InputRequired(_l("Enter the new closing date."))],
    )


class CloseForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, close this wave now: nobody can answer it any more."),
        validators=[DataRequired(_l("Tick the box to confirm that the wave closes now."))],
    )


class CodesForm(FlaskForm):
    """Access codes for one team; ``team`` gets the wave's teams as choices."""

    team = SelectField(_l("Team"), validators=[InputRequired(_l("Choose a team."))])
    count = IntegerField(
        _l("Number of codes"),
        validators=[
            InputRequired(_l("Enter how many codes to issue.")),
            NumberRange(
                min=1,
                max=MAX_CODES_PER_BATCH,
                message=_l("Enter a number from %(min)d to %(max)d."),
            ),
        ],
        render_kw={"min": 1, "max": MAX_CODES_PER_BATCH, "inputmode": "numeric"},
    )
    output = RadioField(
        _l("As"),
        choices=[
            SelectChoice("pdf", _l("Slips to print and cut out (PDF, ten a page)")),
            SelectChoice("csv", _l("A list (CSV), e.g. to mail merge")),
        ],
        default="pdf",
        validators=[InputRequired(_l("Choose how you want the codes."))],
    )


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
    form.version.choices = [(version.id, _version_label(version)) for version in versions]
    children = wave_service.active_unit_children()
    form.units.choices = [(unit.id, unit.name) for units in children.values() for unit in units]
    return form, children


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


def _edit_form(wave: Wave, teams: list[WaveTeam], bound: bool) -> WaveEditForm:
    """The edit form for the fields the wave's status allows, with a field per team for its
    expected staff; ``bound`` reads the posted form, else it shows the stored values."""

    class EditForm(WaveEditForm):
        pass

    editable = wave_service.editable_fields(wave)
    for wave_team in teams if "invited" in editable else []:
        field = IntegerField(
            wave_team.unit.name,
            validators=[
                Optional(),
                NumberRange(
                    min=1, max=MAX_INVITED, message=_l("Enter a number from %(min)d to %(max)d.")
                ),
            ],
            render_kw={"min": 1, "inputmode": "numeric"},
        )
        setattr(EditForm, f"invited_{wave_team.id}", field)
    invited = {f"invited_{wave_team.id}": wave_team.invited for wave_team in teams}
    invited = invited if "invited" in editable else {}
    kwargs: dict[str, Any] = {} if bound else {"formdata": None}
    form = EditForm(prefix="edit", obj=wave, data=invited, **kwargs)
    for name in ("opens_on", "closes_on", "codes_only"):
        if name not in editable:
            delattr(form, name)
    return form


def _wave_page(
    wave: Wave,
    *,
    edit_form: WaveEditForm | None = None,
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
        edit_form=edit_form or _edit_form(wave, teams, bound=False),
        extend_form=extend_form or ExtendForm(prefix="extend", formdata=None),
        close_form=close_form or CloseForm(prefix="close", formdata=None),
        conflict=conflict,
    ), status


@bp.get("/waves/<int:wave_id>")
def wave(wave_id: int) -> tuple[str, int]:
    return _wave_page(db.get_or_404(Wave, wave_id))


def _conflict(wave: Wave, error: WaveConflict) -> tuple[str, int]:
    db.session.rollback()
    return _wave_page(wave, conflict=str(error), status=409)


def _back_to(wave: Wave) -> Response:
    return redirect(url_for("admin.wave", wave_id=wave.id))


@bp.post("/waves/<int:wave_id>/open")
def open_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
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
        except WaveInputError as error:
            db.session.rollback()
            form.closes_on.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("The wave is extended."), "success")
            return _back_to(wave)
    return _wave_page(wave, extend_form=form, status=422)


@bp.post("/waves/<int:wave_id>/close")
def close_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    try:
        wave_service.check_closable(wave)
    except WaveConflict as error:
        return _conflict(wave, error)
    form = CloseForm(prefix="close")
    if not form.validate():
        return _wave_page(wave, close_form=form, status=422)
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
    form = _edit_form(wave, teams, bound=True)
    if form.validate():
        changes: dict[str, Any] = {
            name: getattr(form, name).data
            for name in ("name", "opens_on", "closes_on", "codes_only")
            if name in form
        }
        if "invited" in wave_service.editable_fields(wave):
            changes["invited"] = {team.id: form[f"invited_{team.id}"].data for team in teams}
        try:
            changed = wave_service.edit_wave(wave, changes, current_user)
        except WaveConflict as error:
            return _conflict(wave, error)
        except WaveInputError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            if changed:
                flash(_("The changes are saved."), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return _back_to(wave)
    return _wave_page(wave, edit_form=form, status=422)


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
    form.team.choices = [(team.unit.slug, team.unit.name) for team in teams]
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
        content, mimetype, extension = codes_csv(codes), "text/csv", "csv"
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
