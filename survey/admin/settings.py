"""Administration: settings (see survey/admin/__init__.py).

One form for the organisation's settings (``survey.services.settings``); the life domains are
chosen on the questionnaire pages. The database refuses a minimum group size below 3 whatever
this form lets through.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from survey.admin.blueprint import bp
from survey.admin.forms.settings import SettingsForm
from survey.config import MIN_GROUP_SIZE_FLOOR
from survey.extensions import db
from survey.services.settings import Settings, current_settings, save_settings


def _form_data(settings: Settings) -> dict:
    return {
        "min_group_size": settings.min_group_size,
        "spread_threshold": settings.spread_threshold,
        "comments_enabled": settings.comments_enabled,
        "team_first_days": settings.team_first_days,
        "languages": list(settings.languages),
        "retention_years": settings.retention_years,
    }


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> Response | tuple[str, int]:
    before = current_settings()
    form = SettingsForm(data=_form_data(before))
    if form.validate_on_submit():
        after = save_settings(form.values(), current_user)
        db.session.commit()
        _say_what_changed(before, after)
        return redirect(url_for("admin.settings"))
    return render_template(
        "admin/settings/index.html",
        form=form,
        saved=before,
        floor=MIN_GROUP_SIZE_FLOOR,
        retention_page="admin.retention" in current_app.view_functions,
    ), 422 if form.is_submitted() else 200


def _say_what_changed(before: Settings, after: Settings) -> None:
    if before == after:
        flash(_("Nothing changed: the settings were already like this."))
        return
    flash(_("The settings have been saved."))
    k_was, k = before.min_group_size, after.min_group_size
    if k > k_was:
        flash(
            _(
                "The minimum group size is now %(k)d (was %(was)d): groups with fewer than "
                "%(k)d answers are no longer shown anywhere, also in earlier waves.",
                k=k,
                was=k_was,
            )
        )
    elif k < k_was:
        flash(
            _(
                "The minimum group size is now %(k)d (was %(was)d) for waves opened from now on. "
                "Waves already opened keep the minimum group size they were answered under.",
                k=k,
                was=k_was,
            )
        )
