"""The contexts an instrument can be asked in, each with wording of its own (the optional
top-level key `contexts`, see FORMAT.md): e.g. `jeugdhulp`, where "cliënt" becomes "jongere en
ouders" in the texts that say so.

Read before every other text of the file, so that the node reader knows which keys of a text
name a context; after the whole file, a declared context that no text rewords is reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from yaml.nodes import Node

from questionnaires.model import Context
from questionnaires.node_reader import NodeReader
from questionnaires.text import KNOWN_LANGUAGES

CONTEXT_CODE_PATTERN = re.compile(r"[a-z][a-z0-9_-]{1,31}")


class ContextReader:
    """Reads the declared contexts with the file's node reader and tells it their codes."""

    def __init__(self, reader: NodeReader):
        self.reader = reader
        #: code -> the node of its code, for the check that each is used
        self._declared: dict[str, Node] = {}

    def read(self, fields: Mapping[str, Node]) -> tuple[Context, ...]:
        """The contexts under `contexts`; () when the key is absent or something is wrong."""
        nodes = self.reader.list_entries(fields, "contexts")
        read = [self._read_one(node, f"contexts[{i}]") for i, node in enumerate(nodes)]
        self.reader.contexts = frozenset(self._declared)
        return tuple(context for context in read if context is not None)

    def _read_one(self, node: Node, where: str) -> Context | None:
        fields = self.reader.fields(
            node, where, required={"code", "title"}, optional={"description"}
        )
        if fields is None:
            return None
        code = self._code(fields, where)
        if code is not None:
            where = f"context {code}"
        title = self.reader.optional_text(fields, "title", where)
        description = self.reader.optional_text(fields, "description", where)
        if code is None or title is None:
            return None
        return Context(code=code, title=title, description=description)

    def _code(self, fields: Mapping[str, Node], where: str) -> str | None:
        if "code" not in fields:
            return None
        node = fields["code"]
        code = self.reader.identifier(node, f"{where}, code")
        if code is None:
            return None
        if not CONTEXT_CODE_PATTERN.fullmatch(code):
            self.reader.report(
                node,
                where,
                f"bad context code '{code}': 2 to 32 lowercase letters, digits, '_' or '-', "
                "starting with a letter",
            )
            return None
        if code in KNOWN_LANGUAGES:
            self.reader.report(
                node, where, f"'{code}' is a language: a context needs a code of its own"
            )
            return None
        if code in self._declared:
            self.reader.report(node, where, f"context '{code}' is declared twice")
            return None
        self._declared[code] = node
        return code

    def check_used(self) -> None:
        """Report each declared context that no text of the file gives wording for."""
        for code, node in self._declared.items():
            if code not in self.reader.used_contexts:
                self.reader.report(
                    node,
                    f"context {code}",
                    f"no text gives wording for context '{code}': add it to the texts it "
                    "changes, or leave the context out",
                )
