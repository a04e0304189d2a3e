"""The auth blueprint on its own: the package and its views import it, not each other."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
