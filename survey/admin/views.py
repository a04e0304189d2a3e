"""The administration's front page: where each part lives."""

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

from survey.admin.blueprint import bp

#: (endpoint, title, what it is for): the front page lists each part.
SECTIONS = [
    (
        "admin.units",
        _l("Units"),
        _l(
            "The organisation, its departments and teams: create, rename, move, archive, or "
            "import them from a spreadsheet."
        ),
    ),
    (
        "admin.accounts",
        _l("Accounts"),
        _l(
            "Who may log in: invite people, set their role and which units they see, reset a "
            "password, deactivate an account."
        ),
    ),
    (
        "admin.questionnaires",
        _l("Questionnaires"),
        _l(
            "The questionnaire versions: upload a new one, check it, and see it as a respondent "
            "does."
        ),
    ),
    (
        "admin.waves",
        _l("Waves"),
        _l(
            "Questionnaire rounds: choose the teams and period, open and close them, print team "
            "links and access codes."
        ),
    ),
    (
        "admin.settings",
        _l("Settings"),
        _l(
            "The minimum group size, comments, the team-first period, languages, life domains "
            "and how long answers are kept."
        ),
    ),
    (
        "admin.retention",
        _l("Data retention"),
        _l(
            "Which old waves' answers will be deleted under the retention setting, before they are."
        ),
    ),
    (
        "admin.audit",
        _l("Audit log"),
        _l("Every administrative act: who did what, and when."),
    ),
]


@bp.get("/")
def index() -> str:
    sections = [section for section in SECTIONS if section[0] in current_app.view_functions]
    return render_template("admin/index.html", admin_sections=sections)
