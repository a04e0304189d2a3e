from flask import Blueprint

bp = Blueprint("main", __name__)

from survey.main import views  # noqa: E402,F401  (routes register on bp)
