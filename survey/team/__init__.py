from flask import Blueprint

bp = Blueprint("team", __name__, url_prefix="/team")

from survey.team import views  # noqa: E402,F401  (routes register on bp)
