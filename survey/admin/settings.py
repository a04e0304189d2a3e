"""Administration: settings (see survey/admin/__init__.py)."""
