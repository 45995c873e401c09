"""What the licence console commands print, as plain functions over the licence service.

The commands live under ``/cluster/storage/<CLUSTER>/licence/`` (seed, "Запуск и активация
системы"): ``set-passport``, ``add [--force|--no-diff]``, ``current-limits``, ``list``, ``remove``
and ``token``. Each function returns the text the operator reads, or raises a `LicenceError`
whose message says what was wrong; nothing is changed when it raises. Success of a change prints
``OK``, as in ECSS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence

from .formats import Licence
from .manager import CurrentLimits
from .service import LicenceService
from .token import Pkcs11Token, TokenError, format_slots

__all__ = [
    "Confirm",
    "add_licence",
    "current_limits",
    "diff_table",
    "limits_table",
    "list_licences",
    "ordered_limit_names",
    "remove_licence",
    "set_passport",
    "token_slots",
]

#: Asks the operator to confirm, showing ``text`` first; returns the answer.
Confirm = Callable[[str], Awaitable[bool]]

OK = "OK"
CANCELLED = "Cancelled: nothing was changed"
OPEN_EDITION = "Licensing : off, open edition (no trusted issuer key is configured)"
_FIRST = ("subscribers", "calls", "ds_instances")


def ordered_limit_names(*limits: Mapping[str, int]) -> list[str]:
    """Subscribers, calls, ds instances first, then every other limit by name."""
    names = {name for values in limits for name in values}
    return [n for n in _FIRST if n in names] + sorted(names - set(_FIRST))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def _value(limits: CurrentLimits, name: str) -> str:
    value = limits.get(name)
    return "unlimited" if value is None else str(value)


def limits_table(limits: CurrentLimits, usage: Mapping[str, int]) -> list[str]:
    rows = [
        [name, _value(limits, name), str(usage[name]) if name in usage else "-"]
        for name in ordered_limit_names(limits.values, usage)
    ]
    return _table(["Limit", "Value", "In use"], rows)


def diff_table(current: CurrentLimits, proposed: CurrentLimits) -> list[str]:
    """Current vs proposed limits, marking the ones that change."""
    rows = []
    for name in ordered_limit_names(current.values, proposed.values):
        old, new = _value(current, name), _value(proposed, name)
        rows.append([name, old, new, "" if old == new else "*"])
    return _table(["Limit", "Current", "New", ""], rows)


def _utc(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _licence_line(licence: Licence) -> str:
    expires = "never" if licence.expires is None else licence.expires.isoformat()
    return (
        f"{licence.licence_id}, issued {licence.issued} by {licence.issuer}, "
        f"expires {expires}, host {licence.hostname}"
    )


def current_limits(service: LicenceService) -> str:
    """``current-limits``: where the limits come from, then each limit and its use."""
    manager = service.manager
    limits = manager.current()
    if limits.edition == "open":
        return f"{OPEN_EDITION}\nNo limits apply"
    lines = []
    passport = manager.passport
    if passport is None:
        lines.append("Passport  : not set")
    else:
        lines.append(f"SSW_ID    : {passport.ssw_id}")
        lines.append(
            f"Passport  : token {passport.token_serial}, max ds instances "
            f"{passport.max_ds_instances}, issued {passport.issued} by {passport.issuer}"
        )
        lost = manager.token_lost_at
        if lost is None:
            lines.append("Token     : present")
        else:
            problem = f" ({service.token_problem})" if service.token_problem else ""
            drop = _utc(lost + manager.config.token_grace)
            lines.append(f"Token     : missing since {_utc(lost)}{problem}, defaults from {drop}")
    if limits.licence is not None:
        lines.append(f"Licence   : {_licence_line(limits.licence)}")
    state = "licensed" if limits.edition == "licensed" else f"default limits ({limits.reason})"
    lines.append(f"State     : {state}")
    lines.append("")
    lines += limits_table(limits, manager.usage())
    return "\n".join(lines)


async def set_passport(service: LicenceService, blob: str) -> str:
    """``set-passport <PASSPORT>``."""
    await service.set_passport(blob)
    return OK


async def add_licence(
    service: LicenceService,
    blob: str,
    *,
    force: bool = False,
    no_diff: bool = False,
    confirm: Confirm | None = None,
) -> str:
    """``add [--force|--no-diff] <LICENCE>``: show current vs new limits, confirm, install.

    Without ``--force`` the operator confirms; with no way to ask (``confirm`` is None) the
    licence is not installed and the output says to repeat the command with ``--force``.
    """
    licence = service.verify_licence(blob)
    manager = service.manager
    shown: list[str] = []
    if not no_diff:
        shown = diff_table(manager.current(), manager.preview(licence, service.clock()))
    if not force:
        if confirm is None:
            return "\n".join([*shown, "Confirmation needed: repeat with --force to install"])
        if not await confirm("\n".join(shown)):
            return CANCELLED
        shown = []
    await service.add_licence(blob)
    return "\n".join([*shown, OK])


def list_licences(service: LicenceService) -> str:
    """``list``: the passport, each installed licence and its state, stored blobs refused."""
    manager = service.manager
    now = service.clock()
    passport = manager.passport
    if not manager.enabled:
        lines = [OPEN_EDITION]
    elif passport is None:
        lines = ["Passport  : not set"]
    else:
        lines = [
            f"Passport  : SSW_ID {passport.ssw_id}, token {passport.token_serial}, "
            f"max ds instances {passport.max_ds_instances}, issued {passport.issued} "
            f"by {passport.issuer}"
        ]
    if not manager.licences:
        lines.append("Licences  : none")
    else:
        rows = []
        for lic in sorted(manager.licences, key=lambda lic: lic.issued):
            expires = "never" if lic.expires is None else lic.expires.isoformat()
            limits = ", ".join(f"{n}={lic.limits[n]}" for n in ordered_limit_names(lic.limits))
            state = manager.licence_state(lic, now)
            rows.append([lic.licence_id, lic.issued.isoformat(), expires, lic.hostname, state,
                         limits])
        lines.append("")
        lines += _table(["ID", "Issued", "Expires", "Host", "State", "Limits"], rows)
    for rejected in manager.rejected:
        lines.append(f"Stored but not valid: {rejected.blob[:24]}... ({rejected.reason})")
    return "\n".join(lines)


async def remove_licence(
    service: LicenceService,
    licence_id: str,
    *,
    force: bool = False,
    confirm: Confirm | None = None,
) -> str:
    """``remove <ID> [--force]``: uninstall a licence (see ``list`` for the ids)."""
    found = next((lic for lic in service.manager.licences if lic.licence_id == licence_id), None)
    if found is not None and not force:
        question = f"Remove licence {_licence_line(found)}"
        if confirm is None:
            return f"{question}: repeat with --force to remove"
        if not await confirm(question):
            return CANCELLED
    await service.remove_licence(licence_id)
    return OK


def token_slots(module: Pkcs11Token | None) -> str:
    """``token``: the slots of the PKCS#11 module, as ``pkcs11-tool -L`` shows them."""
    if module is None:
        return "No PKCS#11 module is configured (no token module was found on this host)"
    try:
        return f"Module {module.module_path}\n{format_slots(module.slots())}"
    except TokenError as exc:
        return str(exc)
