from survey.quality import participation, views  # noqa: F401  (routes register on bp)
from survey.quality.blueprint import bp

__all__ = ["bp"]
