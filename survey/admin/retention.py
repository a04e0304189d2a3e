"""Administration: data retention (see survey/admin/__init__.py).

The page shows the retention setting and which waves' answers are due for deletion, with what
goes and what is kept (``survey.services.retention``); a confirmed form deletes them.
"""

from flask import current_app, render_template, url_for
from flask_login import current_user

from survey.admin.blueprint import bp
from survey.admin.forms.retention import ApplyRetentionForm
from survey.extensions import db
from survey.services import retention as retention_service
from survey.services.questionnaires import instrument_of
from survey.services.retention import RetentionPlan, retention_plan


def _wave_ids(plan: RetentionPlan) -> str:
    return ",".join(str(wave_id) for wave_id in plan.wave_ids)


def _scale_titles(plan: RetentionPlan) -> dict[int, dict]:
    """wave id → scale code → the scale's title, for the tables of kept figures."""
    return {
        wave_plan.wave.id: {
            scale.code: scale.title for scale in instrument_of(wave_plan.wave).scales()
        }
        for wave_plan in plan.waves
    }


def _page(plan: RetentionPlan, form: ApplyRetentionForm, status: int = 200, **extra):
    form.waves.data = _wave_ids(plan)
    settings_url = (
        url_for("admin.settings") if "admin.settings" in current_app.view_functions else None
    )
    return render_template(
        "admin/retention/index.html",
        plan=plan,
        form=form,
        settings_url=settings_url,
        scale_titles=_scale_titles(plan),
        **extra,
    ), status


@bp.get("/retention")
def retention():
    return _page(retention_plan(), ApplyRetentionForm())


@bp.post("/retention/apply")
def apply_retention():
    plan = retention_plan()
    form = ApplyRetentionForm()
    if not plan.waves:
        return _page(plan, form, 409)
    if not form.validate():
        return _page(plan, form, 422)
    if form.waves.data != _wave_ids(plan):
        return _page(plan, ApplyRetentionForm(formdata=None), 409, plan_changed=True)
    scale_titles = _scale_titles(plan)
    done = retention_service.apply_retention(plan, current_user)
    db.session.commit()
    return render_template(
        "admin/retention/done.html", plan=plan, done=done, scale_titles=scale_titles
    )
