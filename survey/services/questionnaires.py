"""Storing validated instruments as immutable questionnaire versions."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from werkzeug.utils import secure_filename

from questionnaires import Group, Instrument
from questionnaires.loader import load_bytes
from survey.extensions import db
from survey.models import (
    Account,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    StoredItem,
    StoredScale,
    Wave,
)
from survey.services import audit
from survey.services.settings import Settings, save_settings


class LoadStatus(StrEnum):
    UNCHANGED = "unchanged"
    NEW_VERSION = "new version"
    NEW_REVISION = "new revision"


class VersionInUse(ValueError):
    """The file would change a questionnaire version that already has responses."""

    def __init__(self, message: str, instrument_id: str = "", version: str = ""):
        super().__init__(message)
        self.instrument_id = instrument_id
        self.version = version


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
                "version number.",
                instrument.id,
                instrument.version,
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
    sets: dict[str, StoredScale] = {}
    for section in instrument.sections:
        for item_set, scored in [(scale, True) for scale in section.scales] + [
            (group, False) for group in section.groups
        ]:
            sets[item_set.code] = StoredScale(
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
            StoredItem(
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


# The administration's questionnaire pages

#: An upload's name must end in one of these; the suffix decides the format.
UPLOAD_SUFFIXES = (".yaml", ".yml", ".toml")
MAX_FILENAME_LENGTH = 100


@dataclass(frozen=True)
class VersionRow:
    """One stored version as the questionnaires page lists it."""

    version: QuestionnaireVersion
    #: how many waves (of any status) use it
    waves: int
    #: whether any of those waves has a response
    answered: bool


def questionnaire_overview() -> list[tuple[Questionnaire, list[VersionRow]]]:
    """Every questionnaire with its versions, newest first, in three queries."""
    questionnaires = db.session.scalars(
        sa.select(Questionnaire)
        .order_by(Questionnaire.key)
        .options(
            selectinload(Questionnaire.versions).load_only(
                QuestionnaireVersion.version,
                QuestionnaireVersion.revision,
                QuestionnaireVersion.filename,
                QuestionnaireVersion.content_sha256,
                QuestionnaireVersion.loaded_at,
            )
        )
    ).all()
    waves = dict(
        db.session.execute(
            sa.select(Wave.questionnaire_version_id, sa.func.count()).group_by(
                Wave.questionnaire_version_id
            )
        ).all()
    )
    answered = set(
        db.session.scalars(
            sa.select(Wave.questionnaire_version_id)
            .where(sa.exists().where(Response.wave_id == Wave.id))
            .distinct()
        )
    )
    return [
        (
            questionnaire,
            [
                VersionRow(version, waves.get(version.id, 0), version.id in answered)
                for version in sorted(
                    questionnaire.versions, key=lambda v: (v.loaded_at, v.id), reverse=True
                )
            ],
        )
        for questionnaire in questionnaires
    ]


def upload_filename(name: str) -> str | None:
    """The name an uploaded file is stored and shown under: the secure form of its base name,
    at most 100 characters; None when it does not end in .yaml, .yml or .toml."""
    base = secure_filename(name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, suffix = base.rpartition(".")
    if not stem or f"{dot}{suffix}".lower() not in UPLOAD_SUFFIXES:
        return None
    suffix = f".{suffix.lower()}"
    return stem[: MAX_FILENAME_LENGTH - len(suffix)] + suffix


def load_upload(raw: bytes, filename: str, actor: Account) -> LoadOutcome:
    """Validate an uploaded instrument file and store it as the command line does.

    QuestionnaireError lists the file's problems; VersionInUse refuses a changed file that
    keeps an answered version. ``filename`` comes from :func:`upload_filename`.
    """
    return store_instrument(load_bytes(raw, filename), filename, actor)


#: Parsed instruments by (version id, content hash, wording), newest use last. A stored version
#: never changes (a changed file becomes a new revision), so a parsed one stays right for as long
#: as the process lives; the hash keeps it right where an id is reused (a database emptied and
#: filled again, as in the tests). The wording is `AS_WRITTEN` for the file with every context's
#: wording, else ("context", code or None) for the instrument read in one context.
_INSTRUMENTS: OrderedDict[tuple[int, str, object], Instrument] = OrderedDict()
_INSTRUMENTS_KEPT = 32
_instruments_lock = threading.Lock()
AS_WRITTEN = "as written"


def instrument_of_version(version: QuestionnaireVersion) -> Instrument:
    """The version's instrument as written, every context's wording kept (``Text.variants``),
    parsed once per process (every respondent's page needs it: reading and parsing its
    definition cost more than the rest of the page's database work)."""
    return _kept(
        (version.id, version.content_sha256, AS_WRITTEN),
        lambda: Instrument.from_dict(version.definition),
    )


def instrument_in_context(version: QuestionnaireVersion, context: str | None) -> Instrument:
    """The version's instrument read in ``context`` (None: the default wording); KeyError
    when the version declares no such context."""
    return _kept(
        (version.id, version.content_sha256, ("context", context)),
        lambda: instrument_of_version(version).in_context(context),
    )


def _kept(key: tuple[int, str, object], build: Callable[[], Instrument]) -> Instrument:
    with _instruments_lock:
        instrument = _INSTRUMENTS.get(key)
        if instrument is not None:
            _INSTRUMENTS.move_to_end(key)
            return instrument
    instrument = build()
    with _instruments_lock:
        _INSTRUMENTS[key] = instrument
        while len(_INSTRUMENTS) > _INSTRUMENTS_KEPT:
            _INSTRUMENTS.popitem(last=False)
    return instrument


# Life domains: which items of the domain groups (``domains: true``) the organisation asks


@dataclass(frozen=True)
class DomainGroup:
    """A group of life domains in the newest version of a questionnaire."""

    questionnaire: Questionnaire
    version: QuestionnaireVersion
    group: Group


def life_domain_groups() -> list[DomainGroup]:
    """The domain groups of the most recently loaded version of each questionnaire."""
    newest = (
        sa.select(sa.func.max(QuestionnaireVersion.id))
        .group_by(QuestionnaireVersion.questionnaire_id)
        .scalar_subquery()
    )
    versions = db.session.scalars(
        sa.select(QuestionnaireVersion)
        .join(QuestionnaireVersion.questionnaire)
        .where(QuestionnaireVersion.id.in_(newest))
        .order_by(Questionnaire.key)
    )
    return [
        DomainGroup(version.questionnaire, version, group)
        for version in versions
        for group in instrument_of_version(version).groups()
        if group.domains
    ]


def domain_codes(groups: list[DomainGroup]) -> list[str]:
    """Every domain item code of ``groups``, once each, in questionnaire order."""
    return list(dict.fromkeys(item.code for each in groups for item in each.group.items))


class NoDomainLeft(ValueError):
    """A choice would leave a group of life domains without any domain."""

    def __init__(self, groups: list[DomainGroup]):
        super().__init__(", ".join(each.group.code for each in groups))
        self.groups = groups


def save_life_domains(chosen: Iterable[str], actor: Account) -> Settings:
    """Store which life domains are asked: None when every domain is (the default).

    Codes that are not domain items are ignored. Each domain group must keep at least one
    domain, else :class:`NoDomainLeft`. Audited by ``save_settings``.
    """
    groups = life_domain_groups()
    codes = domain_codes(groups)
    wanted = set(chosen) & set(codes)
    empty = [each for each in groups if not any(i.code in wanted for i in each.group.items)]
    if empty:
        raise NoDomainLeft(empty)
    value = None if wanted == set(codes) else [code for code in codes if code in wanted]
    return save_settings({"life_domains": value}, actor)


def instrument_of(wave: Wave) -> Instrument:
    """The instrument as the wave asks it: its version, in the wording of the context it chose
    (``Wave.context``), so that respondents, results, PDFs and codebooks all read the same
    words. Kept per version and context (``instrument_in_context``)."""
    return instrument_in_context(wave.questionnaire_version, wave.context)
