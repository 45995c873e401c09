"""The PKCS#11 token reader against SoftHSM, a real PKCS#11 implementation."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from licence_support import SoftHsm

from ssw.licence.token import (
    ModuleInfo,
    Pkcs11Token,
    SlotInfo,
    TokenError,
    TokenInfo,
    default_module_path,
    format_module_info,
    format_slots,
)


def test_reads_the_serial_of_the_token(softhsm: SoftHsm) -> None:
    assert Pkcs11Token(softhsm.module).serials() == frozenset({softhsm.serial})


def test_slot_list_has_the_token_and_an_empty_slot(softhsm: SoftHsm) -> None:
    slots = Pkcs11Token(softhsm.module).slots()
    tokens = [slot.token for slot in slots if slot.token is not None and slot.token.initialized]
    assert len(tokens) == 1
    token = tokens[0]
    assert token.label == "ECSS 000001"
    assert token.serial == softhsm.serial
    assert "token initialized" in token.flags and "PIN initialized" in token.flags
    assert any(slot.token is not None and not slot.token.initialized for slot in slots)


def test_unplugged_token_is_seen_at_the_next_read(softhsm: SoftHsm) -> None:
    reader = Pkcs11Token(softhsm.module)
    assert reader.serials() == {softhsm.serial}
    softhsm.unplug()
    assert reader.serials() == frozenset()


def test_listing_matches_pkcs11_tool(softhsm: SoftHsm) -> None:
    """Our `-L` layout carries the same label, serial and flags as OpenSC's pkcs11-tool."""
    tool = shutil.which("pkcs11-tool")
    if tool is None:
        pytest.skip("pkcs11-tool (Debian package opensc) is not installed")
    theirs = subprocess.run(
        [tool, "--module", softhsm.module, "-L"], check=True, capture_output=True, text=True
    ).stdout
    ours = format_slots(Pkcs11Token(softhsm.module).slots())

    def fields(text: str) -> dict[str, str]:
        found = {}
        for line in text.splitlines():
            match = re.match(r"\s+(token label|serial num|token flags)\s*:\s*(.*)$", line)
            if match:
                found[match[1]] = match[2].strip()
        return found

    mine, other = fields(ours), fields(theirs)
    # pkcs11-tool versions order the flags differently (the manual's follows bit order, as ours)
    assert set(mine.pop("token flags").split(", ")) == set(other.pop("token flags").split(", "))
    assert mine == other
    assert mine["serial num"] == softhsm.serial
    assert ours.splitlines()[0] == theirs.splitlines()[0] == "Available slots:"


def test_module_info(softhsm: SoftHsm) -> None:
    reader = Pkcs11Token(softhsm.module)
    info = reader.module_info()
    assert info.manufacturer == "SoftHSM"
    text = format_module_info(info, reader.slots())
    assert text.startswith("Cryptoki version 2.")
    assert "Using slot 0 with a present token" in text


def test_missing_module_is_a_clear_error() -> None:
    with pytest.raises(TokenError, match="not found: install it or fix the path"):
        Pkcs11Token("/nonexistent/libnothing.so").serials()


def test_module_that_cannot_initialize(softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFTHSM2_CONF", "/nonexistent/softhsm2.conf")
    with pytest.raises(TokenError, match="does not answer"):
        Pkcs11Token(softhsm.module).serials()
    monkeypatch.undo()


def test_default_module_path_takes_the_first_present() -> None:
    assert default_module_path(["/nonexistent/a.so"]) is None
    assert default_module_path(["/nonexistent/a.so", "/bin/sh"]) == "/bin/sh"


def test_format_slots_like_the_manual() -> None:
    """The Rutoken example from the ECSS manual, rebuilt from its fields."""
    token = TokenInfo(
        label="ECSS 000001", manufacturer="Aktiv Co.", model="Rutoken ECP",
        serial="123456789",
        flags=("rng", "login required", "PIN initialized", "token initialized"),
        hardware_version=(54, 1), firmware_version=(18, 0), initialized=True,
    )
    slots = [SlotInfo(0, 0, "Aktiv Rutoken ECP 00 00", "Aktiv Co.", token),
             SlotInfo(1, 1, "", "", None)]
    assert format_slots(slots) == "\n".join([
        "Available slots:",
        "Slot 0 (0x0): Aktiv Rutoken ECP 00 00",
        "  token label        : ECSS 000001",
        "  token manufacturer : Aktiv Co.",
        "  token model        : Rutoken ECP",
        "  token flags        : rng, login required, PIN initialized, token initialized",
        "  hardware version   : 54.1",
        "  firmware version   : 18.0",
        "  serial num         : 123456789",
        "Slot 1 (0x1): ",
        "  (empty)",
    ])
    info = ModuleInfo("/usr/lib/librtpkcs11ecp.so", (2, 20), "Aktiv Co.",
                      "Rutoken ECP PKCS #11 library", (1, 5))
    assert format_module_info(info, slots).splitlines() == [
        "Cryptoki version 2.20",
        "Manufacturer     Aktiv Co.",
        "Library          Rutoken ECP PKCS #11 library (ver 1.5)",
        "Using slot 0 with a present token (0x0)",
    ]
