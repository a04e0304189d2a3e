"""The team blueprint on its own: the package and its views import it, not each other."""

from flask import Blueprint

bp = Blueprint("team", __name__, url_prefix="/team")
