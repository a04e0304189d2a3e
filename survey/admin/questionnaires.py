"""Administration: questionnaires (see survey/admin/__init__.py)."""
