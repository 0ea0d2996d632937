"""The English translation Home Assistant loads is the one the code was written with."""

import json
from pathlib import Path

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "clarifai"


def test_english_translation_matches_strings() -> None:
    """translations/en.json is strings.json: `scripts/lint` copies it over."""
    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    english = json.loads(
        (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")
    )
    assert english == strings
