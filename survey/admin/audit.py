"""Administration: audit (see survey/admin/__init__.py).

The audit log, newest first, 50 events a page, filtered by actor, action and date range (a GET
form, so a filtered view can be bookmarked); the same filtered events as CSV or Excel. An export
is itself recorded in the log.
"""

from __future__ import annotations

import re
from datetime import date

from flask import abort, render_template, request
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from survey.admin.blueprint import bp
from survey.admin.forms.audit import AuditFilterForm
from survey.extensions import db
from survey.services import audit as audit_service
from survey.services.audit import AuditFilter
from survey.web.downloads import FORMATS, download, slug_of

PER_PAGE = 50
FILTERS = ("actor", "action", "since", "until")


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    form.actor.choices = [SelectChoice("", _l("Everyone"))] + [
        SelectChoice(actor) for actor in audit_service.actors()
    ]
    return form


@bp.get("/audit")
def audit() -> tuple[str, int]:
    form = _filter_form()
    if not form.validate():
        return render_template("admin/audit/index.html", form=form, page=None), 422
    page_text = request.args.get("page", "1")
    if not re.fullmatch(r"[1-9][0-9]{0,5}", page_text):  # no page 0, -1, "x" or 10**20
        abort(404)
    page = db.paginate(
        form.audit_filter().select(),
        page=int(page_text),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
    )
    query = {key: request.args[key] for key in FILTERS if request.args.get(key)}
    return render_template(
        "admin/audit/index.html",
        form=form,
        page=page,
        query=query,
        filtered=bool(form.audit_filter().as_details()),
        label=audit_service.action_label,
        details=audit_service.detail_pairs,
        local_time=audit_service.local_time,
        time_zone=str(get_timezone()),
    ), 200


@bp.get("/audit.<fmt>")
def audit_export(fmt: str) -> Response | tuple[str, int]:
    if fmt not in FORMATS:
        abort(404)
    form = _filter_form()
    if not form.validate():
        return render_template("admin/audit/index.html", form=form, page=None), 422
    chosen = form.audit_filter()
    events = list(db.session.scalars(chosen.select()))
    header, rows = audit_service.export_table(events)
    audit_service.record(
        current_user, "audit.export", fmt, rows=len(events), filters=chosen.as_details()
    )
    db.session.commit()
    return download([(str(_l("Audit log")), header, rows)], fmt, _file_name(chosen))


def _file_name(chosen: AuditFilter) -> str:
    parts = ["audit-log", date.today().isoformat()]
    if chosen.action:
        parts.append(chosen.action)
    return slug_of("-".join(parts))
