"""Questionnaires and their immutable versions, as loaded from the instrument files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, now_utc


class Questionnaire(Base):
    """An instrument, e.g. ``krachtspiegel-team``; its content lives in its versions."""

    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The instrument id from the file.
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The title in every language, from the newest version loaded.
    title: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire",
        order_by="(QuestionnaireVersion.version, QuestionnaireVersion.revision)",
    )


class QuestionnaireVersion(Base):
    """One loaded file, never changed once stored.

    A file that changes while keeping its declared version becomes a new *revision*, as long as
    no response was given to that version; after that the loader refuses the change.
    """

    __tablename__ = "questionnaire_versions"
    __table_args__ = (
        sa.UniqueConstraint("questionnaire_id", "version", "revision"),
        sa.UniqueConstraint("questionnaire_id", "content_sha256"),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaires.id", ondelete="RESTRICT")
    )
    #: The version the file declares.
    version: Mapped[str] = mapped_column(sa.String(32))
    revision: Mapped[int] = mapped_column(default=1)
    #: The file name it was loaded from, for people; identity is the content hash.
    filename: Mapped[str] = mapped_column(sa.String(255))
    #: The file as loaded. Deferred, like ``definition``: loaded only when used, since every
    #: respondent's page loads its wave's version (``services.questionnaires.instrument_of_version``
    #: keeps the parsed instrument per version and hash).
    content: Mapped[str] = mapped_column(sa.Text, deferred=True)
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: The validated instrument (``questionnaires.Instrument.to_dict()``).
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON, deferred=True)
    loaded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")
    scales: Mapped[list[StoredScale]] = relationship(
        back_populates="version", order_by="StoredScale.position", cascade="all, delete-orphan"
    )
    items: Mapped[list[StoredItem]] = relationship(
        back_populates="version", order_by="StoredItem.position", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        suffix = f".{self.revision}" if self.revision > 1 else ""
        return f"{self.questionnaire.key} {self.version}{suffix}"


class StoredScale(Base):
    """A scored scale (the mean of its items) or an unscored group of items."""

    __tablename__ = "scales"
    __table_args__ = (sa.UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire_versions.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(sa.String(32))
    section_code: Mapped[str] = mapped_column(sa.String(32))
    #: False for a group whose items are reported one by one (e.g. the six strength sources).
    scored: Mapped[bool]
    title: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    position: Mapped[int]

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="scales")
    items: Mapped[list[StoredItem]] = relationship(
        back_populates="scale", order_by="StoredItem.position"
    )


class StoredItem(Base):
    """One question, identified across versions by its stable code (e.g. ``A3.2``)."""

    __tablename__ = "items"
    __table_args__ = (sa.UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire_versions.id", ondelete="CASCADE")
    )
    scale_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scales.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(32))
    section_code: Mapped[str] = mapped_column(sa.String(32))
    #: A name from the item type registry (``questionnaires.ITEM_TYPES``).
    item_type: Mapped[str] = mapped_column(sa.String(32))
    text: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    reverse: Mapped[bool] = mapped_column(default=False)
    dont_know: Mapped[bool] = mapped_column(default=False)
    background: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int]

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="items")
    scale: Mapped[StoredScale | None] = relationship(back_populates="items")
