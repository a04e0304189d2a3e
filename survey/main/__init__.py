from survey.main import views  # noqa: F401  (routes register on bp)
from survey.main.blueprint import bp

__all__ = ["bp"]
