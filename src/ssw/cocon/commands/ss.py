"""Supplementary services per number: `/domain/<D>/ss/enable|disable|activate|deactivate|info`
(SPEC §7). The services themselves run in the core; here they are stored and validated.

    /domain/<D>/ss/enable {2001-2020} cfu cfb       /domain/<D>/ss/disable 2001 *
    /domain/<D>/ss/activate 2001 cfu number = 157    /domain/<D>/ss/deactivate 2001 cfu
    /domain/<D>/ss/info *

Service names are matched case-insensitively (the QA suite writes `Chunt`). Success prints
`Success: ...`, as ECSS does (scripts look for it). Activating a
service that is not yet enabled enables it first: Eltex's QA suite activates `ctr` and
`speed_dial` without enabling them.
"""

from __future__ import annotations

from typing import Any

from ..args import Arg, KeyValues, Numbers, Selection, Text, Words
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import domain_of, format_value, publish, storage, table

__all__ = ["known_services", "register", "typed_parameters"]

#: parameters a service cannot be activated without
_REQUIRED = {
    "cfu": ("number",),
    "cfu_type2": ("number",),
    "cfb": ("number",),
    "cfnr": ("number",),
    "cfnr_type2": ("number",),
    "cfos": ("number",),
    "chunt": ("numbers",),
    "cgg": ("numbers",),
}


def known_services() -> frozenset[str]:
    from ssw.storage.settings import SERVICES

    return SERVICES


def service_name(text: str) -> str:
    name = text.lower()
    if name not in known_services():
        raise CommandError(f"unknown supplementary service {text!r}", cause="no_such_service")
    return name


def _typed(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_typed(item) for item in value]
    if not isinstance(value, str):
        return value
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if value.isdigit() and not (len(value) > 1 and value.startswith("0")):
        return int(value)
    return value


def typed_parameters(service: str, params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as stored: true/false become booleans, plain numbers integers, lists lists."""
    typed = {name: _typed(value) for name, value in params.items()}
    missing = [name for name in _REQUIRED.get(service, ()) if name not in typed]
    if missing:
        raise CommandError(
            f"{service} needs the parameter(s) {', '.join(missing)} (name = value)",
            cause="invalid_value",
        )
    return typed


def service_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """Service names, dropping a trailing `name = value` list: Eltex's QA suite writes
    `ss/disable {1-3} ml line_count = 2`, and parameters mean nothing to enable/disable."""
    for index, word in enumerate(words):
        if "=" in word:
            cut = index if word.index("=") > 0 else index - 1
            return words[: max(cut, 0)]
    return words


async def numbers_of(ctx: CommandContext, domain: str, selection: Selection) -> list[str]:
    """The numbers a `Numbers` argument names; `*` is every subscriber of the domain."""
    if not selection.everything:
        return list(selection.values)
    return [s.number for s in await storage(ctx).subscribers.list(domain)]


async def _domain_and_numbers(ctx: CommandContext, args: Arguments) -> tuple[str, list[str]]:
    """The path's domain and the numbers of the `numbers` argument."""
    domain = await domain_of(ctx, args)
    return domain, await numbers_of(ctx, domain, args["numbers"])


def _changed(
    ctx: CommandContext, domain: str, numbers: list[str], names: list[str], done: str
) -> CommandResult:
    """Announce the change of the numbers' services and report it as ECSS does."""
    publish(ctx, "ss", domain, numbers)
    return CommandResult(f"Success: {', '.join(names)} {done} for {len(numbers)} number(s)")


async def check_allowed(ctx: CommandContext, domain: str, names: list[str]) -> None:
    """Refuse services outside the domain's access list (when it has one)."""
    from .network import allowed_services

    allowed = await allowed_services(ctx, domain)
    refused = [] if allowed is None else [n for n in names if n not in allowed]
    if refused:
        raise CommandError(
            f"{', '.join(refused)} not allowed to domain {domain}: add with "
            f"/cluster/storage/ds1/ss/access-list add {domain} {' '.join(refused)}",
            cause="not_allowed",
        )


async def ensure_enabled(ctx: CommandContext, domain: str, number: str, service: str) -> None:
    services = storage(ctx).services
    state = await services.info(domain, number)
    if service not in state.enabled:
        await check_allowed(ctx, domain, [service])
        await services.enable(domain, [number], [service])


def register(registry: Registry) -> None:
    base = "/domain/<D>/ss"
    numbers_arg = Arg("numbers", Numbers(), "a number, a range {a-b}, or * for every subscriber")
    services_arg = Arg("services", Words(), "service names, or *")

    @registry.command(
        f"{base}/enable",
        help="Enable supplementary services for numbers (* for every service)",
        args=(numbers_arg, services_arg),
        http_name="ss_enable",
    )
    async def enable(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, numbers = await _domain_and_numbers(ctx, args)
        wanted = service_words(args["services"])
        if wanted == ("*",):
            from .network import allowed_services

            allowed = await allowed_services(ctx, domain)
            names = sorted(known_services() if allowed is None else allowed)
        else:
            names = [service_name(s) for s in wanted]
            await check_allowed(ctx, domain, names)
        await storage(ctx).services.enable(domain, numbers, names)
        return _changed(ctx, domain, numbers, names, "enabled")

    @registry.command(
        f"{base}/disable",
        help="Disable (and deactivate) supplementary services for numbers (* for every service)",
        args=(numbers_arg, services_arg),
        http_name="ss_disable",
    )
    async def disable(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, numbers = await _domain_and_numbers(ctx, args)
        wanted = service_words(args["services"])
        names = ["*"] if wanted == ("*",) else [service_name(s) for s in wanted]
        await storage(ctx).services.disable(domain, numbers, names)
        return _changed(ctx, domain, numbers, names, "disabled")

    @registry.command(
        f"{base}/activate",
        help="Activate a service for numbers with its parameters: name = value, ...",
        args=(
            numbers_arg,
            Arg("service", Text(what="service"), "the service"),
            Arg("params", KeyValues(), "parameters, e.g. number = 157", optional=True),
        ),
        http_name="ss_activate",
    )
    async def activate(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, numbers = await _domain_and_numbers(ctx, args)
        service = service_name(args["service"])
        params = typed_parameters(service, dict(args.get("params", {})))
        for number in numbers:
            await ensure_enabled(ctx, domain, number, service)
            await storage(ctx).services.activate(domain, number, service, params)
        return _changed(ctx, domain, numbers, [service], "activated")

    @registry.command(
        f"{base}/deactivate",
        help="Deactivate a service for numbers (it stays enabled)",
        args=(numbers_arg, Arg("service", Text(what="service"), "the service")),
        http_name="ss_deactivate",
    )
    async def deactivate(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, numbers = await _domain_and_numbers(ctx, args)
        service = service_name(args["service"])
        changed = 0
        for number in numbers:
            changed += bool(await storage(ctx).services.deactivate(domain, number, service))
        publish(ctx, "ss", domain, numbers)
        return CommandResult(
            f"Success: {service} deactivated for {changed} number(s)"
            + (f" ({len(numbers) - changed} were not active)" if changed < len(numbers) else "")
        )

    @registry.command(
        f"{base}/info",
        help="Show enabled and activated services of numbers (* for every number with any)",
        args=(numbers_arg,),
        role=Role.VIEWER,
        http_name="ss_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        selection: Selection = args["numbers"]
        services = storage(ctx).services
        states = await services.info_many(
            domain, None if selection.everything else list(selection.values)
        )
        rows = []
        for state in states:
            for name in sorted(state.enabled | set(state.activated)):
                params = state.activated.get(name)
                rows.append(
                    (
                        state.number,
                        name,
                        "active" if params is not None else "enabled",
                        format_value(dict(params)) if params else "",
                    )
                )
        data = [
            {"number": s.number, "enabled": sorted(s.enabled), "activated": dict(s.activated)}
            for s in states
        ]
        if not rows:
            return CommandResult("No services", data)
        return CommandResult(table(("Number", "Service", "State", "Parameters"), rows), data)
