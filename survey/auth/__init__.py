from survey.auth import account, password, reauth, views  # noqa: F401  (routes register on bp)
from survey.auth.blueprint import bp

__all__ = ["bp"]
