"""Every model, importable from one place (Alembic sees them all through this module)."""

from survey.models.accounts import Account, Role, manager_scopes
from survey.models.audit import AuditEvent
from survey.models.base import Base, now_utc
from survey.models.participation import (
    Invitation,
    InvitationToken,
    MailKind,
    MailStatus,
    OutgoingMail,
    ReminderKind,
    StaffMember,
    WaveReminder,
    WaveSchedule,
)
from survey.models.questionnaires import (
    Questionnaire,
    QuestionnaireVersion,
    StoredItem,
    StoredScale,
)
from survey.models.responses import Answer, Draft, Response, ScaleScore, StoredTeamFigures
from survey.models.retention import RetainedScaleResult
from survey.models.settings import OrganisationSettings
from survey.models.units import Unit, UnitKind
from survey.models.waves import (
    AccessCode,
    ActionKind,
    ActionStatus,
    TeamAction,
    Wave,
    WaveState,
    WaveStatus,
    WaveTeam,
    WaveTreeUnit,
    management_release_date,
    wave_units,
)

__all__ = [
    "StoredTeamFigures",
    "WaveSchedule",
    "WaveReminder",
    "StaffMember",
    "ReminderKind",
    "OutgoingMail",
    "MailStatus",
    "MailKind",
    "InvitationToken",
    "Invitation",
    "AccessCode",
    "Account",
    "ActionKind",
    "ActionStatus",
    "Answer",
    "AuditEvent",
    "Draft",
    "Base",
    "StoredItem",
    "OrganisationSettings",
    "Questionnaire",
    "QuestionnaireVersion",
    "Response",
    "RetainedScaleResult",
    "Role",
    "StoredScale",
    "ScaleScore",
    "TeamAction",
    "Unit",
    "UnitKind",
    "Wave",
    "WaveState",
    "WaveStatus",
    "WaveTeam",
    "WaveTreeUnit",
    "management_release_date",
    "manager_scopes",
    "now_utc",
    "wave_units",
]
