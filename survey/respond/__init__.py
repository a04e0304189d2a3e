from survey.respond import invitations, views  # noqa: F401  (routes register on bp)
from survey.respond.blueprint import bp

__all__ = ["bp"]
