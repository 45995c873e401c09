"""CDR groups of a domain (SPEC §6: CSV files per domain and CDR group).

    /domain/<D>/cdr/add_cdr_group cdr_test_gr mode count 10 prefix test
    /domain/<D>/cdr/remove_cdr_group cdr_test_gr
    /domain/<D>/cdr/info

A group's settings (mode, prefix, ...) are kept as given, per domain, in the property section
`cdr_groups` (group -> "mode count 10 prefix test"); aliases join a group with
`alias/set <N> <group> <N@D> cdr_group <name>`. `cdr_groups(storage, domain)` reads them back.
"""

from __future__ import annotations

from typing import Any

from ..args import Arg, Words
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import domain_of, entry_name_arg, no_entry, publish, storage, table

__all__ = ["CDR_SECTION", "cdr_groups", "register"]

CDR_SECTION = "cdr_groups"


async def cdr_groups(store: Any, domain: str) -> dict[str, str]:
    """Group name -> its settings as given (e.g. "mode count 10 prefix test")."""
    stored = await store.kv.section(domain, CDR_SECTION)
    return {name: str(value) for name, value in stored.items()}


def register(registry: Registry) -> None:
    base = "/domain/<D>/cdr"
    group = entry_name_arg("group", "CDR group", "the CDR group")

    @registry.command(
        f"{base}/add_cdr_group",
        help="Declare a CDR group with its settings (mode ..., prefix ...)",
        args=(
            group,
            Arg(
                "settings",
                Words(minimum=0),
                "e.g. mode count 10 prefix test",
                optional=True,
                default=(),
            ),
        ),
        http_name="cdr_add_group",
    )
    async def add_group(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        if args["group"] in await storage(ctx).kv.section(domain, CDR_SECTION):
            raise CommandError(
                f"CDR group {args['group']!r} already exists", cause="already_exists"
            )
        text = " ".join(args.get("settings", ()))
        await storage(ctx).kv.set(domain, CDR_SECTION, args["group"], text)
        publish(ctx, "cdr", domain, [args["group"]])
        return CommandResult(f"CDR group {args['group']} declared")

    @registry.command(
        f"{base}/remove_cdr_group",
        help="Remove a CDR group",
        args=(group,),
        http_name="cdr_remove_group",
    )
    async def remove_group(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        if not await storage(ctx).kv.clean(domain, CDR_SECTION, args["group"]):
            raise no_entry("CDR group", args["group"], domain)
        publish(ctx, "cdr", domain, [args["group"]])
        return CommandResult(f"CDR group {args['group']} removed")

    @registry.command(
        f"{base}/info",
        help="Show the CDR groups of the domain",
        role=Role.VIEWER,
        http_name="cdr_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        groups = await cdr_groups(storage(ctx), domain)
        if not groups:
            return CommandResult("No CDR groups", groups)
        rows = list(groups.items())
        return CommandResult(table(("Group", "Settings"), rows), groups)
