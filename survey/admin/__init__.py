"""Administration in the browser: units, accounts, questionnaires, waves, settings, audit log.

Every route of this blueprint is for administrators only: the check in blueprint.py runs before
each of them, so a view that forgets its decorator is still closed.
"""

from survey.admin import (  # noqa: F401  (routes register on bp, one module per part)
    accounts,
    audit,
    invitations,
    questionnaires,
    recurrence,
    retention,
    settings,
    staff,
    units,
    views,
    waves,
)
from survey.admin.blueprint import bp

__all__ = ["bp"]
