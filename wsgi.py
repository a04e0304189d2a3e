"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""

import sys

from survey import create_app, settle_for_serving
from survey.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"Krachtspiegel cannot start: {error}")

settle_for_serving()
