"""The README documents every setting (and so stays true as settings are added)."""

from __future__ import annotations

from pathlib import Path

from gesher.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text()
    missing = [name for name in Settings.model_fields if f"GESHER_{name.upper()}" not in text]
    assert not missing, f"settings missing from README's Configuration section: {missing}"
