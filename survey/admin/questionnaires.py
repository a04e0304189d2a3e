"""Administration: questionnaires and the life domains (see survey/admin/__init__.py).

The list shows every questionnaire version with its use; a version's file and codebook can be
downloaded, and it can be previewed as a respondent sees it. An upload is checked by the same
loader as the command line, and stored with the same rules. The life domains page chooses which
items of the domain groups (``domains: true``) respondents are asked.
"""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from questionnaires import KNOWN_LANGUAGES, MAX_FILE_BYTES, Problem, QuestionnaireError
from questionnaires.codebook import codebook_sheets, render_markdown
from questionnaires.loader import is_toml
from questionnaires.paging import instrument_pages
from reports.xlsx import workbook_bytes
from survey.admin.blueprint import bp
from survey.admin.forms.questionnaires import LifeDomainsForm, UploadForm
from survey.extensions import db
from survey.forms import field_name, section_form
from survey.models import QuestionnaireVersion
from survey.services import questionnaires as service
from survey.services.questionnaires import LoadStatus, NoDomainLeft, VersionInUse
from survey.services.responding import settings_left_out_domains
from survey.services.settings import current_settings

Page = str | tuple[str, int]
#: The upload page lists at most this many problems of a file (the command line lists all).
SHOWN_PROBLEMS = 100


def _version_or_404(version_id: int) -> QuestionnaireVersion:
    return db.get_or_404(QuestionnaireVersion, version_id)


@bp.get("/questionnaires")
def questionnaires() -> str:
    return render_template(
        "admin/questionnaires/list.html", overview=service.questionnaire_overview()
    )


def _upload_page(
    form: UploadForm,
    status: int = 200,
    problems: list[tuple[Problem, str | None]] | None = None,
    hidden: int = 0,
    refusal: str = "",
) -> Page:
    return render_template(
        "admin/questionnaires/upload.html",
        form=form,
        problems=problems or [],
        hidden=hidden,
        refusal=refusal,
        max_mb=MAX_FILE_BYTES // (1024 * 1024),
    ), status


def _with_source_lines(problems: list[Problem], raw: bytes) -> list[tuple[Problem, str | None]]:
    """Each problem with the line of the file it points at (shortened), to show beside it."""
    lines = raw.decode("utf-8", "replace").splitlines()
    shown = []
    for problem in problems[:SHOWN_PROBLEMS]:
        line = None
        if problem.line and problem.line <= len(lines):
            line = lines[problem.line - 1].rstrip()
            line = line if len(line) <= 160 else line[:160] + "…"
        shown.append((problem, line))
    return shown


@bp.route("/questionnaires/upload", methods=["GET", "POST"])
def questionnaire_upload() -> Response | Page:
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422 if form.is_submitted() else 200)
    upload = form.file.data
    filename = service.upload_filename(upload.filename or "")
    if filename is None:
        form.file.errors = [_("The file's name must end in .yaml, .yml or .toml.")]
        return _upload_page(form, 422)
    raw = upload.stream.read(MAX_FILE_BYTES + 1)
    try:
        outcome = service.load_upload(raw, filename, current_user)
    except QuestionnaireError as error:
        db.session.rollback()
        form.file.errors = [
            _("The file was not stored: it has problems, listed below. Nothing was changed.")
        ]
        problems = _with_source_lines(error.problems, raw)
        hidden = len(error.problems) - len(problems)
        return _upload_page(form, 422, problems, hidden)
    except VersionInUse as error:
        db.session.rollback()
        refusal = _(
            "Version %(version)s of %(questionnaire)s already has responses, so its content can "
            "no longer change. Nothing was stored. Give the changed file a new version number "
            "and upload it again.",
            version=error.version,
            questionnaire=error.instrument_id,
        )
        return _upload_page(form, 409, refusal=refusal)
    except sa.exc.IntegrityError:  # the same file, loaded at the same moment elsewhere
        db.session.rollback()
        refusal = _("Someone stored a questionnaire at the same moment. Please upload it again.")
        return _upload_page(form, 409, refusal=refusal)
    db.session.commit()
    flash(_upload_message(outcome.status, filename, outcome.version))
    return redirect(url_for("admin.questionnaires"))


def _upload_message(status: LoadStatus, filename: str, version: QuestionnaireVersion) -> str:
    if status is LoadStatus.UNCHANGED:
        return _("This file is stored already, as %(label)s. Nothing changed.", label=version.label)
    if status is LoadStatus.NEW_REVISION:
        return _(
            "%(file)s was stored as %(label)s: a new revision of version %(version)s, which has "
            "no responses yet.",
            file=filename,
            label=version.label,
            version=version.version,
        )
    return _("%(file)s was stored as %(label)s.", file=filename, label=version.label)


@bp.get("/questionnaires/<int:version_id>/source")
def questionnaire_source(version_id: int) -> Response:
    version = _version_or_404(version_id)
    name = secure_filename(version.filename) or f"questionnaire-{version.id}.yaml"
    return _attachment(
        version.content.encode("utf-8"),
        "application/toml" if is_toml(name) else "application/yaml",
        name,
    )


@bp.get("/questionnaires/<int:version_id>/codebook")
def questionnaire_codebook(version_id: int) -> Response:
    version = _version_or_404(version_id)
    instrument = service.instrument_of_version(version)
    name = secure_filename(f"codebook {version.label}")
    if request.args.get("format", "xlsx") == "md":
        return _attachment(render_markdown([instrument]).encode(), "text/markdown", f"{name}.md")
    if request.args.get("format", "xlsx") != "xlsx":
        abort(404)
    return _attachment(
        workbook_bytes(codebook_sheets([instrument])),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{name}.xlsx",
    )


def _attachment(content: bytes, mimetype: str, name: str) -> Response:
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name)


@bp.get("/questionnaires/<int:version_id>/preview")
def questionnaire_preview(version_id: int) -> str:
    version = _version_or_404(version_id)
    instrument = service.instrument_of_version(version)
    lang = request.args.get("lang") or str(get_locale())
    if lang not in KNOWN_LANGUAGES:
        lang = instrument.default_language
    left_out = settings_left_out_domains(instrument)
    asked = instrument.without(left_out)
    pages = instrument_pages(asked)
    with force_locale(lang):
        body = render_template(
            "admin/questionnaires/_preview_body.html",
            instrument=asked,
            pages=pages,
            questions=len(asked.all_items()),
            forms=[
                section_form(page, lang, {}, formdata=None, meta={"csrf": False}) for page in pages
            ],
            field_name=field_name,
            preview_lang=lang,
        )
    return render_template(
        "admin/questionnaires/preview.html",
        version=version,
        instrument=instrument,
        body=Markup(body),  # noqa: S704  (our own template's output, escaped there)
        preview_lang=lang,
        left_out=[item for item in instrument.all_items() if item.code in left_out],
    )


@bp.route("/questionnaires/life-domains", methods=["GET", "POST"])
def life_domains() -> Response | Page:
    groups = service.life_domain_groups()
    form = LifeDomainsForm()
    if not form.is_submitted():
        chosen = current_settings().life_domains
        form.domains.data = list(chosen) if chosen is not None else service.domain_codes(groups)
        return _life_domains_page(form, groups)
    if not form.validate():
        return _life_domains_page(form, groups, 422)
    if not groups:
        return _life_domains_page(form, groups, 409)
    try:
        service.save_life_domains(form.domains.data or [], current_user)
    except NoDomainLeft as error:
        db.session.rollback()
        form.domains.errors = [
            _(
                "Choose at least one life domain in %(group)s: respondents are asked at least one.",
                group=each.group.title.in_language(str(get_locale())),
            )
            for each in error.groups
        ]
        return _life_domains_page(form, groups, 422)
    db.session.commit()
    flash(
        _(
            "The choice of life domains is saved. It holds for waves opened from now on; a wave "
            "that is already open goes on asking what it asked when it opened."
        )
    )
    return redirect(url_for("admin.life_domains"))


def _life_domains_page(
    form: LifeDomainsForm, groups: list[service.DomainGroup], status: int = 200
) -> Page:
    # A code that is in more than one group (two questionnaires) is offered once, in the first.
    seen: set[str] = set()
    offered = []
    for each in groups:
        items = [item for item in each.group.items if item.code not in seen]
        seen.update(item.code for item in items)
        offered.append((each, items))
    return render_template(
        "admin/questionnaires/life_domains.html",
        form=form,
        offered=offered,
        chosen=set(form.domains.data or []),
    ), status
