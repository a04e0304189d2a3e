"""Administration: retention (see survey/admin/__init__.py)."""
