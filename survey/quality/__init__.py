from flask import Blueprint

bp = Blueprint("quality", __name__, url_prefix="/quality")

from survey.quality import views  # noqa: E402,F401  (routes register on bp)
