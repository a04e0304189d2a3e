"""Context variants in an instrument file: a declared context (e.g. `jeugdhulp`) gives its own
wording to the texts that say so, and `Instrument.in_context` reads the instrument in it."""

from pathlib import Path

import pytest

from questionnaires import Context, Instrument, QuestionnaireError, Text, load_file, load_text

FILES = Path(__file__).parent / "files"
CONTEXTS_YAML = FILES / "contexts.yaml"
CONTEXTS_TOML = FILES / "contexts.toml"
YOUTH_A11 = Text(
    nl="Wij vragen jongeren en hun ouders wat er goed gaat in hun leven.",
    en="We ask young people and their parents what is going well in their lives.",
)
DEFAULT_A11 = Text(
    nl="Wij vragen cliënten wat er goed gaat in hun leven.",
    en="We ask clients what is going well in their lives.",
)


def yaml_text(old: str = "", new: str = "") -> str:
    text = CONTEXTS_YAML.read_text(encoding="utf-8")
    if old:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def toml_text(old: str, new: str) -> str:
    text = CONTEXTS_TOML.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, marker: str) -> int:
    return text[: text.index(marker)].count("\n") + 1


def problems(text: str, filename: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(QuestionnaireError) as raised:
        load_text(text, filename)
    return [(p.line, p.where, p.message) for p in raised.value.problems]


# Reading


def test_the_declared_contexts_are_read_with_their_titles():
    instrument = load_file(CONTEXTS_YAML)
    assert instrument.contexts == (
        Context(
            code="jeugdhulp",
            title=Text(nl="Jeugdhulp", en="Youth care"),
            description=Text(
                nl="cliënt wordt jongere en ouders/opvoedingsverantwoordelijken",
                en="client becomes young person and parents/carers",
            ),
        ),
    )
    assert instrument.context is None


def test_a_text_holds_its_languages_and_each_contexts_wording_apart():
    text = load_file(CONTEXTS_YAML).item("A1.1").text
    assert dict(text) == dict(DEFAULT_A11)
    assert list(text) == ["nl", "en"]
    assert text.variants == {"jeugdhulp": YOUTH_A11}
    assert text == {**DEFAULT_A11, "jeugdhulp": dict(YOUTH_A11)}
    assert text != DEFAULT_A11


def test_the_file_without_contexts_has_none():
    instrument = load_file(FILES / "mini.yaml")
    assert instrument.contexts == ()
    assert instrument.in_context(None) is instrument


@pytest.mark.parametrize("path", [CONTEXTS_YAML, CONTEXTS_TOML], ids=["yaml", "toml"])
def test_in_context_rewords_the_texts_the_file_says_and_keeps_the_rest(path):
    instrument = load_file(path)
    youth = instrument.in_context("jeugdhulp")
    assert youth.context == "jeugdhulp"
    assert youth.item("A1.1").text == YOUTH_A11
    assert youth.item("A1.1").text.variants == {}
    assert youth.scales()[0].reflect == Text(
        nl="Hoe vragen wij jongeren en ouders naar hun krachten?",
        en="How do we ask young people and parents about their strengths?",
    )
    # Texts without wording of their own keep the default.
    assert youth.item("A1.2").text == instrument.item("A1.2").text
    # Codes, scales and scoring are those of the file; so are its content and hash.
    assert [i.code for i in youth.all_items()] == [i.code for i in instrument.all_items()]
    assert [(i.scale, i.reverse, i.type) for i in youth.all_items()] == [
        (i.scale, i.reverse, i.type) for i in instrument.all_items()
    ]
    assert (youth.sha256, youth.content, youth.contexts) == (
        instrument.sha256,
        instrument.content,
        instrument.contexts,
    )


def test_in_context_reaches_the_introduction_descriptions_hints_and_options():
    youth = load_file(CONTEXTS_YAML).in_context("jeugdhulp")
    assert youth.introduction["nl"] == "Een zelfevaluatie van het team in de jeugdhulp.\n"
    assert youth.sections[0].description["en"].endswith("with young people and their parents?")
    assert youth.item("A1.1").hint["nl"] == "Denk aan de voorbije maand in de leefgroep."
    assert youth.item("BG1").options[0].label == Text(nl="Opvoeder-begeleider", en="Youth worker")
    assert youth.item("BG1").options[1].label["nl"] == "Teamcoach"


def test_in_context_none_gives_the_default_wording_without_variants():
    instrument = load_file(CONTEXTS_YAML)
    default = instrument.in_context(None)
    assert default.item("A1.1").text == DEFAULT_A11
    assert default.item("A1.1").text.variants == {}
    assert default.introduction == instrument.introduction.in_context(None)


def test_in_context_refuses_an_undeclared_context_and_a_second_context():
    instrument = load_file(CONTEXTS_YAML)
    with pytest.raises(KeyError, match="no context 'ggz'"):
        instrument.in_context("ggz")
    youth = instrument.in_context("jeugdhulp")
    assert youth.in_context("jeugdhulp") is youth
    with pytest.raises(ValueError, match="already"):
        youth.in_context(None)


@pytest.mark.parametrize("context", [None, "jeugdhulp"])
def test_the_stored_definition_round_trips_with_its_variants(context):
    instrument = (
        load_file(CONTEXTS_YAML).in_context(context) if context else load_file(CONTEXTS_YAML)
    )
    again = Instrument.from_dict(instrument.to_dict())
    assert again == instrument
    assert again.context == context
    assert again.item("A1.1").text.variants == instrument.item("A1.1").text.variants


def test_a_definition_stored_before_contexts_existed_has_none():
    data = load_file(FILES / "mini.yaml").to_dict()
    del data["contexts"], data["context"]
    instrument = Instrument.from_dict(data)
    assert (instrument.contexts, instrument.context) == ((), None)


# Problems, YAML


def test_an_undeclared_context_is_refused_with_its_line():
    text = yaml_text(
        "              jeugdhulp:\n                nl: Wij vragen jongeren",
        "              ggz:\n                nl: Wij vragen jongeren",
    )
    assert problems(text, "contexts.yaml") == [
        (
            line_of(text, "              ggz:"),
            "item A1.1, text",
            "unknown context 'ggz': declare it under 'contexts' at the top of the file "
            "(declared: jeugdhulp)",
        )
    ]


def test_a_context_key_without_any_declared_contexts_names_none():
    text = load_file(FILES / "mini.yaml").content.replace(
        "      en: We ask clients what is going well in their lives.\n",
        "      en: We ask clients what is going well in their lives.\n"
        "              jeugdhulp: {nl: jongeren, en: youth}\n",
    )
    assert problems(text, "mini.yaml") == [
        (
            line_of(text, "jeugdhulp:"),
            "item A1.1, text",
            "unknown context 'jeugdhulp': declare it under 'contexts' at the top of the file "
            "(declared: none)",
        )
    ]


#: The last line of A1.1's youth-care wording in contexts.yaml.
YOUTH_A11_EN = f"                en: {YOUTH_A11['en']}\n"


def test_a_context_missing_a_language_is_refused():
    text = yaml_text(YOUTH_A11_EN, "")
    assert problems(text, "contexts.yaml") == [
        (
            line_of(text, "                nl: Wij vragen jongeren en hun ouders"),
            "item A1.1, text.jeugdhulp",
            "missing the 'en' translation",
        )
    ]


def test_an_empty_or_single_string_context_wording_is_refused():
    text = yaml_text(
        "jeugdhulp: {nl: Denk aan de voorbije maand in de leefgroep.,", "jeugdhulp: {nl: ' ',"
    )
    assert problems(text, "contexts.yaml") == [
        (
            line_of(text, "jeugdhulp: {nl: ' '"),
            "item A1.1, hint.jeugdhulp",
            "the 'nl' translation is empty",
        )
    ]
    block = yaml_text()
    start = block.index("      jeugdhulp:\n        nl: Hoe vaak")
    end = block.index("\n", block.index("        en: How often", start)) + 1
    text = yaml_text(block[start:end], "      jeugdhulp: Hoe vaak doen wij dit?\n")
    assert problems(text, "contexts.yaml") == [
        (
            line_of(text, "      jeugdhulp: Hoe"),
            "section A, description.jeugdhulp",
            "expected a text per language ({nl: ..., en: ...}), got a single string",
        )
    ]


def test_a_context_nested_in_a_contexts_wording_is_refused():
    text = yaml_text(
        YOUTH_A11_EN, YOUTH_A11_EN + "                jeugdhulp: {nl: nog eens, en: once more}\n"
    )
    assert problems(text, "contexts.yaml") == [
        (
            line_of(text, "jeugdhulp: {nl: nog eens"),
            "item A1.1, text.jeugdhulp",
            "'jeugdhulp' inside the wording of context 'jeugdhulp': a context's wording holds "
            "only languages (put every context's wording next to the languages)",
        )
    ]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "Jeugdhulp",
            "bad context code 'Jeugdhulp': 2 to 32 lowercase letters, digits, '_' or "
            "'-', starting with a letter",
        ),
        ("nl", "'nl' is a language: a context needs a code of its own"),
    ],
)
def test_a_bad_context_code_is_refused(code, message):
    text = yaml_text("  - code: jeugdhulp\n", f"  - code: {code}\n")
    found = problems(text, "contexts.yaml")
    assert (line_of(text, f"  - code: {code}"), "contexts[0]", message) in found


def test_a_context_declared_twice_or_never_used_is_refused():
    text = yaml_text(
        "contexts:\n",
        "contexts:\n"
        "  - code: ggz\n    title: {nl: GGZ, en: Mental health}\n"
        "  - code: jeugdhulp\n    title: {nl: Jeugdhulp, en: Youth care}\n",
    )
    first = text.index("  - code: jeugdhulp")
    second = text.index("  - code: jeugdhulp", first + 1)
    assert problems(text, "contexts.yaml") == [
        (
            line_of(text, "  - code: ggz"),
            "context ggz",
            "no text gives wording for context 'ggz': add it to the texts it changes, or leave "
            "the context out",
        ),
        (text[:second].count("\n") + 1, "contexts[2]", "context 'jeugdhulp' is declared twice"),
    ]


def test_contexts_must_be_a_non_empty_list_of_entries_with_a_title():
    base = load_file(FILES / "mini.yaml").content
    assert problems(base + "contexts: []\n", "mini.yaml") == [
        (
            base.count("\n") + 1,
            "contexts",
            "'contexts' needs at least one entry (or leave the key out)",
        )
    ]
    found = problems(base + "contexts:\n  - code: jeugdhulp\n", "mini.yaml")
    assert (base.count("\n") + 2, "contexts[0]", "missing required key 'title'") in found


# Problems, TOML


def test_toml_an_undeclared_context_is_refused_with_its_line():
    text = toml_text("[sections.scales.items.text.jeugdhulp]", "[sections.scales.items.text.ggz]")
    assert problems(text, "contexts.toml") == [
        (
            line_of(text, "[sections.scales.items.text.ggz]"),
            "item A1.1, text",
            "unknown context 'ggz': declare it under 'contexts' at the top of the file "
            "(declared: jeugdhulp)",
        )
    ]


def test_toml_a_context_missing_a_language_or_nested_is_refused():
    text = toml_text(
        'en = "We ask young people and their parents what is going well in their lives."\n',
        'jeugdhulp = {nl = "x", en = "y"}\n',
    )
    found = problems(text, "contexts.toml")
    assert sorted((where, message.split(":")[0]) for _, where, message in found) == [
        ("item A1.1, text.jeugdhulp", "'jeugdhulp' inside the wording of context 'jeugdhulp'"),
        ("item A1.1, text.jeugdhulp", "missing the 'en' translation"),
    ]
    assert all(
        line == line_of(text, "[sections.scales.items.text.jeugdhulp]") or line is not None
        for line, _, _ in found
    )
