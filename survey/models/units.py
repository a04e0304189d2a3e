"""The organisation's unit tree: organisation → departments → teams, any depth."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, str_enum


class UnitKind(enum.StrEnum):
    ORGANISATION = "organisation"
    DEPARTMENT = "department"
    TEAM = "team"


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'organisation') = (parent_id IS NULL)", name="only_organisations_are_roots"
        ),
        sa.CheckConstraint("slug <> ''", name="slug_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None only for an organisation, the root of a tree.
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind, "kind"))
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Stable, human-readable identifier used in URLs, CSV imports and the CLI; never reused.
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    #: An archived unit takes part in no new wave but keeps its history.
    archived_on: Mapped[date | None]
    #: A team's usual number of staff: the expected number of responses of a new wave.
    staff: Mapped[int | None]
    #: Set on the root of a demo organisation: everything in its tree is made up.
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name")

    def __repr__(self) -> str:
        return f"<Unit {self.slug} ({self.kind})>"

    @property
    def is_team(self) -> bool:
        return self.kind is UnitKind.TEAM

    def ancestors(self) -> list[Unit]:
        """From the organisation down to this unit's parent."""
        chain: list[Unit] = []
        unit = self.parent
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return list(reversed(chain))
