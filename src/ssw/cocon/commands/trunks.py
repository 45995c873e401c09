"""SIP trunks of a domain: `/domain/<D>/trunk/sip/declare|info|set|block|unblock|remove`.

    /domain/<D>/trunk/sip/declare <ctx> <trunk_group> <name> <ipset> [static|dynamic] <ip> \\
        <port> sip-proxy <listen_port>
    /domain/<D>/trunk/sip/set <trunk_group> <name> sip_transport udp_only
    /domain/<D>/trunk/sip/remove <trunk_group> <name> --force

As in ECSS, a trunk is named by its group and its name after it is declared.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

from ..args import Arg, Flag, Text, Words
from ..errors import CommandError, InvalidArguments
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import domain_of, format_value, publish, storage, table
from .ss import typed_parameters

__all__ = ["register"]

_PEER_USAGE = "[static|dynamic] <ip> <port> sip-proxy <listen_port>"


def _peer(words: tuple[str, ...]) -> tuple[str, str, int, int]:
    """`[static|dynamic] <ip> <port> sip-proxy <listen_port>` -> (mode, ip, port, listen)."""
    rest = list(words)
    mode = rest.pop(0) if rest and rest[0] in ("static", "dynamic") else "static"
    if len(rest) != 4 or rest[2] != "sip-proxy":
        raise InvalidArguments(f"expected {_PEER_USAGE}", _PEER_USAGE)
    try:
        ipaddress.ip_address(rest[0])
    except ValueError:
        raise InvalidArguments(f"{rest[0]!r} is not an IP address", _PEER_USAGE) from None
    ports = []
    for text in (rest[1], rest[3]):
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise InvalidArguments(f"{text!r} is not a port 1-65535", _PEER_USAGE)
        ports.append(int(text))
    return mode, rest[0], ports[0], ports[1]


async def _trunk(ctx: CommandContext, domain: str, group: str, name: str) -> Any:
    trunk = await storage(ctx).trunks.find(domain, name)
    if trunk is None or trunk.trunk_group != group:
        raise CommandError(
            f"no trunk {name!r} in group {group!r} of {domain!r}", cause="no_such_iface"
        )
    return trunk


async def _domain_of_trunk(ctx: CommandContext, args: Arguments) -> str:
    """The path's domain, after checking that it has the trunk the arguments name."""
    domain = await domain_of(ctx, args)
    await _trunk(ctx, domain, args["trunk_group"], args["name"])
    return domain


def _rows(trunks: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (
            t.name,
            t.trunk_group,
            t.routing_context,
            t.mode,
            f"{t.host}:{t.port}",
            t.listen_port,
            "blocked" if t.blocked else "active",
            format_value(dict(t.settings)) if t.settings else "",
        )
        for t in trunks
    ]


def register(registry: Registry) -> None:
    base = "/domain/<D>/trunk/sip"
    group = Arg("trunk_group", Text(what="trunk group"), "the trunk group")
    name = Arg("name", Text(what="trunk name"), "the trunk")

    @registry.command(
        f"{base}/declare",
        help="Declare a SIP trunk",
        args=(
            Arg("routing_ctx", Text(what="routing context"), "context of calls from the trunk"),
            group,
            name,
            Arg("ipset", Text(what="IP set"), "the IP set (addresses the trunk uses)"),
            Arg("peer", Words(minimum=4), f"{_PEER_USAGE} (static when omitted)"),
        ),
        http_name="trunk_sip_declare",
    )
    async def declare(ctx: CommandContext, args: Arguments) -> CommandResult:
        from ssw.storage.records import Trunk

        domain = await domain_of(ctx, args)
        mode, host, port, listen_port = _peer(args["peer"])
        trunk = Trunk(
            domain=domain,
            name=args["name"],
            routing_context=args["routing_ctx"],
            trunk_group=args["trunk_group"],
            ipset=args["ipset"],
            mode=mode,
            host=host,
            port=port,
            listen_port=listen_port,
        )
        await storage(ctx).trunks.declare(trunk)
        publish(ctx, "trunk", domain, [trunk.name])
        return CommandResult(f"Trunk {trunk.name} declared")

    @registry.command(
        f"{base}/info",
        help="Show the SIP trunks of the domain, of a group, or one trunk",
        args=(
            Arg("trunk_group", Text(what="trunk group"), "the trunk group", optional=True),
            Arg("name", Text(what="trunk name"), "the trunk", optional=True),
        ),
        role=Role.VIEWER,
        http_name="trunk_sip_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        if args.get("name"):
            found = [await _trunk(ctx, domain, args["trunk_group"], args["name"])]
        else:
            found = await storage(ctx).trunks.list(domain)
            if args.get("trunk_group"):
                found = [t for t in found if t.trunk_group == args["trunk_group"]]
        data = [dataclasses.asdict(t) for t in found]
        if not found:
            return CommandResult("No trunks", data)
        header = ("Trunk", "Group", "Context", "Mode", "Peer", "Listen", "State", "Settings")
        return CommandResult(table(header, _rows(found)), data)

    async def _block(ctx: CommandContext, args: Arguments, blocked: bool) -> CommandResult:
        domain = await _domain_of_trunk(ctx, args)
        await storage(ctx).trunks.set_blocked(domain, args["name"], blocked)
        publish(ctx, "trunk", domain, [args["name"]])
        return CommandResult(f"Trunk {args['name']} {'blocked' if blocked else 'unblocked'}")

    @registry.command(
        f"{base}/block",
        help="Block a trunk (no calls)",
        args=(group, name),
        http_name="trunk_sip_block",
    )
    async def block(ctx: CommandContext, args: Arguments) -> CommandResult:
        return await _block(ctx, args, True)

    @registry.command(
        f"{base}/unblock", help="Unblock a trunk", args=(group, name), http_name="trunk_sip_unblock"
    )
    async def unblock(ctx: CommandContext, args: Arguments) -> CommandResult:
        return await _block(ctx, args, False)

    @registry.command(
        f"{base}/set",
        help="Set a further setting of a trunk (sip_transport udp_only, ...)",
        args=(
            group,
            name,
            Arg("param", Text(what="setting"), "the setting"),
            Arg("value", Words(), "its value"),
        ),
        http_name="trunk_sip_set",
    )
    async def set_setting(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await _domain_of_trunk(ctx, args)
        value: Any = typed_parameters("", {"v": " ".join(args["value"])})["v"]
        await storage(ctx).trunks.set_setting(domain, args["name"], args["param"], value)
        publish(ctx, "trunk", domain, [args["name"]])
        return CommandResult(f"successfully changed: {args['param']} = {format_value(value)}")

    @registry.command(
        f"{base}/remove",
        help="Remove a trunk",
        args=(group, name),
        flags=(Flag("force", "do not ask for confirmation"),),
        confirm=True,
        http_name="trunk_sip_remove",
    )
    async def remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await _domain_of_trunk(ctx, args)
        await storage(ctx).trunks.remove(domain, args["name"])
        publish(ctx, "trunk", domain, [args["name"]])
        return CommandResult(f"Trunk {args['name']} removed")
