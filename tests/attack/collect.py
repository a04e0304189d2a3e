"""What a quality officer can collect about one ended wave, as plain facts.

``collect`` logs nothing in itself: it takes a test client already signed in as a quality
officer, switches to English (numbers with a decimal point, headers the parser knows), and
CRAWLS from the quality pages and the dashboard: every link and every GET form (each choice of
each select, e.g. ``?background=<code>``) whose target stays within the wave, every download
(CSV; ``.xlsx`` holds the same tables and PDFs print the same figures, so they are not parsed),
and every chart's JSON payload. A form that POSTs to a page under ``/quality/`` (a confirming
step before a download) is submitted too, once, with its CSRF token: an insider would.

What it gets is read into:

- ``rows``: the response-level export (unit label, item answers as given, kept background
  columns), its ``labels`` (label → the units whose rows carry it) and ``withheld`` count;
- ``figures``: every published aggregate of a group (team, department, organisation, a
  background answer): n, mean and its rounding, interval, SD, shares, % favourable, % "don't
  know", or that it is hidden;
- ``breakdowns``: scale means per answer to a background question;
- ``reliability``: the instrument-quality tables (n of complete rows, α, ω, item–rest, % don't
  know) and the number of answers the page says they are computed on.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from flask.testing import FlaskClient

from questionnaires import Instrument

#: A crawl never asks for more pages than this (the demo needs about 150).
MAX_PAGES = 400
#: Query parameters that only reorder a page (the same figures, sorted otherwise).
ORDER_ONLY = {"sort"}


@dataclass(frozen=True)
class ExportRow:
    label: str
    #: Item code → answer as given (1–5); an item without an answer is absent.
    values: dict[str, float]
    #: Background item code → option code (None: not answered), for the columns kept.
    background: dict[str, int | None]


@dataclass(frozen=True)
class Figure:
    source: str
    #: The group the figure describes: a unit's name (team, department, organisation).
    group: str
    #: A scale code or an item code.
    key: str
    kind: str  # "scale" or "item"
    n: int | None = None
    mean: float | None = None
    #: The rounding of ``mean``: None when it is given at full precision (chart data).
    decimals: int | None = None
    low: float | None = None
    high: float | None = None
    sd: float | None = None
    #: Share (%) of the answers 1..5 at full precision (scales: reverse-coded answers).
    shares: tuple[float, ...] | None = None
    pct_favourable: float | None = None
    pct_dont_know: float | None = None
    #: Rounding of the percentages (the pages show whole percents).
    pct_decimals: int = 0
    hidden: bool = False


@dataclass(frozen=True)
class BreakdownFact:
    source: str
    item: str
    #: Option code; None for "not answered".
    option: int | None
    scale: str
    n: int
    mean: float | None
    decimals: int = 2


@dataclass(frozen=True)
class ReliabilityFact:
    source: str
    scale: str
    complete: int | None
    alpha: float | None
    omega: float | None
    #: Item code → (item–rest correlation, % don't know).
    items: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    decimals: int = 3


@dataclass
class Collected:
    wave_id: int
    wave_name: str = ""
    k: int | None = None
    urls: list[str] = field(default_factory=list)
    rows: list[ExportRow] = field(default_factory=list)
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    withheld: int | None = None
    figures: list[Figure] = field(default_factory=list)
    breakdowns: list[BreakdownFact] = field(default_factory=list)
    reliability: dict[str, ReliabilityFact] = field(default_factory=dict)
    #: "On the N answers of this wave" on the instrument-quality page.
    answers_total: int | None = None
    posted: list[str] = field(default_factory=list)

    def url_kinds(self) -> list[str]:
        """The crawled URLs with numbers and slugs generalised, for a report."""
        kinds = {
            re.sub(r"=[^&]+", "=…", re.sub(r"/(\d+|[a-z0-9-]+-[a-z0-9-]+)(?=/|\.|\?|$)", "/…", u))
            for u in self.urls
        }
        return sorted(kinds)


# --- HTML -------------------------------------------------------------------------------------


@dataclass
class HtmlTable:
    caption: str = ""
    header: list[str] = field(default_factory=list)
    #: Per row: its cells' texts (th and td alike) and whether a cell is marked suppressed.
    rows: list[list[tuple[str, bool]]] = field(default_factory=list)


@dataclass
class HtmlForm:
    method: str
    action: str
    inputs: list[tuple[str, str]] = field(default_factory=list)
    #: Selects and radio groups alike: name → (value, chosen) per option.
    selects: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)


class PageParser(HTMLParser):
    """Links, forms, tables, the h1 and JSON data blocks of a page; nothing else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        #: href → the link's text (a CSV link names its table: "CSV: <title>").
        self.link_texts: dict[str, str] = {}
        self._link: tuple[str, list[str]] | None = None
        self.forms: list[HtmlForm] = []
        self.tables: list[HtmlTable] = []
        self.json_blocks: list[tuple[str, str]] = []
        self.h1 = ""
        self.text: list[str] = []
        self._stack: list[HtmlTable] = []
        self._cell: list[str] | None = None
        self._cell_suppressed = False
        self._in_head = False
        self._row: list[tuple[str, bool]] | None = None
        self._caption: list[str] | None = None
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self._option_text: list[str] = []
        self._script: tuple[str, list[str]] | None = None
        self._h1: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            self._link = (a["href"], [])
        elif tag == "form":
            self.forms.append(HtmlForm(a.get("method", "get").lower(), a.get("action", "")))
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") == "radio":
                choice = (a.get("value", ""), "checked" in a)
                self.forms[-1].selects.setdefault(a["name"], []).append(choice)
            elif a.get("type") != "checkbox" or "checked" in a:
                self.forms[-1].inputs.append((a["name"], a.get("value", "")))
        elif tag == "select" and self.forms and a.get("name"):
            self._select = a["name"]
            self.forms[-1].selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value"), "selected" in a)
            self._option_text = []
        elif tag == "script" and a.get("type") == "application/json":
            self._script = (a.get("data-chart-for", ""), [])
        elif tag == "h1":
            self._h1 = []
        elif tag == "table":
            self._stack.append(HtmlTable())
        elif tag == "caption" and self._stack:
            self._caption = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._stack:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._cell_suppressed = "suppressed" in a.get("class", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.link_texts[self._link[0]] = " ".join("".join(self._link[1]).split())
            self._link = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value, selected = self._option
            if value is None:
                value = "".join(self._option_text).strip()
            self.forms[-1].selects[self._select].append((value, selected))
            self._option = None
        elif tag == "script" and self._script is not None:
            self.json_blocks.append((self._script[0], "".join(self._script[1])))
            self._script = None
        elif tag == "h1" and self._h1 is not None:
            self.h1 = " ".join("".join(self._h1).split())
            self._h1 = None
        elif tag == "caption" and self._caption is not None and self._stack:
            self._stack[-1].caption = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append((" ".join("".join(self._cell).split()), self._cell_suppressed))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._stack:
            if self._in_head:
                self._stack[-1].header = [text for text, _ in self._row]
            else:
                self._stack[-1].rows.append(self._row)
            self._row = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for sink in (self._cell, self._caption, self._h1, self._link and self._link[1]):
            if sink is not None:
                sink.append(data)
        if self._option is not None:
            self._option_text.append(data)
        if self._script is not None:
            self._script[1].append(data)


# --- the crawl --------------------------------------------------------------------------------


class Insider:
    """A signed-in quality officer reading everything about one wave."""

    def __init__(self, client: FlaskClient, wave_id: int, instrument: Instrument) -> None:
        self.client = client
        self.instrument = instrument
        self.found = Collected(wave_id)
        #: CSV url → its table's title (``note_csv_titles``); trend page path → its unit.
        self.csv_titles: dict[str, str] = {}
        self.trend_units: dict[str, str] = {}
        self.item_codes = {item.code for item in instrument.all_items()}
        self.scale_codes = {scale.code for scale in instrument.scales()}
        self.item_texts = {
            item.text.in_language("en"): item.code for item in instrument.all_items() if item.text
        }
        self.background = {
            item.text.in_language("en"): item for item in instrument.all_items() if item.background
        }

    # Which URLs stay within the wave.
    def in_scope(self, url: str) -> bool:
        parts = urlsplit(url)
        path, wave = parts.path, str(self.found.wave_id)
        if parts.netloc and parts.netloc != "localhost":
            return False
        if path.endswith((".pdf", ".xlsx")) or "format=xlsx" in parts.query:
            return False
        if re.fullmatch(rf"/quality/waves/{wave}([/.].*)?", path):
            return True
        if path in ("/quality/", "/dashboard/") or path.startswith("/quality/units/"):
            return True
        if path.startswith("/dashboard/units/"):
            return True
        return bool(re.fullmatch(rf"/dashboard/waves/{wave}(/.*)?", path))

    @staticmethod
    def canonical(url: str) -> str:
        parts = urlsplit(url)
        query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True))
        query = [(k, v) for k, v in query if k not in ORDER_ONLY]
        return parts.path + (f"?{urlencode(query)}" if query else "")

    def crawl(self, start: list[str], max_pages: int = MAX_PAGES) -> Collected:
        self.client.get("/language/en")
        queue = deque(self.canonical(url) for url in start)
        seen = set(queue)
        posted: set[tuple] = set()
        #: Pages that refused (4xx): a confirming POST may open them, so they are asked again.
        refused: list[str] = []
        while queue and len(self.found.urls) < max_pages:
            url = queue.popleft()
            response = self.client.get(url)
            self.found.urls.append(url)
            targets: list[str] = []
            if response.status_code in (301, 302, 303, 307, 308):
                targets.append(urljoin(url, response.headers["Location"]))
            elif response.status_code >= 400:
                refused.append(url)
            elif response.status_code == 200:
                kind = response.mimetype
                body = response.get_data(as_text=True)
                if kind == "text/csv":
                    self.read_csv(url, body)
                elif kind == "text/html":
                    page = PageParser()
                    page.feed(body)
                    self.read_page(url, page)
                    targets += [urljoin(url, link) for link in page.links]
                    self.note_csv_titles(url, page)
                    for form in page.forms:
                        if form.method == "get":
                            targets += self.form_urls(url, form, self.own_page(url))
                        elif self.posts(url, form, posted):
                            queue.extend([*refused, url])
                            refused.clear()
            for target in targets:
                canonical = self.canonical(target.split("#")[0])
                if canonical not in seen and self.in_scope(canonical):
                    seen.add(canonical)
                    queue.append(canonical)
        return self.found

    def own_page(self, url: str) -> bool:
        """A page of this wave alone (not a unit's trend over every wave, whose forms only
        choose which two waves to compare: the wave's own figures are the same in each)."""
        return bool(re.match(rf"/(quality|dashboard)/waves/{self.found.wave_id}\b", url))

    def form_urls(self, page_url: str, form: HtmlForm, every_choice: bool = True) -> list[str]:
        """The form's target with its defaults, and with each choice of each select."""
        action = urljoin(page_url, form.action or page_url).split("#")[0]
        base = dict(form.inputs)
        for name, options in form.selects.items():
            chosen = [value for value, selected in options if selected] or [options[0][0]]
            base[name] = chosen[0] if options else ""
        variants = [base]
        for name, options in form.selects.items() if every_choice else ():
            variants += [{**base, name: value} for value, _ in options]
        joiner = "&" if "?" in action else "?"
        return [action + joiner + urlencode(variant) for variant in variants]

    def posts(self, page_url: str, form: HtmlForm, posted: set[tuple]) -> bool:
        """Submit a confirming form under /quality/ (the wave's own), once."""
        action = self.canonical(urljoin(page_url, form.action or page_url))
        if not action.startswith("/quality/") or not self.in_scope(action):
            return False
        data = dict(form.inputs)
        for name, options in form.selects.items():
            data[name] = next((v for v, selected in options if selected), options[0][0])
        key = (action, tuple(sorted((k, v) for k, v in data.items() if k != "csrf_token")))
        if key in posted:
            return False
        posted.add(key)
        response = self.client.post(action, data=data)
        self.found.posted.append(f"POST {action} → {response.status_code}")
        return True

    # --- reading pages ------------------------------------------------------------------------

    def read_page(self, url: str, page: PageParser) -> None:
        text = " ".join("".join(page.text).split())
        if self.found.k is None and (k := re.search(r"[Ff]ewer than (\d+) answers", text)):
            self.found.k = int(k.group(1))
        if re.fullmatch(rf"/quality/waves/{self.found.wave_id}", urlsplit(url).path):
            self.found.wave_name = page.h1.split("·", 1)[-1].strip()
        if total := re.search(r"On the (\d+) answers of this wave", text):
            self.found.answers_total = int(total.group(1))
        group = page.h1.split("·", 1)[0].strip()
        for table in page.tables:
            self.read_html_table(url, group, table)
        for chart_id, payload in page.json_blocks:
            self.read_chart(url, group, chart_id, json.loads(payload))

    def read_html_table(self, url: str, group: str, table: HtmlTable) -> None:
        header = table.header
        if len(header) < 3 or header[1] != "n" or header[2] != "Mean":
            return
        kind = "scale" if header[0] == "Scale" else "item" if header[0] == "Question" else ""
        if not kind:
            return
        column = {name: index for index, name in enumerate(header)}
        for cells in table.rows:
            key = self.key_of(cells[0][0], kind)
            if key is None:
                continue
            if len(cells) < 3 or cells[1][1]:
                self.found.figures.append(Figure(url, group, key, kind, hidden=True))
                continue
            values = [text for text, _ in cells]

            def number(name: str, values: list[str] = values) -> float | None:
                # A row may end in one cell spanning the rest (a sentence instead of figures).
                index = column.get(name)
                if index is None or index >= len(values):
                    return None
                return _number(values[index].rstrip("%"))

            self.found.figures.append(
                Figure(
                    url,
                    group,
                    key,
                    kind,
                    n=_int(values[1]),
                    mean=_number(values[2]),
                    decimals=_decimals(values[2]),
                    sd=number("Spread (SD)"),
                    pct_favourable=number("Often or agree (%)"),
                    pct_dont_know=number("Don't know (%)"),
                )
            )

    def key_of(self, text: str, kind: str) -> str | None:
        first = text.split(" ", 1)[0]
        if kind == "scale":
            return first if first in self.scale_codes else None
        if first in self.item_codes:
            return first
        return next(
            (code for words, code in self.item_texts.items() if text.startswith(words)), None
        )

    def read_chart(self, url: str, group: str, chart_id: str, figure: dict) -> None:
        """Chart payloads: answer shares per scale; means (with n) at full precision."""
        traces = figure.get("data", [])
        if chart_id.startswith("chart-answers-"):
            shares: dict[str, list[float]] = {}
            for trace in traces:
                value = int(trace["legendgroup"])
                for label, share in zip(trace["y"], trace["customdata"], strict=True):
                    shares.setdefault(label, [0.0] * 5)[value - 1] = float(share)
            for label, row in shares.items():
                if key := self.key_of(label, "scale"):
                    self.found.figures.append(Figure(url, group, key, "scale", shares=tuple(row)))
        elif chart_id.startswith(("chart-means-", "chart-group-")):
            for trace in traces[:1]:  # the first trace is the page's own group
                kind = "scale" if chart_id.startswith("chart-means-") else "item"
                for label, data in zip(trace["y"], trace["customdata"], strict=True):
                    key = self.key_of(label, kind)
                    if key is not None and data[0] is not None:
                        self.found.figures.append(
                            Figure(url, group, key, kind, n=data[1], mean=float(data[0]))
                        )
        elif chart_id in ("trend", "core"):
            for trace in traces:
                key = self.key_of(trace["name"], "scale" if chart_id == "trend" else "item")
                if key is None or self.found.wave_name not in trace["x"]:
                    continue
                index = trace["x"].index(self.found.wave_name)
                mean = trace["y"][index]
                if mean is None:
                    continue
                above, below = (
                    trace["error_y"]["array"][index],
                    trace["error_y"]["arrayminus"][index],
                )
                self.found.figures.append(
                    Figure(
                        url,
                        group,
                        key,
                        "scale" if chart_id == "trend" else "item",
                        mean=float(mean),
                        low=None if below is None else mean - below,
                        high=None if above is None else mean + above,
                    )
                )

    def note_csv_titles(self, url: str, page: PageParser) -> None:
        """A CSV holds one table without its title; the page's link to it names it."""
        for link, text in page.link_texts.items():
            if text.startswith("CSV: "):
                self.csv_titles[self.canonical(urljoin(url, link))] = text.removeprefix("CSV: ")

    def read_csv(self, url: str, text: str) -> None:
        header, *rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=","))
        title = self.csv_titles.get(url, "")
        path = urlsplit(url).path
        if header[:3] == ["row", "wave", "unit"]:
            self.read_export(header, rows)
        elif header[:1] == ["Unit in the export"]:
            self.found.labels = {row[0]: tuple(row[1].split("; ")) for row in rows}
        elif header == ["Note", "Value"]:
            for row in rows:
                if row[0].startswith("Responses withheld"):
                    self.found.withheld = _int(row[1])
        elif header[:1] == ["Scale"] and "α" in header:
            self.read_reliability(url, header, rows)
        elif header[:2] == ["Scale", "Question"]:
            self.read_item_reliability(url, rows)
        elif title in self.background:
            self.read_breakdown(url, self.background[title], header, rows)
        elif len(header) > 2 and header[1] == self.found.wave_name or "low" in header[:3]:
            self.trend_units[path] = title  # a trend's first table is titled by its unit
            self.read_trend(url, title, header, rows)
        else:
            self.read_cells(url, title, header, rows, self.trend_units.get(path, ""))

    def read_export(self, header: list[str], rows: list[list[str]]) -> None:
        background = {item.code for item in self.instrument.all_items() if item.background}
        for row in rows:
            values, kept = {}, {}
            for name, cell in zip(header[3:], row[3:], strict=False):
                if name in background:
                    kept[name] = None if cell == "" else int(float(cell))
                elif cell != "" and name in self.item_codes:
                    values[name] = float(cell)
            self.found.rows.append(ExportRow(row[2], values, kept))

    def read_reliability(self, url: str, header: list[str], rows: list[list[str]]) -> None:
        at = {name: index for index, name in enumerate(header)}
        for row in rows:
            code = row[0].split(" ", 1)[0]
            self.found.reliability[code] = ReliabilityFact(
                url, code, _int(row[at["n"]]), _number(row[at["α"]]), _number(row[at["ω"]])
            )

    def read_item_reliability(self, url: str, rows: list[list[str]]) -> None:
        for row in rows:
            fact = self.found.reliability.get(row[0])
            if fact is not None:
                fact.items[row[1]] = (_number(row[2]), _number(row[3]))

    def read_breakdown(self, url: str, item, header: list[str], rows: list[list[str]]) -> None:
        labels = {option.label.in_language("en"): option.code for option in item.options}
        labels["not answered"] = None
        for row in rows:
            scale = row[0].split(" ", 1)[0]
            for index in range(1, len(header) - 1, 2):
                mean, n = row[index], row[index + 1]
                if _number(mean) is None and mean != "":
                    break  # the scale is hidden: every cell carries the marker
                option = labels[header[index]]
                self.found.breakdowns.append(
                    BreakdownFact(url, item.code, option, scale, _int(n) or 0, _number(mean))
                )

    def read_trend(self, url: str, unit: str, header: list[str], rows: list[list[str]]) -> None:
        wave = self.found.wave_name
        if wave not in header:
            return
        at = header.index(wave)
        for row in rows:
            key = self.key_of(row[0], "scale")
            if key is None:
                continue
            mean = _number(row[at])
            self.found.figures.append(
                Figure(
                    url,
                    unit,
                    key,
                    "scale",
                    n=_int(row[at + 3]),
                    mean=mean,
                    decimals=2 if mean is not None else None,
                    low=_number(row[at + 1]),
                    high=_number(row[at + 2]),
                    hidden=mean is None and row[at] != "",
                )
            )

    def read_cells(self, url: str, title: str, header: list[str], rows, unit: str) -> None:
        """A table of (mean, n) pairs: columns are units, or waves in a trend's second table."""
        corner = 2 if header[:2] == ["Unit", "Level"] else 1
        pairs = [
            (index, header[index])
            for index in range(corner, len(header) - 1)
            if header[index + 1] == f"n {header[index]}"
        ]
        for row in rows:
            for index, name in pairs:
                if corner == 2:
                    group, key = row[0], self.key_of(name, "scale")
                elif name == self.found.wave_name and unit:
                    group, key = unit, self.key_of(row[0], "item")
                elif name != self.found.wave_name and unit:
                    continue
                else:
                    group, key = name, self.key_of(row[0], "scale") or self.key_of(row[0], "item")
                if key is None:
                    continue
                mean, n = row[index], row[index + 1]
                kind = "scale" if key in self.scale_codes else "item"
                self.found.figures.append(
                    Figure(
                        url,
                        group,
                        key,
                        kind,
                        n=_int(n),
                        mean=_number(mean),
                        decimals=2 if _number(mean) is not None else None,
                        hidden=_number(mean) is None and mean != "",
                    )
                )


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".").replace("−", "-"))
    except (ValueError, AttributeError):
        return None
    return None if math.isnan(value) else value


def _int(text: str) -> int | None:
    value = _number(text)
    return int(value) if value is not None else None


def _decimals(text: str) -> int | None:
    text = text.replace(",", ".")
    return len(text.split(".", 1)[1]) if "." in text else 0


def collect(client: FlaskClient, wave_id: int, instrument: Instrument) -> Collected:
    """Everything the signed-in quality officer can see and download about ``wave_id``."""
    insider = Insider(client, wave_id, instrument)
    return insider.crawl(["/quality/", f"/quality/waves/{wave_id}", "/dashboard/"])
