"""What changed since the previous version, in an instrument file (the optional top-level key
`changes`, see FORMAT.md): the codes added, removed, moved or replaced, each with a reason.

Read after the sections and principles, so that every code can be checked against the file:
a code a version adds, moves or replaces must be one of its codes, and a code it removes or
replaces must no longer be one (a code never comes back with a new meaning).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from yaml.nodes import Node

from questionnaires.model import CHANGE_KINDS, Change
from questionnaires.problems import line_of

if TYPE_CHECKING:
    from questionnaires.instrument_reader import InstrumentReader


class ChangeReader:
    """Reads `changes` with the file's `InstrumentReader`: its node reader collects the
    problems, its namespace knows the file's codes."""

    def __init__(self, owner: InstrumentReader):
        self.owner = owner
        self.reader = owner.reader
        self._listed: dict[str, int] = {}

    def read(self, fields: Mapping[str, Node]) -> tuple[str | None, tuple[Change, ...]]:
        """The previous version and the changes; (None, ()) when the key is absent or wrong."""
        if "changes" not in fields:
            return None, ()
        where = "changes"
        block = self.reader.fields(fields["changes"], where, required={"from", "entries"})
        if block is None or "entries" not in block or "from" not in block:
            return None, ()
        previous = self.reader.identifier(block["from"], f"{where}, from")
        nodes = self.reader.sequence(block["entries"], f"{where}, entries")
        if not nodes:
            if nodes is not None:
                self.reader.report(block["entries"], where, "'entries' needs at least one entry")
            return previous, ()
        read = [self._read_one(node, f"{where}, entries[{i}]") for i, node in enumerate(nodes)]
        return previous, tuple(change for change in read if change is not None)

    def _read_one(self, node: Node, where: str) -> Change | None:
        fields = self.reader.fields(
            node, where, required={"codes", "change", "reason"}, optional={"replaces"}
        )
        if fields is None:
            return None
        kind = self._kind(fields, where)
        reason = self.reader.optional_text(fields, "reason", where)
        codes = self._codes(fields.get("codes"), f"{where}, codes", in_file=kind != "removed")
        replaces: tuple[str, ...] | None = ()
        if "replaces" in fields:
            if kind != "replaced":
                self.reader.report(
                    fields["replaces"], where, "'replaces' belongs only to change: replaced"
                )
            replaces = self._codes(fields["replaces"], f"{where}, replaces", in_file=False)
        elif kind == "replaced":
            self.reader.report(node, where, "change: replaced needs 'replaces' (the old codes)")
        if kind is None or reason is None or codes is None or replaces is None:
            return None
        return Change(kind=kind, codes=codes, reason=reason, replaces=replaces)

    def _kind(self, fields: Mapping[str, Node], where: str) -> str | None:
        if "change" not in fields:
            return None
        kind = self.reader.string(fields["change"], f"{where}, change")
        if kind is not None and kind not in CHANGE_KINDS:
            self.reader.report(
                fields["change"],
                where,
                f"unknown change '{kind}': use one of {', '.join(CHANGE_KINDS)}",
            )
            return None
        return kind

    def _codes(self, node: Node | None, where: str, in_file: bool) -> tuple[str, ...] | None:
        """The codes of a list: each in this file (`in_file`) or each no longer in it."""
        if node is None:
            return None
        nodes = self.reader.sequence(node, where)
        if nodes is None:
            return None
        if not nodes:
            self.reader.report(node, where, "needs at least one code")
            return None
        codes = []
        for index, code_node in enumerate(nodes):
            code = self.reader.code(code_node, f"{where}[{index}]")
            if code is None:
                continue
            known = self.owner.carrier_of(code) is not None
            if in_file and not known:
                self.reader.report(code_node, where, f"'{code}' is not a code of this file")
            elif not in_file and known:
                self.reader.report(
                    code_node,
                    where,
                    f"'{code}' is still a code of this file: a removed or replaced code is "
                    "never given to another question",
                )
            elif in_file and code in self._listed:
                self.reader.report(
                    code_node,
                    where,
                    f"'{code}' is listed twice (first on line {self._listed[code]})",
                )
            if in_file:
                self._listed.setdefault(code, line_of(code_node))
            codes.append(code)
        return tuple(codes)
