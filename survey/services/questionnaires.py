"""Storing validated instruments as immutable questionnaire versions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from questionnaires import Instrument
from survey.extensions import db
from survey.models import (
    Account,
    Item,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    Scale,
    Wave,
)
from survey.services import audit


class LoadStatus(StrEnum):
    UNCHANGED = "unchanged"
    NEW_VERSION = "new version"
    NEW_REVISION = "new revision"


class VersionInUse(ValueError):
    """The file would change a questionnaire version that already has responses."""


@dataclass(frozen=True)
class LoadOutcome:
    status: LoadStatus
    version: QuestionnaireVersion


def has_responses(versions: list[QuestionnaireVersion]) -> bool:
    """Whether any of ``versions`` was answered, in one query."""
    ids = [version.id for version in versions]
    return bool(ids) and db.session.scalar(
        sa.select(
            sa.exists().where(Response.wave_id == Wave.id, Wave.questionnaire_version_id.in_(ids))
        )
    )


def store_instrument(
    instrument: Instrument, filename: str, actor: Account | None = None
) -> LoadOutcome:
    """Store ``instrument`` unless the same content is stored already.

    A changed file that keeps its declared version becomes a new revision of it, unless any
    revision of that version has responses: then :class:`VersionInUse` is raised.
    """
    questionnaire = db.session.scalar(
        sa.select(Questionnaire).where(Questionnaire.key == instrument.id)
    )
    if questionnaire is None:
        questionnaire = Questionnaire(key=instrument.id, title=dict(instrument.title))
        db.session.add(questionnaire)
        same_version: list[QuestionnaireVersion] = []
    else:
        stored = db.session.scalar(
            sa.select(QuestionnaireVersion).where(
                QuestionnaireVersion.questionnaire_id == questionnaire.id,
                QuestionnaireVersion.content_sha256 == instrument.sha256,
            )
        )
        if stored is not None:
            return LoadOutcome(LoadStatus.UNCHANGED, stored)
        same_version = list(
            db.session.scalars(
                sa.select(QuestionnaireVersion)
                .where(
                    QuestionnaireVersion.questionnaire_id == questionnaire.id,
                    QuestionnaireVersion.version == instrument.version,
                )
                .order_by(QuestionnaireVersion.revision)
            )
        )
        if has_responses(same_version):
            raise VersionInUse(
                f"{filename}: version {instrument.version} of {instrument.id} already has "
                "responses, so its content can no longer change. Give the changed file a new "
                "version number."
            )
        questionnaire.title = dict(instrument.title)

    version = QuestionnaireVersion(
        questionnaire=questionnaire,
        version=instrument.version,
        revision=same_version[-1].revision + 1 if same_version else 1,
        filename=filename,
        content=instrument.content,
        content_sha256=instrument.sha256,
        definition=instrument.to_dict(),
    )
    _add_scales_and_items(version, instrument)
    db.session.add(version)
    db.session.flush()
    status = LoadStatus.NEW_REVISION if same_version else LoadStatus.NEW_VERSION
    audit.record(actor, "questionnaire.load", version.label, file=filename, status=status.value)
    return LoadOutcome(status, version)


def _add_scales_and_items(version: QuestionnaireVersion, instrument: Instrument) -> None:
    sets: dict[str, Scale] = {}
    for section in instrument.sections:
        for item_set, scored in [(scale, True) for scale in section.scales] + [
            (group, False) for group in section.groups
        ]:
            sets[item_set.code] = Scale(
                code=item_set.code,
                section_code=section.code,
                scored=scored,
                title=dict(item_set.title),
                position=len(sets),
            )
            version.scales.append(sets[item_set.code])
    for position, item in enumerate(instrument.all_items()):
        set_code = item.scale or item.group
        version.items.append(
            Item(
                code=item.code,
                section_code=item.section,
                scale=sets[set_code] if set_code else None,
                item_type=item.type,
                text=dict(item.text),
                reverse=item.reverse,
                dont_know=item.dont_know,
                background=item.background,
                position=position,
            )
        )
