"""docs/COCON.md is the registry's own reference: regenerate it when a command changes."""

from __future__ import annotations

from pathlib import Path

from ssw.cocon.commands import build_registry
from ssw.cocon.docgen import render

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_committed_reference_matches_the_registry() -> None:
    committed = (PROJECT_ROOT / "docs" / "COCON.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/COCON.md is out of date: run `python -m ssw.cocon.docgen > docs/COCON.md`"
    )


def test_every_command_is_documented_with_its_arguments() -> None:
    registry = build_registry()
    text = render(registry)
    for command in registry:
        assert f"### `{command.path}`" in text
        for arg in command.args:
            assert f"`{arg.usage()}`" in text
