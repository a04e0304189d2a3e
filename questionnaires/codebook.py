"""The codebook: every module, scale, item code, wording, response code and reverse flag of one
or more instruments, the principles and starting points each scale serves, and what changed
since the previous version, generated from the files (never written by hand)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from questionnaires.item_types import DONT_KNOW_LABEL, ITEM_TYPES, LIKERT_TYPES
from questionnaires.model import Instrument, Item, Principle, Section

DONT_KNOW_CODE = "dk"

COLUMNS = (
    "instrument",
    "version",
    "module",
    "module_nl",
    "module_en",
    "scale",
    "scale_nl",
    "scale_en",
    "scored",
    "item",
    "type",
    "text_nl",
    "text_en",
    "response_codes",
    "reverse",
    "optional",
    "background",
    "principles",
    "starting_points",
    "context",
    "context_variants",
)


#: The columns of the changes table: one row per code a version added, removed, moved or replaced.
CHANGE_COLUMNS = (
    "instrument",
    "version",
    "since",
    "change",
    "code",
    "replaces",
    "reason_nl",
    "reason_en",
)


@dataclass(frozen=True)
class CodebookRow:
    instrument: str
    version: str
    module: str
    module_nl: str
    module_en: str
    scale: str
    scale_nl: str
    scale_en: str
    scored: bool
    item: str
    type: str
    text_nl: str
    text_en: str
    response_codes: str
    reverse: bool
    optional: bool
    background: bool
    #: The codes of the principles and starting points the item's scale serves ("P1, P3").
    principles: str = ""
    starting_points: str = ""
    #: The context whose wording text_nl and text_en hold (a wave's choice); "" = the default.
    context: str = ""
    #: The other wordings of the item's text, one per context ("jeugdhulp: nl / en; ...").
    context_variants: str = ""

    def values(self) -> tuple:
        return tuple(getattr(self, column) for column in COLUMNS)


def response_codes(item: Item) -> str:
    """The stored codes of an item and what they mean, in both languages."""
    if item.type == "grid":
        rows = ", ".join(row.code for row in item.rows)
        columns = ", ".join(column.code for column in item.columns)
        return f"one ticked cell per (row, column); rows: {rows}; columns: {columns}"
    if item.type == "text":
        return f"free text, at most {item.max_length} characters"
    codes = [
        f"{value} = {label['nl']} / {label['en']}" for value, label in item.item_type.choices(item)
    ]
    if item.dont_know:
        codes.append(
            f"{DONT_KNOW_CODE} = {DONT_KNOW_LABEL['nl']} / {DONT_KNOW_LABEL['en']} "
            "(stored apart, never a scale point)"
        )
    return "; ".join(codes)


def codebook_rows(instruments: Iterable[Instrument]) -> list[CodebookRow]:
    rows: list[CodebookRow] = []
    for instrument in instruments:
        for section in instrument.sections:
            rows.extend(_section_rows(instrument, section))
    return rows


def change_rows(instruments: Iterable[Instrument]) -> list[tuple]:
    """What each instrument changed since its previous version, one row per code (values in
    the order of `CHANGE_COLUMNS`); none for an instrument that records no changes."""
    return [
        (
            instrument.id,
            instrument.version,
            instrument.changes_from or "",
            change.kind,
            code,
            ", ".join(change.replaces),
            change.reason["nl"],
            change.reason["en"],
        )
        for instrument in instruments
        for change in instrument.changes
        for code in change.codes
    ]


def codebook_sheets(instruments: Iterable[Instrument]) -> list[tuple[str, tuple, list]]:
    """The codebook as workbook sheets: the items, and the changes when there are any."""
    instruments = list(instruments)
    sheets = [("codebook", COLUMNS, [row.values() for row in codebook_rows(instruments)])]
    changes = change_rows(instruments)
    if changes:
        sheets.append(("changes", CHANGE_COLUMNS, changes))
    return sheets


def _section_rows(instrument: Instrument, section: Section) -> list[CodebookRow]:
    sets = {item_set.code: (item_set, True) for item_set in section.scales}
    sets.update({item_set.code: (item_set, False) for item_set in section.groups})
    rows = []
    for item in section.all_items():
        item_set, scored = sets.get(item.scale or item.group or "", (None, False))
        rows.append(
            CodebookRow(
                instrument=instrument.id,
                version=instrument.version,
                module=section.code,
                module_nl=section.title["nl"],
                module_en=section.title["en"],
                scale=item_set.code if item_set else "",
                scale_nl=item_set.title["nl"] if item_set else "",
                scale_en=item_set.title["en"] if item_set else "",
                scored=scored,
                item=item.code,
                type=item.type,
                text_nl=item.text["nl"],
                text_en=item.text["en"],
                response_codes=response_codes(item),
                reverse=item.reverse,
                optional=item.optional,
                background=item.background,
                principles=_served(instrument.principles, item.scale),
                starting_points=_served(instrument.starting_points, item.scale),
                context=instrument.context or "",
                context_variants="; ".join(
                    f"{code}: {text['nl']} / {text['en']}"
                    for code, text in item.text.variants.items()
                ),
            )
        )
    return rows


def _served(principles: tuple[Principle, ...], scale: str | None) -> str:
    """The codes of the principles (or starting points) that `scale` serves, comma-separated."""
    return ", ".join(p.code for p in principles if scale is not None and scale in p.scales)


def _principle_tables(instrument: Instrument) -> list[str]:
    """The strengths model's own words: each principle and starting point with its scales."""
    if not (instrument.principles or instrument.starting_points):
        return []
    titles = {scale.code: scale.title for scale in instrument.scales()}
    lines = ["## Het krachtenmodel in eigen woorden / The strengths model's own words", ""]
    for heading, principles in (
        ("Principes / Principles", instrument.principles),
        ("Uitgangspunten / Starting points", instrument.starting_points),
    ):
        if not principles:
            continue
        lines += [f"### {heading}", "", "| code | Nederlands | English | scales |"]
        lines.append("| --- | --- | --- | --- |")
        for principle in principles:
            scales = ", ".join(
                f"{code} {titles[code]['nl']} / {titles[code]['en']}" for code in principle.scales
            )
            cells = [principle.code, principle.title["nl"], principle.title["en"], scales]
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        lines.append("")
    return lines


def _change_table(instrument: Instrument) -> list[str]:
    """What changed since the previous version: one line per change, with its codes."""
    if not instrument.changes:
        return []
    since = instrument.changes_from
    lines = [f"## Wat is er veranderd sinds {since} / What changed since {since}", ""]
    lines += [
        "| change | codes | replaces | Nederlands | English |",
        "| --- | --- | --- | --- | --- |",
    ]
    for change in instrument.changes:
        cells = [
            change.kind,
            ", ".join(change.codes),
            ", ".join(change.replaces),
            change.reason["nl"],
            change.reason["en"],
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    lines += [
        "",
        f"Elke code die hier niet staat, heeft sinds {since} dezelfde code en exact dezelfde "
        "formulering: de antwoorden zijn over beide versies te vergelijken. / "
        f"Every code not listed kept its code and exact wording since {since}: its answers "
        "compare across both versions.",
        "",
    ]
    return lines


def _context_lines(instrument: Instrument) -> list[str]:
    """Which wording the tables show, and the contexts the file can be asked in."""
    if not instrument.contexts:
        return []
    if instrument.context is not None:
        context = instrument.context_named(instrument.context)
        return [
            f"Formulering voor `{context.code}` ({context.title['nl']}) waar het bestand er een "
            f"geeft. / Wording of context `{context.code}` ({context.title['en']}) where the "
            "file gives one.",
            "",
        ]
    lines = [
        "Contexten, elk met een eigen formulering (rijen met ↳ onder de vraag). / "
        "Contexts, each with wording of its own (rows marked ↳ under the item):",
        "",
    ]
    for context in instrument.contexts:
        lines.append(f"- `{context.code}`: {context.title['nl']} / {context.title['en']}")
    return [*lines, ""]


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value).replace("|", "\\|").replace("\n", " ").strip()


def _answer_scales() -> list[str]:
    lines = ["# Answer scales", ""]
    for item_type in (ITEM_TYPES[name] for name in LIKERT_TYPES):
        points = "; ".join(
            f"{value} = {label['nl']} / {label['en']}"
            for value, label in enumerate(item_type.labels, 1)
        )
        lines.append(f"- `{item_type.name}`: {points}")
    lines += [
        f"- `{DONT_KNOW_CODE}`: {DONT_KNOW_LABEL['nl']} / {DONT_KNOW_LABEL['en']}, offered apart "
        "from the scale, stored as its own code and never counted as a scale point",
        "",
    ]
    return lines


def _short_codes(item: Item) -> str:
    if item.item_type.is_likert:
        return f"{item.type}" + (f" + {DONT_KNOW_CODE}" if item.dont_know else "")
    return response_codes(item)


def render_markdown(instruments: Iterable[Instrument]) -> str:
    """The codebook as Markdown: the answer scales, then per instrument one table per module."""
    lines = _answer_scales()
    for instrument in instruments:
        lines += [
            f"# {instrument.title['nl']} / {instrument.title['en']}",
            "",
            f"Instrument `{instrument.id}`, version {instrument.version}, "
            f"SHA-256 `{instrument.sha256[:16]}…`, {len(instrument.all_items())} items.",
            "",
            *_context_lines(instrument),
        ]
        for section in instrument.sections:
            lines += [f"## {section.code}. {section.title['nl']} / {section.title['en']}", ""]
            lines += [
                "| item | scale | Nederlands | English | answers | reverse |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            for row in _section_rows(instrument, section):
                item = instrument.item(row.item)
                cells = [row.item, row.scale, row.text_nl, row.text_en, _short_codes(item)]
                cells.append(row.reverse)
                lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
                for code, text in item.text.variants.items():
                    cells = ["", f"↳ {code}", text["nl"], text["en"], "", ""]
                    lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
            lines.append("")
        lines += _principle_tables(instrument)
        lines += _change_table(instrument)
    return "\n".join(lines)
