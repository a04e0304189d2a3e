"""The quality blueprint on its own: the package and its views import it, not each other."""

from flask import Blueprint

bp = Blueprint("quality", __name__, url_prefix="/quality")
