"""Administration: units (see survey/admin/__init__.py)."""
