"""`domain/declare|list|remove|info` and the domain's digit map (SPEC §5, §6).

    /domain/<D>/digitmap/set 1XX|2[0-9]XX|*XX#      /domain/<D>/digitmap/clean
"""

from __future__ import annotations

from ..args import Arg, Flag, Text
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import aligned_fields, domain_of, existing_domain, publish, storage, table

__all__ = ["register"]

_NAME = Arg("domain", Text(metavar="DOMAIN", what="domain name"), "the domain (virtual PBX)")


def register(registry: Registry) -> None:
    @registry.command(
        "/domain/declare",
        help="Declare a domain (a virtual PBX)",
        args=(_NAME,),
        flags=(
            Flag("add-domain-admin-privileges", "record that domain admins get full rights"),
            Flag("add-domain-user-privileges", "record that domain users get portal rights"),
        ),
        http_name="domain_declare",
    )
    async def declare(ctx: CommandContext, args: Arguments) -> CommandResult:
        store = storage(ctx)
        domain = await store.domains.declare(args["domain"])
        for flag in ("add-domain-admin-privileges", "add-domain-user-privileges"):
            if args.flag(flag):
                # kept for the web configurator and portal, which grant these rights
                await store.kv.set(domain.name, "privileges", flag.removeprefix("add-"), True)
        publish(ctx, "domain", domain.name)
        return CommandResult(f"Domain {domain.name} declared", {"domain": domain.name})

    @registry.command(
        "/domain/list",
        help="List the domains with their number of subscribers",
        role=Role.VIEWER,
        http_name="domain_list",
    )
    async def list_domains(ctx: CommandContext, args: Arguments) -> CommandResult:
        store = storage(ctx)
        rows = [(d.name, await store.subscribers.count(d.name)) for d in await store.domains.list()]
        if not rows:
            return CommandResult("No domains declared", [])
        return CommandResult(
            table(("Domain", "Subscribers"), rows),
            [{"domain": name, "subscribers": count} for name, count in rows],
        )

    @registry.command(
        "/domain/remove",
        help="Remove a domain with everything in it (subscribers, aliases, services, ...)",
        args=(_NAME,),
        flags=(Flag("force", "do not ask for confirmation"),),
        confirm=True,
        http_name="domain_remove",
    )
    async def remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        name = await existing_domain(ctx, args["domain"])
        await storage(ctx).domains.remove(name)
        publish(ctx, "domain", name)
        return CommandResult(f"Domain {name} removed", {"domain": name})

    @registry.command(
        "/domain/info",
        help="Show a domain: digit map, creation time, subscribers, SIP groups",
        args=(_NAME,),
        role=Role.VIEWER,
        http_name="domain_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        store = storage(ctx)
        name = args["domain"]
        domain = await store.domains.find(name)
        if domain is None:
            raise CommandError(f"domain {name!r} does not exist", cause="no_such_domain")
        groups = [group.name for group in await store.sip_groups.list(name)]
        count = await store.subscribers.count(name)
        rows = [
            ("Domain", domain.name),
            ("Digit map", domain.digitmap or "-"),
            ("Created", domain.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
            ("Subscribers", str(count)),
            ("SIP groups", ", ".join(groups) or "-"),
        ]
        return CommandResult(
            aligned_fields(rows),
            {"domain": domain.name, "subscribers": count, "groups": groups},
        )

    @registry.command(
        "/domain/<D>/digitmap/set",
        help="Set the digit map of the domain: rules separated by | (X, 0-9, A-D, *, #, [..], .)",
        args=(Arg("digitmap", Text(what="digit map"), "e.g. 1XX|2[0-9]XX|*XX#"),),
        http_name="digitmap_set",
    )
    async def digitmap_set(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        await storage(ctx).domains.set_digitmap(domain, args["digitmap"])
        publish(ctx, "domain", domain)
        return CommandResult(f"successfully changed: digitmap = {args['digitmap']}")

    @registry.command(
        "/domain/<D>/digitmap/clean",
        help="Remove the digit map of the domain",
        http_name="digitmap_clean",
    )
    async def digitmap_clean(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        await storage(ctx).domains.set_digitmap(domain, None)
        publish(ctx, "domain", domain)
        return CommandResult("successfully cleaned: digitmap")
