"""Administration: accounts (see survey/admin/__init__.py)."""
