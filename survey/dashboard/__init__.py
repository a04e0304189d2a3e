from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from survey.dashboard import views  # noqa: E402,F401  (routes register on bp)
