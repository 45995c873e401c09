"""Find-me groups: `/domain/<D>/ss/find-me/add-group|remove-group|set|info` and the same under
`ss/find-me-no-response/` (SPEC §7).

    /domain/<D>/ss/find-me/add-group 2010 [2001,2002,2003] 5 true custom 1234567 00:00-23:59

adds a group to number 2010's list: the numbers called together, how long they ring (seconds),
whether the group is in use, and when: `always`, or `custom` with a time template (weekdays
1-7, then one or more `HH:MM-HH:MM` intervals). Groups live in the parameters of the activated
service (`groups`), which is activated (and enabled) when needed.
"""

from __future__ import annotations

import re
from typing import Any

from ..args import Arg, Boolean, Choice, Integer, ItemList, Text, Words
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import domain_of, format_value, publish, storage, table
from .ss import ensure_enabled, typed_parameters

__all__ = ["check_time_template", "register"]

_DAYS = re.compile(r"[1-7]{1,7}")
_INTERVAL = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])")


def check_time_template(words: tuple[str, ...]) -> str:
    """`1234567 00:00-23:59` -> the same text, or CommandError saying what is wrong."""
    if len(words) < 2:
        raise CommandError(
            "a custom time needs weekdays and an interval: 12345 09:00-18:00", cause="invalid_value"
        )
    days, intervals = words[0], words[1:]
    if not _DAYS.fullmatch(days) or len(set(days)) != len(days):
        raise CommandError(f"weekdays {days!r} must be distinct digits 1-7", cause="invalid_value")
    for interval in intervals:
        match = _INTERVAL.fullmatch(interval)
        if match is None or (match.group(3) == "24" and match.group(4) != "00"):
            raise CommandError(
                f"time interval {interval!r} must be HH:MM-HH:MM", cause="invalid_value"
            )
    return " ".join(words)


async def _params(ctx: CommandContext, domain: str, number: str, service: str) -> dict[str, Any]:
    state = await storage(ctx).services.info(domain, number)
    return dict(state.activated.get(service, {}))


async def _save(
    ctx: CommandContext, domain: str, number: str, service: str, params: dict[str, Any]
) -> None:
    await ensure_enabled(ctx, domain, number, service)
    await storage(ctx).services.activate(domain, number, service, params)
    publish(ctx, "ss", domain, [number])


def _register_family(registry: Registry, directory: str, service: str) -> None:
    base = f"/domain/<D>/ss/{directory}"
    http = directory.replace("-", "_")
    number = Arg(
        "number",
        Text(pattern=r"[0-9A-Za-z*#+_.\-]{1,64}", what="number"),
        "the subscriber whose calls are redirected",
    )

    @registry.command(
        f"{base}/add-group",
        help=f"Add a group of numbers to the {service} list of a subscriber",
        args=(
            number,
            Arg("numbers", ItemList(), "the numbers rung together: [a,b,c]"),
            Arg("timeout", Integer(minimum=1, maximum=600), "seconds the group rings"),
            Arg("enabled", Boolean(), "whether the group is used"),
            Arg("mode", Choice(("always", "custom")), "always, or custom with a time template"),
            Arg(
                "template",
                Words(minimum=0),
                "for custom: weekdays 1-7 and HH:MM-HH:MM",
                optional=True,
                default=(),
            ),
        ),
        http_name=f"ss_{http}_add_group",
    )
    async def add_group(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        members = list(args["numbers"])
        if not members:
            raise CommandError("the group has no numbers", cause="invalid_value")
        template = tuple(args.get("template", ()))
        if args["mode"] == "custom":
            when = check_time_template(template)
        elif template:
            raise CommandError("mode always takes no time template", cause="invalid_value")
        else:
            when = ""
        params = await _params(ctx, domain, args["number"], service)
        groups = list(params.get("groups", []))
        groups.append(
            {
                "numbers": members,
                "timeout": args["timeout"],
                "enabled": args["enabled"],
                "mode": args["mode"],
                "time": when,
            }
        )
        params["groups"] = groups
        await _save(ctx, domain, args["number"], service, params)
        return CommandResult(f"successfully added: group {len(groups)} of {args['number']}")

    @registry.command(
        f"{base}/remove-group",
        help=f"Remove a group (by its position, from 1) from the {service} list",
        args=(number, Arg("index", Integer(minimum=1), "the group's position, from 1")),
        http_name=f"ss_{http}_remove_group",
    )
    async def remove_group(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        params = await _params(ctx, domain, args["number"], service)
        groups = list(params.get("groups", []))
        index = args["index"]
        if index > len(groups):
            raise CommandError(
                f"{args['number']} has {len(groups)} group(s), no group {index}", cause="not_found"
            )
        del groups[index - 1]
        params["groups"] = groups
        await _save(ctx, domain, args["number"], service, params)
        return CommandResult(f"successfully removed: group {index} of {args['number']}")

    @registry.command(
        f"{base}/set",
        help=f"Set a parameter of {service} (send_call_diversion true|false, ...)",
        args=(
            number,
            Arg("param", Text(pattern=r"[a-z_]{1,64}", what="parameter"), "name"),
            Arg("value", Words(), "its value"),
        ),
        http_name=f"ss_{http}_set",
    )
    async def set_param(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        if args["param"] == "groups":
            raise CommandError(
                "change groups with add-group and remove-group", cause="invalid_value"
            )
        params = await _params(ctx, domain, args["number"], service)
        value = typed_parameters(service, {args["param"]: " ".join(args["value"])})
        params.update(value)
        await _save(ctx, domain, args["number"], service, params)
        return CommandResult(
            f"successfully changed: {args['param']} = {format_value(value[args['param']])}"
        )

    @registry.command(
        f"{base}/info",
        help=f"Show the {service} groups and parameters of a subscriber",
        args=(number,),
        role=Role.VIEWER,
        http_name=f"ss_{http}_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        params = await _params(ctx, domain, args["number"], service)
        groups = params.get("groups", [])
        rows = [
            (index, format_value(g["numbers"]), g["timeout"], g["enabled"], g["mode"], g["time"])
            for index, g in enumerate(groups, start=1)
        ]
        others = {k: v for k, v in params.items() if k != "groups"}
        lines = [table(("Group", "Numbers", "Timeout", "Enabled", "Mode", "Time"), rows)]
        if others:
            lines.append("Parameters: " + format_value(others))
        return CommandResult("\n".join(lines), params)


def register(registry: Registry) -> None:
    _register_family(registry, "find-me", "find_me")
    _register_family(registry, "find-me-no-response", "find_me_no_response")
