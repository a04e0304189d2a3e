from flask import Blueprint

bp = Blueprint("auth", __name__)

from survey.auth import password, reauth, views  # noqa: E402,F401  (routes register on bp)
