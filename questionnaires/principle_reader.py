"""The strengths model's own words in an instrument file: its principles and starting points,
each with the scales that serve it (the optional top-level keys `principles` and
`starting_points`, see FORMAT.md).

Read after the sections, so that every scale code a principle names can be checked against the
scales of the file; the principles' own codes join the file's one namespace of codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from yaml.nodes import Node

from questionnaires.model import Principle

if TYPE_CHECKING:
    from questionnaires.instrument_reader import InstrumentReader

#: The top-level keys, with how problems name one of their entries.
PRINCIPLE_KEYS = {"principles": "principle", "starting_points": "starting point"}


class PrincipleReader:
    """Reads the lists of principles and starting points with the file's `InstrumentReader`:
    its node reader collects the problems, its namespace holds the codes."""

    def __init__(self, owner: InstrumentReader):
        self.owner = owner
        self.reader = owner.reader

    def read_list(self, fields: Mapping[str, Node], key: str) -> tuple[Principle, ...]:
        """The entries under `key`; () when the key is absent or something is wrong."""
        nodes = self.reader.list_entries(fields, key)
        kind = PRINCIPLE_KEYS[key]
        read = [self._read_one(node, f"{key}[{i}]", kind) for i, node in enumerate(nodes)]
        return tuple(principle for principle in read if principle is not None)

    def _read_one(self, node: Node, path: str, kind: str) -> Principle | None:
        where = self.owner.name_of(node, path, kind)
        fields = self.reader.fields(
            node, where, required={"code", "title", "scales"}, optional={"description"}
        )
        if fields is None:
            return None
        code = self.owner.own_code(fields, kind, where)
        title = self.reader.optional_text(fields, "title", where)
        description = self.reader.optional_text(fields, "description", where)
        scales = self._scale_codes(fields["scales"], where, kind) if "scales" in fields else None
        if code is None or title is None or scales is None:
            return None
        return Principle(code=code, title=title, description=description, scales=scales)

    def _scale_codes(self, node: Node, where: str, kind: str) -> tuple[str, ...] | None:
        """The codes of the scales serving a principle: each a scale of this file, once."""
        nodes = self.reader.sequence(node, f"{where}, scales")
        if nodes is None:
            return None
        if not nodes:
            self.reader.report(node, where, f"a {kind} needs at least one scale")
        codes: list[str] = []
        for index, code_node in enumerate(nodes):
            code = self.reader.code(code_node, f"{where}, scales[{index}]")
            if code is None:
                continue
            if code in codes:
                self.reader.report(code_node, where, f"scale '{code}' is listed twice")
                continue
            carrier = self.owner.carrier_of(code)
            if carrier is None:
                self.reader.report(code_node, where, f"unknown scale '{code}': no scale has it")
            elif carrier[0] != "scale":
                self.reader.report(
                    code_node,
                    where,
                    f"'{code}' is not a scale but the {carrier[0]} on line {carrier[1]}: "
                    f"only scored scales can serve a {kind}",
                )
            codes.append(code)
        return tuple(codes)
