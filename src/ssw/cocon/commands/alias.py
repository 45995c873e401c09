"""Aliases and interface properties: `/domain/<D>/alias/...` and `/domain/<D>/iface/user-set`.

An alias binds a number to an interface (the SIP user `N@D`) and carries attributes
(SPEC §6): category, display name, CLIR, CDR group as columns; anything else (timezone, ni,
media-profile, `ss\\mgm\\telephone`, `subscriber_portal\\login`, ...) as named properties.
Setting a property creates the alias when it does not exist yet; cleaning is idempotent.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..args import Arg, Text, UserAddresses, Words
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import domain_of, format_value, numbers_in, publish, storage, table
from .ss import typed_parameters

__all__ = ["register"]

_COLUMNS = {
    "category": "category",
    "display_name": "display_name",
    "display-name": "display_name",
    "clir": "clir",
    "cdr_group": "cdr_group",
    "cdr-group": "cdr_group",
}
_COLUMN_DEFAULTS = {"category": 1, "display_name": "", "clir": False, "cdr_group": ""}


def _column_value(column: str, text: str) -> Any:
    if column == "category":
        if not text.isdigit():
            raise CommandError(
                f"category takes a number 0-255, not {text!r}", cause="invalid_value"
            )
        return int(text)
    if column == "clir":
        if text.lower() not in ("true", "false"):
            raise CommandError(f"clir takes true or false, not {text!r}", cause="invalid_value")
        return text.lower() == "true"
    return text


def _with_property(alias: Any, name: str, value: str | None) -> Any:
    """The alias with `name` set to `value` (None: back to the default)."""
    column = _COLUMNS.get(name)
    if column is not None:
        new = _COLUMN_DEFAULTS[column] if value is None else _column_value(column, value)
        return dataclasses.replace(alias, **{column: new})
    properties = dict(alias.properties)
    if value is None:
        properties.pop(name, None)
    else:
        properties[name] = typed_parameters("", {name: value})[name]
    return dataclasses.replace(alias, properties=properties)


async def _alias_or_new(ctx: CommandContext, domain: str, number: str, iface: str) -> Any:
    from ssw.storage.records import Alias

    found = await storage(ctx).aliases.find(domain, number)
    return found if found is not None else Alias(domain=domain, number=number, iface=iface)


def _iface_address(domain: str, args: Arguments) -> tuple[str, str]:
    numbers = numbers_in(args["iface"], domain)
    return numbers[0], f"{numbers[0]}@{domain}"


async def _clean_property(ctx: CommandContext, domain: str, args: Arguments) -> CommandResult:
    """Return a property of the alias of `address` to its default (nothing to do without one)."""
    found = await storage(ctx).aliases.find(domain, args["address"])
    if found is not None:
        await storage(ctx).aliases.set(_with_property(found, args["property"], None))
    publish(ctx, "alias", domain, [args["address"]])
    return CommandResult(f"successfully cleaned: {args['property']}")


def _affected(prop: str, count: int) -> str:
    """ECSS's report of an alias change (scripts look for "affected by settings property")."""
    return f"successfully changed: {prop}\n{count} alias(es) affected by settings property {prop}"


def _show(aliases: list[Any]) -> str:
    rows = []
    for alias in aliases:
        attributes = {
            "category": alias.category,
            "display_name": alias.display_name,
            "clir": alias.clir,
            "cdr_group": alias.cdr_group,
            **dict(alias.properties),
        }
        shown = ", ".join(f"{k} = {format_value(v)}" for k, v in attributes.items() if v != "")
        rows.append((alias.number, alias.iface, shown))
    return table(("Number", "Interface", "Attributes"), rows)


def register(registry: Registry) -> None:
    base = "/domain/<D>/alias"
    address = Arg("address", Text(what="number"), "the alias number")
    group = Arg("iface_group", Text(what="interface group"), "the SIP group of the interface")
    iface = Arg("iface", UserAddresses(many=False), "the interface: the SIP user number@domain")
    prop = Arg("property", Text(what="property"), "category, display_name, clir, timezone, ...")
    value = Arg("value", Words(), "the value")

    async def set_one(
        ctx: CommandContext, domain: str, number: str, ifc: str, args: Arguments
    ) -> None:
        alias = await _alias_or_new(ctx, domain, number, ifc)
        await storage(ctx).aliases.set(
            _with_property(alias, args["property"], " ".join(args["value"]))
        )

    @registry.command(
        f"{base}/set",
        help="Set a property of an alias (created when missing)",
        args=(address, group, iface, prop, value),
        http_name="alias_set",
    )
    async def set_property(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        _, ifc = _iface_address(domain, args)
        await set_one(ctx, domain, args["address"], ifc, args)
        publish(ctx, "alias", domain, [args["address"]])
        return CommandResult(_affected(args["property"], 1))

    @registry.command(
        f"{base}/clean",
        help="Return a property of an alias to its default",
        args=(address, group, iface, prop),
        http_name="alias_clean",
    )
    async def clean(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        _iface_address(domain, args)
        return await _clean_property(ctx, domain, args)

    @registry.command(
        f"{base}/set-for-address",
        help="Set a property of the alias of a number",
        args=(address, prop, value),
        http_name="alias_set_for_address",
    )
    async def set_for_address(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        number = args["address"]
        await set_one(ctx, domain, number, f"{number}@{domain}", args)
        publish(ctx, "alias", domain, [number])
        return CommandResult(_affected(args["property"], 1))

    @registry.command(
        f"{base}/address-clean",
        help="Clean a property of the alias of a number",
        args=(address, prop),
        http_name="alias_address_clean",
    )
    async def address_clean(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        return await _clean_property(ctx, domain, args)

    @registry.command(
        f"{base}/set-for-iface",
        help="Set a property of every alias of an interface (media-profile, ...)",
        args=(group, iface, prop, value),
        http_name="alias_set_for_iface",
    )
    async def set_for_iface(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        number, ifc = _iface_address(domain, args)
        aliases = await storage(ctx).aliases.list(domain, iface=ifc)
        numbers = [a.number for a in aliases] or [number]
        for each in numbers:
            await set_one(ctx, domain, each, ifc, args)
        publish(ctx, "alias", domain, numbers)
        return CommandResult(_affected(args["property"], len(numbers)))

    @registry.command(
        f"{base}/iface-clean",
        help="Clean a property of every alias of an interface",
        args=(group, iface, prop),
        http_name="alias_iface_clean",
    )
    async def iface_clean(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        _, ifc = _iface_address(domain, args)
        aliases = await storage(ctx).aliases.list(domain, iface=ifc)
        for alias in aliases:
            await storage(ctx).aliases.set(_with_property(alias, args["property"], None))
        publish(ctx, "alias", domain, [a.number for a in aliases])
        return CommandResult(
            f"successfully cleaned: {args['property']} for {len(aliases)} alias(es)"
        )

    @registry.command(
        f"{base}/info",
        help="Show aliases: one number, or * for all",
        args=(
            Arg("address", Text(what="number"), "a number or *"),
            Arg("iface_group", Text(what="interface group"), "the SIP group", optional=True),
            Arg("iface", UserAddresses(many=False), "number@domain", optional=True),
        ),
        role=Role.VIEWER,
        http_name="alias_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        from ssw.storage.records import Alias

        domain = await domain_of(ctx, args)
        aliases = await storage(ctx).aliases.list(domain)
        number = args["address"]
        if number != "*":
            aliases = [a for a in aliases if a.number == number]
            if not aliases and await storage(ctx).subscribers.find(domain, number) is not None:
                # every subscriber has an alias; until a property is set it has the defaults
                aliases = [Alias(domain=domain, number=number, iface=f"{number}@{domain}")]
            if not aliases:
                raise CommandError(
                    f"alias {args['address']}@{domain} does not exist", cause="not_found"
                )
        if not aliases:
            return CommandResult("No aliases", [])
        return CommandResult(_show(aliases), [dataclasses.asdict(a) for a in aliases])

    @registry.command(
        f"{base}/remove",
        help="Remove the alias of a number",
        args=(address,),
        http_name="alias_remove",
    )
    async def remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        await storage(ctx).aliases.remove(domain, args["address"])
        publish(ctx, "alias", domain, [args["address"]])
        return CommandResult(f"Alias {args['address']}@{domain} removed")

    _register_iface(registry)


def _register_iface(registry: Registry) -> None:
    adapter = Arg("adapter", Text(pattern=r"sip[0-9]+", what="SIP adapter"), "the adapter: sip1")
    group = Arg("group", Text(what="SIP group"), "the SIP group")
    iface = Arg("iface", UserAddresses(), "number@domain (a range is allowed)")
    prop = Arg("property", Text(what="property"), "routing.context, terminal_type, ...")

    @registry.command(
        "/domain/<D>/iface/user-set",
        help="Set a property of SIP user interfaces (routing.context, terminal_type, ...)",
        args=(adapter, group, iface, prop, Arg("value", Words(), "the value")),
        http_name="iface_user_set",
    )
    async def user_set(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        numbers = numbers_in(args["iface"], domain)
        subscribers = storage(ctx).subscribers
        name, value = args["property"], " ".join(args["value"])
        for number in numbers:
            await subscribers.get(domain, number)  # NotFound names the missing subscriber
        for number in numbers:
            if name in ("routing.context", "routing_context"):
                await subscribers.update(domain, number, routing_context=value)
            else:
                await subscribers.set_setting(domain, number, name, value)
        publish(ctx, "subscriber", domain, numbers)
        return CommandResult(f"successfully changed: {name} = {value}")
