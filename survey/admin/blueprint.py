"""The admin blueprint and its check for administrators, on its own: the package and its views
import it, not each other."""

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
