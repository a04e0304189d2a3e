"""The dashboard blueprint on its own: the package and its views import it, not each other."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
