"""Administration: the unit tree (see survey/admin/__init__.py).

The list shows the whole tree; a unit's page renames, moves, archives and restores it; the
import reads a CSV file, shows what it would change, and applies it after confirmation.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from survey.admin.blueprint import bp
from survey.admin.forms.units import (
    ImportConfirmForm,
    ImportUploadForm,
    MoveForm,
    RenameForm,
    StaffForm,
    UnitCreateForm,
)
from survey.extensions import db
from survey.forms import PlainForm
from survey.models import Account, Unit, UnitKind
from survey.services import staff_lists, unit_csv, unit_import
from survey.services import units as unit_service
from survey.services.unit_csv import MAX_ROWS, MAX_UPLOAD_BYTES, UploadError
from survey.services.units import SLUG, UnitError

Page = str | tuple[str, int]


def _unit_or_404(unit_slug: str) -> Unit:
    if not SLUG.match(unit_slug):  # e.g. a NUL byte, which PostgreSQL refuses outright
        abort(404)
    return db.first_or_404(sa.select(Unit).where(Unit.slug == unit_slug))


@bp.get("/units")
def units() -> str:
    everything = unit_service.all_units()
    return render_template(
        "admin/units/list.html",
        tree=unit_service.unit_tree(everything),
        staff_counts=staff_lists.counts_by_unit(),
        total=len(everything),
        archived=sum(1 for unit in everything if unit.archived_on is not None),
    )


@bp.route("/units/new", methods=["GET", "POST"])
def unit_new() -> Response | Page:
    form = UnitCreateForm()
    form.parent.offer(unit_service.possible_parents(), _("None: this is an organisation"))
    if not form.is_submitted():
        form.parent.data = request.args.get("parent", "")
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("admin/units/new.html", form=form), status
    unit = unit_service.create_unit(
        form.name.data,
        UnitKind(form.kind.data),
        form.parent.unit,
        form.slug.data,
        current_user,
        staff=form.staff.data,
    )
    db.session.commit()
    flash(_("%(name)s was created with the short name %(slug)s.", name=unit.name, slug=unit.slug))
    return redirect(url_for("admin.unit_edit", unit_slug=unit.slug))


def _unit_page(unit: Unit, status: int = 200, errors: tuple[str, ...] = (), **forms) -> Page:
    rename = forms.get("rename") or RenameForm(formdata=None, name=unit.name)
    move = forms.get("move") or MoveForm(formdata=None, parent=unit.parent_id and unit.parent.slug)
    staff = forms.get("staff") or StaffForm(formdata=None, staff=unit.staff)
    parents = unit_service.possible_parents(unit)
    move.parent.offer(parents, _("Choose a unit"))
    to_archive = unit_service.units_to_archive(unit) if unit.archived_on is None else []
    to_restore = unit_service.units_to_restore(unit)
    teams = [each for each in to_archive or to_restore if each.kind is UnitKind.TEAM]
    return render_template(
        "admin/units/edit.html",
        unit=unit,
        path=unit.ancestors(),
        below=unit_service.descendants(unit),
        rename_form=rename,
        move_form=move,
        staff_form=staff,
        move_elsewhere=any(parent.id != unit.parent_id for parent in parents),
        confirm_form=PlainForm(),
        to_archive=to_archive,
        to_restore=to_restore,
        open_waves=unit_service.open_waves_of(teams) if to_archive else [],
        errors=errors,
    ), status


@bp.get("/units/<unit_slug>/edit")
def unit_edit(unit_slug: str) -> Page:
    return _unit_page(_unit_or_404(unit_slug))


@bp.post("/units/<unit_slug>/rename")
def unit_rename(unit_slug: str) -> Response | Page:
    unit = _unit_or_404(unit_slug)
    form = RenameForm()
    if not form.validate():
        return _unit_page(unit, 422, rename=form)
    if unit_service.rename_unit(unit, form.name.data, current_user):
        db.session.commit()
        flash(_("The unit is now called %(name)s.", name=unit.name))
    return redirect(url_for("admin.unit_edit", unit_slug=unit.slug))


@bp.post("/units/<unit_slug>/staff")
def unit_staff(unit_slug: str) -> Response | Page:
    unit = _unit_or_404(unit_slug)
    form = StaffForm()
    if unit.kind is not UnitKind.TEAM:
        return _unit_page(unit, 409, (_("Only a team has a number of staff."),))
    if not form.validate():
        return _unit_page(unit, 422, staff=form)
    if unit_service.set_staff(unit, form.staff.data, current_user):
        db.session.commit()
        flash(_("The number of staff of %(name)s has been saved.", name=unit.name))
    return redirect(url_for("admin.unit_edit", unit_slug=unit.slug))


@bp.post("/units/<unit_slug>/move")
def unit_move(unit_slug: str) -> Response | Page:
    unit = _unit_or_404(unit_slug)
    form = MoveForm()
    form.parent.offer(unit_service.possible_parents(unit))
    if unit.kind is UnitKind.ORGANISATION or unit.archived_on is not None:
        form.validate()
        return _unit_page(unit, 409, (_("This unit cannot move."),), move=form)
    # A parent that is not offered (below the unit itself, a team, archived, elsewhere) is
    # looked up anyway, so the message says why it cannot be chosen.
    parent = form.parent.unit
    if parent is None and SLUG.match(form.parent.data or ""):
        parent = db.session.scalar(sa.select(Unit).where(Unit.slug == form.parent.data))
    if not form.parent.data or parent is None:
        form.validate()
        return _unit_page(unit, 422, move=form)
    try:
        moved = unit_service.move_unit(unit, parent, current_user)
    except UnitError as error:
        db.session.rollback()
        form.parent.errors = [str(error)]
        return _unit_page(unit, 422, move=form)
    if moved:
        db.session.commit()
        flash(_("%(name)s is now part of %(parent)s.", name=unit.name, parent=parent.name))
    return redirect(url_for("admin.unit_edit", unit_slug=unit.slug))


@bp.post("/units/<unit_slug>/archive")
def unit_archive(unit_slug: str) -> Response | Page:
    return _archive_or_restore(
        unit_slug, unit_service.archive_unit, lambda name: _("%(name)s is archived.", name=name)
    )


@bp.post("/units/<unit_slug>/restore")
def unit_restore(unit_slug: str) -> Response | Page:
    return _archive_or_restore(
        unit_slug, unit_service.restore_unit, lambda name: _("%(name)s is restored.", name=name)
    )


def _archive_or_restore(
    unit_slug: str,
    change: Callable[[Unit, Account], list[Unit]],
    done: Callable[[str], str],
) -> Response | Page:
    """Archive or restore a unit with the units that go with it; ``done(name)`` says what
    happened to the unit, a second sentence what happened below it."""
    unit = _unit_or_404(unit_slug)
    try:
        changed = change(unit, current_user)
    except UnitError as error:
        db.session.rollback()
        return _unit_page(unit, 409, (str(error),))
    db.session.commit()
    below = len(changed) - 1
    message = done(unit.name)
    if below:
        message += " " + ngettext(
            "So is the unit below it.", "So are the %(num)d units below it.", below
        )
    flash(message)
    return redirect(url_for("admin.unit_edit", unit_slug=unit.slug))


# --- import ---------------------------------------------------------------------------------


def _upload_page(form: ImportUploadForm, status: int = 200) -> Page:
    return render_template(
        "admin/units/import.html",
        form=form,
        max_rows=MAX_ROWS,
        max_kb=MAX_UPLOAD_BYTES // 1000,
    ), status


def _preview(text: str, file_name: str, encoding: str = "utf-8") -> Page:
    report = unit_import.plan_unit_import(text)
    confirm = ImportConfirmForm(formdata=None, csv_text=text, file_name=file_name)
    status = 422 if report.problems or not report.rows else 200
    return render_template(
        "admin/units/preview.html",
        report=report,
        confirm_form=confirm,
        file_name=file_name,
        encoding=encoding,
    ), status


@bp.route("/units/import", methods=["GET", "POST"])
def units_import() -> Page:
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422 if form.is_submitted() else 200)
    upload = form.file.data
    # The client's file name is only ever shown, never used to open or store anything.
    file_name = secure_filename(upload.filename or "") or "upload.csv"
    try:
        text, encoding = unit_csv.decode_upload(upload.stream.read(MAX_UPLOAD_BYTES + 1))
    except UploadError as error:
        form.file.errors = [str(error)]
        return _upload_page(form, 413 if error.too_large else 422)
    return _preview(text, file_name, encoding)


@bp.post("/units/import/confirm")
def units_import_confirm() -> Response | Page:
    form = ImportConfirmForm()
    if not form.validate():
        upload = ImportUploadForm(formdata=None)
        upload.file.errors = [_("The file's content did not arrive. Please upload it again.")]
        return _upload_page(upload, 422)
    file_name = secure_filename(form.file_name.data or "") or "upload.csv"
    try:
        text = unit_csv.check_csv_text(form.csv_text.data)
    except UploadError as error:
        upload = ImportUploadForm(formdata=None)
        upload.file.errors = [str(error)]
        return _upload_page(upload, 413 if error.too_large else 422)
    report = unit_import.import_unit_tree(text, current_user, file_name)
    if not report.applied or not report.rows:
        db.session.rollback()
        return _preview(text, file_name)
    db.session.commit()
    flash(
        _(
            "Import done: %(created)d created, %(renamed)d renamed, %(unchanged)d unchanged.",
            created=len(report.to_create),
            renamed=len(report.to_rename),
            unchanged=len(report.unchanged),
        )
    )
    if report.to_restaff:
        flash(
            ngettext(
                "The number of staff of %(num)d team was changed.",
                "The number of staff of %(num)d teams was changed.",
                len(report.to_restaff),
            )
        )
    return redirect(url_for("admin.units"))
