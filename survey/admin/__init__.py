"""Administration in the browser: units, accounts, questionnaires, waves, settings, audit log.

Every route of this blueprint is for administrators only: the check below runs before each of
them, so a view that forgets its decorator is still closed.
"""

from flask import Blueprint, abort
from flask_login import current_user

from survey.extensions import login_manager
from survey.models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def administrators_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role(Role.ADMIN):
        abort(403)
    return None


# Routes register on bp, one module per part of the administration.
from survey.admin import (  # noqa: E402,F401
    accounts,
    audit,
    questionnaires,
    retention,
    settings,
    units,
    views,
    waves,
)
