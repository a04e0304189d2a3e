"""The privacy page says what docs/anonymity.md says the platform does: the same promises, no
more and no fewer, with the organisation's own numbers."""

from __future__ import annotations

import html
import re
from pathlib import Path

from survey.services.settings import current_settings

THREAT_MODEL = Path(__file__).parents[1] / "docs" / "anonymity.md"


def promised_in_the_threat_model() -> list[str]:
    text = THREAT_MODEL.read_text(encoding="utf-8")
    section = text.split("## What the privacy page promises", 1)[1]
    return [line[2:].strip() for line in section.splitlines() if line.startswith("- ")]


def said_on_the_privacy_page(client) -> list[str]:
    client.get("/language/en")
    page = client.get("/privacy").get_data(as_text=True)
    items = re.findall(r"<li>(.*?)</li>", page.split('<div class="prose">', 1)[1], re.S)
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item))).strip() for item in items
    ]


def test_the_privacy_page_makes_exactly_the_promises_of_the_threat_model(app, client):
    settings = current_settings()
    numbers = {
        "k": settings.min_group_size,
        "spread_threshold": settings.spread_threshold,
        "team_first_days": settings.team_first_days,
        "idle_minutes": app.config["RESPONDENT_IDLE_MINUTES"],
    }
    promised = [sentence.format(**numbers) for sentence in promised_in_the_threat_model()]
    assert len(promised) > 20
    assert said_on_the_privacy_page(client) == promised


def test_the_threat_model_names_only_tests_that_exist():
    text = THREAT_MODEL.read_text(encoding="utf-8")
    root = THREAT_MODEL.parents[1]
    for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)", text):
        source = (root / path).read_text(encoding="utf-8")
        # ``test_class01_*`` names a family: its captured name is the prefix ``test_class01_``.
        assert f"def {name}" in source, f"{path}::{name}"
    for path in re.findall(r"`(tests/[\w/]+\.py)`", text):
        assert (root / path).exists(), path
