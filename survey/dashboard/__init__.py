from survey.dashboard import trends, views  # noqa: F401  (routes register on bp)
from survey.dashboard.blueprint import bp

__all__ = ["bp"]
