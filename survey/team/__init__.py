from survey.team import views  # noqa: F401  (routes register on bp)
from survey.team.blueprint import bp

__all__ = ["bp"]
