"""The language of every screen: Flemish Dutch as the house writes it, natural English, and
figures written for people (a true minus, "67 %" in Dutch, a decimal comma in Dutch and a point
in English). See issue 17 and "Translations" in the README.

The Dutch rules read every translation of the Dutch catalogue and the literal text of every
template; the English rules read the English catalogue (its msgid where the msgstr is empty, as
Flask-Babel shows it). Each rule names a mistake precisely enough that a correct Dutch or English
sentence never trips it; what a rule deliberately lets through is said next to it."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale
from jinja2 import Environment

from reports.rounding import MINUS_SIGN, NO_BREAK_SPACE, formatted, formatted_percent
from tests.conftest import login

ROOT = Path(__file__).parents[1]
TRANSLATIONS = ROOT / "survey" / "translations"
TEMPLATES = ROOT / "survey" / "templates"


def catalogue(lang: str) -> list[tuple[str, str]]:
    """(msgid, text shown) for every live entry of a catalogue (obsolete ``#~`` ones are not
    shown to anyone); a plural entry gives one pair per form."""
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as file:
        messages = read_po(file)
    pairs = []
    for message in messages:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for index, text in enumerate(texts):
            msgid = ids[min(index, len(ids) - 1)]
            pairs.append((msgid, (text or msgid).replace("%%", "%")))
    return pairs


def template_texts() -> list[tuple[str, str]]:
    """(template, literal text) for the text of every template outside ``{{ }}``/``{% %}``."""
    lexer = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)  # only lexed
    texts = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        data = "".join(value for _, kind, value in lexer.lex(source) if kind == "data")
        text = html.unescape(re.sub(r"<[^>]*>", " ", data))
        texts.append((str(path.relative_to(ROOT)), text))
    return texts


DUTCH = [text for _, text in catalogue("nl")]
ENGLISH = [text for _, text in catalogue("en")]

#: Anglicisms and Dutch mistakes, each with the house's word for it.
DUTCH_MISTAKES = {
    # "je kunt" / "kun je" everywhere. "kan je" stays allowed where "je" is the object ("je
    # leidinggevende kan je hem bezorgen"), so only the subject form "je kan" is caught.
    r"\b[Jj]e kan\b": "je kunt",
    r"\b(?:op(?:ge)?laden|oplaadt?)\b": "uploaden",
    r"\bveilig gemaakt\b": "anoniem, onherkenbaar gemaakt",
    r"\b[Dd]eze browser\b": "Op dit toestel",
    r"\b[Ff]idelity": "plain Dutch (getrouwheid, zelfevaluatie)",
    # the participation rate is "deelname"; "respons" is jargon toward staff
    r"\b[Rr]espons\b": "deelname",
    r"\bhet team is het eens\b": "say what the answers show",
    r"\b[Vv]aak of eens\b": "Vaak of akkoord",
    # simple past where Flemish uses the perfect (the forms listed in issue 17, and the ones
    # this catalogue had); "gebruikte" and "sloot" are left out: also an adjective and a noun
    r"\b(?:pauzeerde|noteerde|vulden?|schreef|schreven|antwoordden?)\b": "the perfect tense",
    r"\b(?:beantwoordden?|verstuurde|kopieerde|aanvinkte|stopte)\b": "perfect tense",
    # a hyphen-minus in front of a number that people read ("-0,3"); a range or a date has a
    # letter or digit before the hyphen and is not caught
    r"(?<![\w/.-])-\d": "a true minus sign (U+2212) or an en dash",
    # a percent sign straight after a number or a placeholder: "67 %" with a no-break space;
    # a compound such as "95%-interval" is written solid, as Taaladvies allows
    r"(?:\d|%\(\w+\)[ds])%(?!-)": "a no-break space before %",
    r"\d %|%\(\w+\)[ds] %": "a no-break space (U+00A0) before %, not a plain space",
}

#: Dutch words that do not occur in English sentences; found in English, a translation is
#: missing. Proper names (Krachtspiegel) and the Dutch words the English text quotes on purpose
#: are not in the list.
DUTCH_WORDS = (
    r"\b(?:het|een|niet|jij|bevragingen?|medewerkers?|deelname|toestel|vragenlijst|antwoorden"
    r"|wordt|worden|zijn|kunt)\b"
)

ENGLISH_MISTAKES = {
    DUTCH_WORDS: "an English translation",
    r"(?<![\w/.-])-\d": "a true minus sign (U+2212)",
    # English writes "67%": no space, and no Dutch no-break space
    rf"(?:\d|%\(\w+\)[ds])[ {NO_BREAK_SPACE}]%": "67% in English",
    r"\d,\d(?!\d\d)": "a decimal point in English",
    r"\b(?:[Yy]ou can't|[Pp]lease please)\b": "one form",
}

#: Shared by both languages: doubled spaces, a space before a full stop, comma or colon.
TYPOGRAPHY = {r"\S  +\S": "one space", r"\w [.,:;](?!\w)": "no space before punctuation"}


def offences(texts: list[str], rules: dict[str, str]) -> list[str]:
    found = []
    for text in texts:
        for pattern, fix in rules.items():
            for match in re.finditer(pattern, text):
                found.append(f"{match.group(0)!r} → {fix}: {text[:120]!r}")
    return found


def test_the_dutch_catalogue_has_none_of_the_listed_mistakes():
    assert offences(DUTCH, DUTCH_MISTAKES | TYPOGRAPHY) == []


def test_dutch_uses_je_kunt_and_never_mixes_it_with_je_kan():
    kunt = sum(len(re.findall(r"\b[Jj]e kunt\b|\b[Kk]un je\b", text)) for text in DUTCH)
    kan = sum(len(re.findall(r"\b[Jj]e kan\b", text)) for text in DUTCH)
    assert kunt > 0 and kan == 0, f"{kan} × 'je kan' next to {kunt} × 'je kunt'"


def test_the_literal_text_of_every_template_has_none_of_the_dutch_mistakes():
    # typography and numbers are left out here: a template's data is markup and CSS too
    words_only = {k: v for k, v in DUTCH_MISTAKES.items() if not k.startswith(("(?", r"\d"))}
    found = [
        f"{name}: {offence}"
        for name, text in template_texts()
        for offence in offences([text], words_only)
    ]
    assert found == []


def test_the_english_catalogue_is_english_and_typographically_clean():
    # allowed: the Dutch column names that the import help quotes as "(Dutch: pad, naam, ...)"
    english = [re.sub(r"\(Dutch: [^)]*\)", "(Dutch)", text) for text in ENGLISH]
    assert offences(english, ENGLISH_MISTAKES | TYPOGRAPHY) == []


def test_every_dutch_entry_is_translated_and_keeps_the_placeholders():
    for msgid, text in catalogue("nl"):
        assert text, msgid
        assert set(re.findall(r"%\(\w+\)[ds]", msgid.replace("%%", "%"))) == set(
            re.findall(r"%\(\w+\)[ds]", text)
        ), msgid


def button_labels() -> set[str]:
    """The msgid of every button label in the templates: a ``<button>`` or a link that looks
    like one (``<a class="button ...">``), labelled ``{{ _("...") }}``."""
    pattern = re.compile(
        r'<(?:button|a [^>]*class="button[^"]*")[^>]*>\s*\{\{ ?_\("((?:[^"\\]|\\.)+)"'
    )
    return {
        label.replace("%%", "%")
        for path in TEMPLATES.rglob("*.html")
        for label in pattern.findall(path.read_text(encoding="utf-8"))
    }


#: Buttons that are not a verb: a step back or forward, what a "new" link makes, the chart
#: toggle that names what it opens, and the "no" of a question the page asks ("Nee, terug").
NOT_A_VERB = re.compile(r"^(?:Volgende|Vorige|Nieuwe \w+|Interactieve grafiek|Nee, terug)$")
#: How a Dutch infinitive ends: bewaren, verdergaan, doen, zien.
INFINITIVE = ("en", "aan", "oen", "ien")
#: The imperatives a button started with before the pass ("Bewaar de instellingen" ends on
#: "-en" too, so the first word is checked as well).
IMPERATIVES = {
    "Bewaar", "Toon", "Kopieer", "Wis", "Maak", "Stel", "Deactiveer", "Activeer", "Sla", "Open",
    "Sluit", "Verleng", "Kies", "Upload", "Importeer", "Verwijder", "Verstuur", "Begin", "Ga",
    "Probeer", "Meld", "Voeg", "Leg", "Zet", "Druk", "Bevestig", "Annuleer", "Download",
}  # fmt: skip


def test_every_dutch_button_uses_the_infinitive_as_the_house_does():
    shown = dict(catalogue("nl"))
    labels = button_labels()
    assert len(labels) > 40 and {"Save the settings", "Invite someone"} <= labels
    for msgid in labels:
        label = re.sub(r"\s*\(.*\)$", "", shown[msgid])  # "Opnieuw beginnen (...)"
        first, *_, last = label.split() if " " in label else (label, label)
        infinitive = first.lower().endswith(INFINITIVE) or last.endswith(INFINITIVE)
        assert NOT_A_VERB.match(label) or infinitive, (msgid, shown[msgid])
        assert first not in IMPERATIVES, (msgid, shown[msgid])


# Figures for people ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "dutch", "english"),
    [
        (-0.26, 1, f"{MINUS_SIGN}0,3", f"{MINUS_SIGN}0.3"),
        (-0.04, 1, "0,0", "0.0"),  # rounds to zero: no sign, never "−0,0"
        (-0.0, 1, "0,0", "0.0"),
        (3.45, 1, "3,5", "3.5"),
        (-0.125, 2, f"{MINUS_SIGN}0,13", f"{MINUS_SIGN}0.13"),
        (0.704, 2, "0,70", "0.70"),
    ],
)
def test_a_figure_has_a_true_minus_no_negative_zero_and_the_language_s_decimal_mark(
    app, value, digits, dutch, english
):
    for lang, expected in (("nl", dutch), ("en", english)):
        with app.test_request_context(), force_locale(lang):
            shown = render_template_string("{{ v|figure(d, lang) }}", v=value, d=digits, lang=lang)
        assert shown == expected


def test_data_files_keep_the_hyphen_minus():
    # CSV and XLSX are read by programs: formatted() without minus_sign is a plain number
    assert formatted(-0.26) == "-0.3" and float(formatted(-0.26)) == -0.3


def test_a_change_has_its_sign_and_a_rounded_zero_has_none(app):
    cases = {0.26: "+0,3", -0.26: f"{MINUS_SIGN}0,3", 0.04: "0,0", -0.04: "0,0"}
    for value, expected in cases.items():
        with app.test_request_context(), force_locale("nl"):
            assert render_template_string("{{ v|signed_figure(1, 'nl') }}", v=value) == expected


def test_a_percentage_has_a_no_break_space_in_dutch_and_none_in_english(app):
    assert formatted_percent(66.5, dutch=True) == f"67{NO_BREAK_SPACE}%"
    assert formatted_percent(66.5, dutch=False) == "67%"
    assert formatted_percent(-0.2, dutch=True) == f"0{NO_BREAK_SPACE}%"
    with app.test_request_context(), force_locale("nl"):
        assert render_template_string("{{ 12.5|percent('nl') }}") == f"13{NO_BREAK_SPACE}%"


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


def test_the_demo_s_result_pages_print_figures_for_people(demo, client):
    """Trends, the instrument's quality and a team that fell clearly: pages with changes,
    effect sizes and correlations below zero, in Dutch and in English."""
    from tests.test_quality import latest
    from tests.test_team_pages import DEMO_PASSWORD

    login(client, "kwaliteit@huisvankracht.example", DEMO_PASSWORD)
    wave = latest()
    urls = [
        f"/quality/waves/{wave.id}?view=change",
        f"/quality/waves/{wave.id}/instrument",
        "/quality/units/team-anker",
        f"/dashboard/waves/{wave.id}/teams/team-anker",
    ]
    minus_signs = 0
    for lang in ("nl", "en"):
        client.get(f"/language/{lang}")
        for url in urls:
            reply = client.get(url)
            assert reply.status_code == 200, url
            page = reply.get_data(as_text=True)
            text = visible_text(page)
            minus_signs += text.count(MINUS_SIGN)
            if lang == "nl" and "/teams/" in url:  # a statistic: a plain label, explained
                assert '<abbr title="Het aandeel collega&#39;s dat 4 of 5' in page
                assert "Vaak of akkoord" in text and "respons" not in text
            assert not re.search(r"(?<![\w/.:-])-\d", text), (lang, url)  # a true minus
            assert f"{MINUS_SIGN}0,0" not in text and f"{MINUS_SIGN}0.0" not in text
            if lang == "nl":
                assert not re.search(r"\d%(?!-)", text), url  # "67 %"; "95%-interval" is solid
                assert not re.search(r"\b\d\.\d\b(?!\.)", text), url  # a decimal comma
            else:
                assert not re.search(rf"\d{NO_BREAK_SPACE}%", text), url
                assert not re.search(r"\b[0-5],\d\b", text), url  # a decimal point
    assert minus_signs  # Team Anker fell clearly: the pages do print negative figures


def test_charts_write_a_percentage_as_the_tables_do():
    from reports.figures import share_heatmap

    dutch = share_heatmap(["a"], ["b"], [[50.0]], decimal_comma=True)["data"][0]
    english = share_heatmap(["a"], ["b"], [[50.0]], decimal_comma=False)["data"][0]
    assert dutch["texttemplate"] == f"%{{z:.0f}}{NO_BREAK_SPACE}%"
    assert english["texttemplate"] == "%{z:.0f}%"
    assert dutch["colorbar"]["ticksuffix"] == f"{NO_BREAK_SPACE}%"
