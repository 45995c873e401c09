"""Helpers the command modules share: services, domain checks, tables, change notices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..args import AddressSet, Arg, Text
from ..errors import CommandError
from ..registry import Arguments, CommandContext, Handler, Registry, Role
from ..services import Change, CoconServices

__all__ = [
    "aligned_fields",
    "domain_of",
    "entry_name_arg",
    "existing_domain",
    "format_value",
    "no_entry",
    "numbers_in",
    "publish",
    "register_set_clean_info",
    "services",
    "storage",
    "table",
]


def services(ctx: CommandContext) -> CoconServices:
    found: CoconServices = ctx.services
    return found


def storage(ctx: CommandContext) -> Any:
    store = services(ctx).storage
    if store is None:
        raise CommandError("the database is not available on this node", cause="db_unreachable")
    return store


async def existing_domain(ctx: CommandContext, name: str) -> str:
    """`name`, after checking that the domain exists."""
    if not await storage(ctx).domains.exists(name):
        raise CommandError(f"domain {name!r} does not exist", cause="no_such_domain")
    return name


async def domain_of(ctx: CommandContext, args: Arguments) -> str:
    """The `<D>` of the path, after checking that the domain exists."""
    return await existing_domain(ctx, args.path["D"])


def entry_name_arg(name: str, what: str, help_text: str) -> Arg:
    """An argument naming an entry of a domain (a CDR group, a routing context): a letter,
    digit or `_`, then up to 63 of those, `.` or `-`."""
    return Arg(name, Text(pattern=r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}", what=what), help_text)


def no_entry(what: str, name: str, domain: str) -> CommandError:
    """The error for an entry of a domain that is not there."""
    return CommandError(f"no {what} {name!r} in {domain!r}", cause="not_found")


def numbers_in(address: AddressSet, domain: str) -> tuple[str, ...]:
    """The numbers of `N@D`, refusing an address of another domain than the path's."""
    if address.domain != domain:
        raise CommandError(
            f"address domain {address.domain!r} differs from the command's domain {domain!r}",
            cause="wrong_domain",
        )
    return address.numbers


def publish(ctx: CommandContext, kind: str, domain: str | None, keys: Iterable[str] = ()) -> None:
    services(ctx).changes.publish(Change(kind, domain, tuple(keys)))


def register_set_clean_info(
    registry: Registry,
    directory: str,
    *,
    handlers: tuple[Handler, Handler, Handler],
    helps: tuple[str, str, str],
    name: Arg,
    value: Arg,
    info_args: tuple[Arg, ...] = (),
) -> None:
    """The `set <name> <value>`, `clean <name>` and (for viewers) `info` commands of a family
    of named domain values under `directory`; their http names follow the directory
    (`/domain/<D>/sip/network` -> `sip_network_set`, ...)."""
    http = directory.removeprefix("/domain/<D>/").replace("/", "_")
    set_value, clean, info = handlers
    set_help, clean_help, info_help = helps
    registry.command(
        f"{directory}/set", help=set_help, args=(name, value), http_name=f"{http}_set"
    )(set_value)
    registry.command(
        f"{directory}/clean", help=clean_help, args=(name,), http_name=f"{http}_clean"
    )(clean)
    registry.command(
        f"{directory}/info",
        help=info_help,
        args=info_args,
        role=Role.VIEWER,
        http_name=f"{http}_info",
    )(info)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k} = {format_value(v)}" for k, v in value.items())
    return str(value)


def aligned_fields(rows: Iterable[tuple[str, str]]) -> str:
    """`name : value` lines, the names padded to the longest."""
    rows = list(rows)
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)} : {value}" for name, value in rows)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Plain aligned columns, two spaces apart, trailing spaces removed."""
    text_rows = [[format_value(cell) for cell in row] for row in rows]
    widths = [len(h) for h in header]
    for row in text_rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(header), *text_rows]
    ]
    return "\n".join(lines)
