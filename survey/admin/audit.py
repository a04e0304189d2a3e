"""Administration: audit (see survey/admin/__init__.py)."""
