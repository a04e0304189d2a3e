"""Administration: waves (see survey/admin/__init__.py)."""
