"""Administration: the staff lists of teams (see survey/admin/__init__.py).

A team's page lists its addresses, adds and removes them; the import reads a CSV or XLSX file,
shows per team what it would change, and applies it after confirmation. The checked rows
travel from the preview to the confirmation signed with the application's key (so what is
confirmed is what was previewed), with a digest of the lists they were checked against (so a
confirmation is refused when the lists changed meanwhile). Addresses are shown only here.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from survey.admin.blueprint import bp
from survey.admin.forms.staff import (
    StaffAddForm,
    StaffConfirmForm,
    StaffRemoveForm,
    StaffUploadForm,
)
from survey.extensions import db
from survey.forms import PlainForm
from survey.models import Unit, UnitKind
from survey.services import staff_lists
from survey.services import units as unit_service
from survey.services.staff_file import MAX_ROWS, StaffError, StaffRow, read_staff_upload
from survey.services.staff_lists import StaffImport
from survey.services.unit_csv import MAX_UPLOAD_BYTES, UploadError
from survey.services.units import MAX_STAFF, SLUG

Page = str | tuple[str, int]

#: How long a preview can be confirmed (then the file is uploaded again).
PLAN_MAX_AGE = 2 * 3600


def _team_or_404(unit_slug: str) -> Unit:
    if not SLUG.match(unit_slug):
        abort(404)
    return db.first_or_404(
        sa.select(Unit).where(Unit.slug == unit_slug, Unit.kind == UnitKind.TEAM)
    )


# --- one team's list --------------------------------------------------------------------------


def _list_page(unit: Unit, status: int = 200, add: StaffAddForm | None = None, error="") -> Page:
    members = staff_lists.members_of(unit)
    add = add or StaffAddForm(formdata=None, language=staff_lists.default_language())
    return render_template(
        "admin/staff_list.html",
        unit=unit,
        members=members,
        add_form=add,
        remove_form=StaffRemoveForm(formdata=None),
        confirm_form=PlainForm(),
        can_set_expected=0 < len(members) <= MAX_STAFF and unit.staff != len(members),
        error=error,
    ), status


@bp.get("/units/<unit_slug>/staff-list")
def staff_list(unit_slug: str) -> Page:
    return _list_page(_team_or_404(unit_slug))


@bp.post("/units/<unit_slug>/staff-list/add")
def staff_add(unit_slug: str) -> Response | Page:
    unit = _team_or_404(unit_slug)
    form = StaffAddForm()
    if not form.validate():
        return _list_page(unit, 422, form)
    try:
        staff_lists.add_member(unit, form.email.data, form.language.data, current_user)
    except StaffError as error:
        db.session.rollback()
        if unit.archived_on is not None:  # the page offers no form to show the error in
            return _list_page(unit, 409, error=str(error))
        form.email.errors = [str(error)]
        return _list_page(unit, 422, form)
    db.session.commit()
    flash(_("The address has been added to the list of %(name)s.", name=unit.name))
    return redirect(url_for("admin.staff_list", unit_slug=unit.slug))


@bp.post("/units/<unit_slug>/staff-list/remove")
def staff_remove(unit_slug: str) -> Response:
    unit = _team_or_404(unit_slug)
    form = StaffRemoveForm()
    if not form.validate():
        abort(400)
    if staff_lists.remove_member(unit, form.member.data, current_user):
        db.session.commit()
        flash(_("The address has been removed from the list."))
    return redirect(url_for("admin.staff_list", unit_slug=unit.slug))


@bp.post("/units/<unit_slug>/staff-list/remove-all")
def staff_remove_all(unit_slug: str) -> Response:
    unit = _team_or_404(unit_slug)
    if not PlainForm().validate():
        abort(400)
    removed = staff_lists.remove_all(unit, current_user)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d address has been removed.", "%(num)d addresses have been removed.", removed
        )
    )
    return redirect(url_for("admin.staff_list", unit_slug=unit.slug))


@bp.post("/units/<unit_slug>/staff-list/expected-staff")
def staff_set_expected(unit_slug: str) -> Response | Page:
    unit = _team_or_404(unit_slug)
    if not PlainForm().validate():
        abort(400)
    count = len(staff_lists.members_of(unit))
    if not 0 < count <= MAX_STAFF:
        return _list_page(unit, 409, error=_("The list is empty: there is no number to take."))
    if unit_service.set_staff(unit, count, current_user):
        db.session.commit()
        flash(_("The number of staff of %(name)s is now %(num)d.", name=unit.name, num=count))
    return redirect(url_for("admin.staff_list", unit_slug=unit.slug))


# --- import -----------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="staff-import")


def _upload_page(form: StaffUploadForm, status: int = 200) -> Page:
    return render_template(
        "admin/staff_import.html", form=form, max_rows=MAX_ROWS, max_kb=MAX_UPLOAD_BYTES // 1000
    ), status


def _upload_error(message: str, status: int = 422) -> Page:
    form = StaffUploadForm(formdata=None)
    form.file.errors = [message]
    return _upload_page(form, status)


def _preview(
    rows: list[StaffRow], plan: StaffImport, file_name: str, read_as: str, stale: bool = False
) -> Page:
    payload = {
        "rows": [[row.line, row.team, row.email, row.language] for row in rows],
        "replace": plan.replace,
        "fingerprint": plan.fingerprint,
    }
    confirm = StaffConfirmForm(
        formdata=None, plan=_serializer().dumps(payload), file_name=file_name
    )
    status = 409 if stale else 422 if plan.problems or not plan.rows else 200
    return render_template(
        "admin/staff_preview.html",
        plan=plan,
        confirm_form=confirm,
        file_name=file_name,
        read_as=read_as,
        stale=stale,
    ), status


@bp.route("/units/staff-import", methods=["GET", "POST"])
def staff_import() -> Page:
    form = StaffUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422 if form.is_submitted() else 200)
    upload = form.file.data
    # The client's file name is only ever shown, never used to open or store anything.
    file_name = secure_filename(upload.filename or "") or "upload.csv"
    try:
        rows, problems, read_as = read_staff_upload(upload.stream.read(MAX_UPLOAD_BYTES + 1))
    except UploadError as error:
        form.file.errors = [str(error)]
        return _upload_page(form, 413 if error.too_large else 422)
    plan = staff_lists.plan_staff_import(rows, replace=form.replace.data)
    plan.problems = sorted(problems + plan.problems, key=lambda p: (p.line, p.message))
    return _preview(rows, plan, file_name, read_as)


@bp.post("/units/staff-import/confirm")
def staff_import_confirm() -> Response | Page:
    form = StaffConfirmForm()
    if not form.validate():
        return _upload_error(_("The file's content did not arrive. Please upload it again."))
    try:
        payload = _serializer().loads(form.plan.data, max_age=PLAN_MAX_AGE)
        rows = [StaffRow(*row) for row in payload["rows"]]
        replace = bool(payload["replace"])
    except (BadData, KeyError, TypeError, ValueError):
        return _upload_error(_("This preview has expired or was changed. Upload the file again."))
    file_name = secure_filename(form.file_name.data or "") or "upload.csv"
    plan = staff_lists.plan_staff_import(rows, replace=replace)
    if plan.problems or not plan.changes:
        return _preview(rows, plan, file_name, "")
    if plan.fingerprint != payload.get("fingerprint"):
        return _preview(rows, plan, file_name, "", stale=True)
    staff_lists.apply_staff_import(plan, current_user)
    db.session.commit()
    flash(
        _(
            "Staff lists imported: %(added)d addresses added, %(removed)d removed, for "
            "%(teams)d teams.",
            added=plan.total("added"),
            removed=plan.total("removed"),
            teams=len(plan.teams),
        )
    )
    return redirect(url_for("admin.units"))
