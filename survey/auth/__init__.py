from survey.auth import password, reauth, views  # noqa: F401  (routes register on bp)
from survey.auth.blueprint import bp

__all__ = ["bp"]
