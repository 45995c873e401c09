"""ARCHITECTURE rule 1: `ssw.sip` is sans-I/O - no sockets, no tasks, no clock.

Every module under src/ssw/sip is parsed (not imported) and its imports are checked, so a
forbidden import fails here even inside a function or under `if TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIP_PACKAGE = Path(__file__).resolve().parents[2] / "src" / "ssw" / "sip"
FORBIDDEN = frozenset({"asyncio", "socket", "time", "threading", "selectors", "ssl"})


def forbidden_imports(source: str, filename: str = "<source>") -> list[str]:
    """The forbidden modules `source` imports, as "line: module"."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
            in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        found += [f"{node.lineno}: {name}" for name in names if name.split(".")[0] in FORBIDDEN]
    return found


def sip_modules() -> list[Path]:
    return sorted(SIP_PACKAGE.rglob("*.py"))


def test_the_package_is_found() -> None:
    assert (SIP_PACKAGE / "message.py").is_file()
    assert len(sip_modules()) >= 8


@pytest.mark.parametrize("path", sip_modules(), ids=lambda p: str(p.relative_to(SIP_PACKAGE)))
def test_module_does_no_io(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio",
        "import time as clock",
        "from socket import socket",
        "import os, threading",
        "from selectors import DefaultSelector",
        "def f():\n    import ssl",
        "import importlib\nimportlib.import_module('time')",
        "__import__('socket')",
        "import asyncio.events",
    ],
)
def test_the_scan_catches_forbidden_imports(source: str) -> None:
    assert forbidden_imports(source) != []


@pytest.mark.parametrize(
    "source",
    ["import re", "from ssw.sip.errors import SipError", "import datetime", "import timeit2"],
)
def test_the_scan_allows_other_imports(source: str) -> None:
    assert forbidden_imports(source) == []
