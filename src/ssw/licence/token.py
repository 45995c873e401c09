"""The licence token through PKCS#11 (python-pkcs11): slots, token info and serial numbers.

ECSS ships eToken and Rutoken keys; SSW reads any PKCS#11 token (SoftHSM in tests). The passport
names a token serial; the switch polls the module and hands the serials it sees to the licence
manager, which raises the alarm and applies the grace period when the token goes away.

A PKCS#11 module is loaded once per process and its slot list is read at ``C_Initialize``
(PKCS#11 v2.40 §5.4), so every read here re-initializes the module to see a token that was
plugged in or pulled out since. Reads are blocking; asyncio callers run them in a thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import pkcs11
from pkcs11._pkcs11 import lib as Pkcs11Library
from pkcs11.constants import SlotFlag, TokenFlag
from pkcs11.exceptions import PKCS11Error

__all__ = [
    "KNOWN_MODULES",
    "ModuleInfo",
    "Pkcs11Token",
    "SlotInfo",
    "TokenError",
    "TokenInfo",
    "default_module_path",
    "format_module_info",
    "format_slots",
]

#: Where the PKCS#11 modules of the tokens ECSS uses (and SoftHSM) usually live, in search order.
KNOWN_MODULES: tuple[str, ...] = (
    "/usr/lib/librtpkcs11ecp.so",
    "/usr/lib/libeToken.so",
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
)

# Token flags named as pkcs11-tool names them, in bit order (PKCS#11 v2.40 §3.2, CK_TOKEN_INFO).
_FLAG_NAMES: tuple[tuple[TokenFlag, str], ...] = (
    (TokenFlag.RNG, "rng"),
    (TokenFlag.WRITE_PROTECTED, "write protected"),
    (TokenFlag.LOGIN_REQUIRED, "login required"),
    (TokenFlag.USER_PIN_INITIALIZED, "PIN initialized"),
    (TokenFlag.PROTECTED_AUTHENTICATION_PATH, "PIN pad present"),
    (TokenFlag.TOKEN_INITIALIZED, "token initialized"),
    (TokenFlag.USER_PIN_COUNT_LOW, "user PIN count low"),
    (TokenFlag.USER_PIN_FINAL_TRY, "final user PIN try"),
    (TokenFlag.USER_PIN_LOCKED, "user PIN locked"),
    (TokenFlag.USER_PIN_TO_BE_CHANGED, "user PIN to be changed"),
    (TokenFlag.SO_PIN_COUNT_LOW, "SO PIN count low"),
    (TokenFlag.SO_PIN_FINAL_TRY, "final SO PIN try"),
)

# One module, one process-wide library state: serialize re-initialization and reads.
_MODULE_LOCK = threading.Lock()


class TokenError(Exception):
    """The PKCS#11 module cannot be loaded or does not answer."""


def default_module_path(candidates: Sequence[str] = KNOWN_MODULES) -> str | None:
    """The first PKCS#11 module found among ``candidates`` (SoftHSM when nothing else is)."""
    return next((path for path in candidates if os.path.isfile(path)), None)


@dataclass(frozen=True)
class TokenInfo:
    label: str
    manufacturer: str
    model: str
    serial: str
    flags: tuple[str, ...]
    hardware_version: tuple[int, int]
    firmware_version: tuple[int, int]
    initialized: bool


@dataclass(frozen=True)
class SlotInfo:
    index: int
    slot_id: int
    description: str
    manufacturer: str
    token: TokenInfo | None


@dataclass(frozen=True)
class ModuleInfo:
    path: str
    cryptoki_version: tuple[int, int]
    manufacturer: str
    description: str
    version: tuple[int, int]


def _flag_names(flags: int) -> tuple[str, ...]:
    names = [name for flag, name in _FLAG_NAMES if flags & flag]
    known = 0
    for flag, _ in _FLAG_NAMES:
        known |= flag
    other = flags & ~known
    if other:
        names.append(f"other flags=0x{other:x}")
    return tuple(names)


def _clean(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    return text.strip(" \x00")


class Pkcs11Token:
    """Reads one PKCS#11 module: module info, slots with their tokens, token serials."""

    def __init__(self, module_path: str) -> None:
        self.module_path = module_path

    def _library(self) -> Pkcs11Library:
        """Load (once per process) and re-initialize the module so the slot list is current."""
        if not os.path.isfile(self.module_path):
            raise TokenError(
                f"PKCS#11 module {self.module_path} not found: install it or fix the path"
            )
        try:
            library = pkcs11.lib(self.module_path)
            library.reinitialize()
        except PKCS11Error as exc:
            detail = str(exc) or type(exc).__name__
            raise TokenError(
                f"PKCS#11 module {self.module_path} does not answer: {detail}"
            ) from None
        return library

    def module_info(self) -> ModuleInfo:
        with _MODULE_LOCK:
            library = self._library()
            return ModuleInfo(
                path=self.module_path,
                cryptoki_version=library.cryptoki_version,
                manufacturer=_clean(library.manufacturer_id),
                description=_clean(library.library_description),
                version=library.library_version,
            )

    def slots(self) -> list[SlotInfo]:
        """Every slot the module reports, with its token when one is present."""
        with _MODULE_LOCK:
            library = self._library()
            try:
                found = library.get_slots()
                return [self._slot_info(index, slot) for index, slot in enumerate(found)]
            except PKCS11Error as exc:
                detail = str(exc) or type(exc).__name__
                raise TokenError(f"cannot list the slots of {self.module_path}: {detail}") from None

    @staticmethod
    def _slot_info(index: int, slot: pkcs11.Slot) -> SlotInfo:
        token: TokenInfo | None = None
        if slot.flags & SlotFlag.TOKEN_PRESENT:
            try:
                raw = slot.get_token()
                flags = int(raw.flags)
                token = TokenInfo(
                    label=_clean(raw.label),
                    manufacturer=_clean(raw.manufacturer_id),
                    model=_clean(raw.model),
                    serial=_clean(raw.serial),
                    flags=_flag_names(flags),
                    hardware_version=raw.hardware_version,
                    firmware_version=raw.firmware_version,
                    initialized=bool(flags & TokenFlag.TOKEN_INITIALIZED),
                )
            except PKCS11Error:
                token = None  # pulled out between the slot list and the token read
        return SlotInfo(
            index=index,
            slot_id=slot.slot_id,
            description=_clean(slot.slot_description),
            manufacturer=_clean(slot.manufacturer_id),
            token=token,
        )

    def serials(self) -> frozenset[str]:
        """Serials of the initialized tokens present now (an empty set when there is none)."""
        return frozenset(
            slot.token.serial
            for slot in self.slots()
            if slot.token is not None and slot.token.initialized and slot.token.serial
        )


def _version(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def format_slots(slots: Sequence[SlotInfo]) -> str:
    """The slot list in the layout of ``pkcs11-tool -L`` (as the ECSS manual shows it)."""
    lines = ["Available slots:"]
    for slot in slots:
        lines.append(f"Slot {slot.index} (0x{slot.slot_id:x}): {slot.description}")
        token = slot.token
        if token is None:
            lines.append("  (empty)")
        elif not token.initialized:
            lines.append("  token state        : uninitialized")
        else:
            lines += [
                f"  token label        : {token.label}",
                f"  token manufacturer : {token.manufacturer}",
                f"  token model        : {token.model}",
                f"  token flags        : {', '.join(token.flags)}",
                f"  hardware version   : {_version(token.hardware_version)}",
                f"  firmware version   : {_version(token.firmware_version)}",
                f"  serial num         : {token.serial}",
            ]
    if not slots:
        lines.append("  (none)")
    return "\n".join(lines)


def format_module_info(info: ModuleInfo, slots: Sequence[SlotInfo]) -> str:
    """Module information in the layout of ``pkcs11-tool -I``."""
    lines = [
        f"Cryptoki version {_version(info.cryptoki_version)}",
        f"Manufacturer     {info.manufacturer}",
        f"Library          {info.description} (ver {_version(info.version)})",
    ]
    present = next((s for s in slots if s.token is not None and s.token.initialized), None)
    if present is None:
        lines.append("No slot with a present token")
    else:
        lines.append(f"Using slot {present.index} with a present token (0x{present.slot_id:x})")
    return "\n".join(lines)
