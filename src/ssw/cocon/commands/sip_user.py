"""SIP subscribers: `/domain/<D>/sip/user/declare|info|set|clean|remove|stop-registration` and
`change-context` (SPEC §5, §6).

    /domain/pv.ssw3/sip/user/declare default_routing sip.ab {100000-109999}@pv.ssw3 none \
        no_qop_authentication login-as-number 123

declares all the numbers of a range in one transaction: all of them, or none.
"""

from __future__ import annotations

from typing import Any

from ..args import AddressSet, Arg, Flag, Text, UserAddresses, Words
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import (
    aligned_fields,
    domain_of,
    format_value,
    numbers_in,
    publish,
    services,
    storage,
    table,
)

__all__ = ["register"]

#: `sip/user/set` parameters that change what `declare` set, by their accepted spellings
_DECLARE_PARAMETERS = {
    "password": "password",
    "auth": "auth_mode",
    "auth-mode": "auth_mode",
    "auth_mode": "auth_mode",
    "qop": "qop_mode",
    "qop-mode": "qop_mode",
    "qop_mode": "qop_mode",
    "routing-context": "routing_context",
    "routing_context": "routing_context",
    "routing.context": "routing_context",
    "context": "routing_context",
    "group": "group",
}
_SUMMARY_LIMIT = 20

_GROUP = Arg("group", Text(metavar="GROUP", what="SIP group"), "the SIP group, e.g. sip.ab")
_ADDRESSES = Arg("address", UserAddresses(), "number@domain; the number may be a range {a-b}")
_ONE_ADDRESS = Arg("address", UserAddresses(many=False), "number@domain")


def _check_licence(ctx: CommandContext, total_after: int) -> None:
    licence = getattr(services(ctx), "licence", None)
    manager = getattr(licence, "manager", None)
    if manager is None:
        return
    try:
        manager.check_subscribers(total_after)
    except Exception as exc:
        cause = getattr(exc, "cause", None)
        if cause is None:
            raise
        raise CommandError(str(exc), cause=cause) from None


def _span(numbers: tuple[str, ...], domain: str) -> str:
    if len(numbers) == 1:
        return f"{numbers[0]}@{domain}"
    return f"{numbers[0]}@{domain} .. {numbers[-1]}@{domain}"


async def _selected(ctx: CommandContext, args: Arguments) -> tuple[str, list[Any]]:
    """The path's domain and the subscribers its `group` and `address` arguments name."""
    domain = await domain_of(ctx, args)
    return domain, await _members(ctx, domain, args["group"], args["address"])


async def _members(
    ctx: CommandContext, domain: str, group: str | None, address: AddressSet
) -> list[Any]:
    """The subscribers named, all of which must exist.

    The number identifies a subscriber within its domain; the group argument of ECSS's forms
    is accepted without being compared (Eltex's QA suite sets options_control through the
    group `sip.group` on subscribers declared in `sip.ab`).
    """
    numbers = numbers_in(address, domain)
    found = await storage(ctx).subscribers.list(domain, numbers=numbers)
    by_number = {subscriber.number: subscriber for subscriber in found}
    missing = [number for number in numbers if number not in by_number]
    if missing:
        raise CommandError(
            f"subscriber {_span(tuple(missing[:1]), domain)} does not exist"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            cause="no_such_iface",
        )
    return [by_number[number] for number in numbers]


def _describe(subscriber: Any, complete: bool, contacts: list[Any]) -> str:
    """One subscriber, with ECSS's wording for what scripts look for: the
    `internal iface name` line and `Contacts list is empty` when nothing is registered."""
    from ssw.storage.settings import SUBSCRIBER_SETTINGS

    rows: list[tuple[str, str]] = [
        ("address", subscriber.address),
        ("internal iface name", subscriber.address),
        ("group", subscriber.group),
        ("login", subscriber.login),
        ("auth", subscriber.auth_mode),
        ("qop", subscriber.qop_mode),
        ("login mode", subscriber.login_mode),
        ("routing context", subscriber.routing_context),
    ]
    names = sorted(SUBSCRIBER_SETTINGS) if complete else sorted(subscriber.settings)
    for name in names:
        rows.append((name, format_value(subscriber.setting(name))))
    lines = [aligned_fields(rows)]
    if not contacts:
        lines.append("Contacts list is empty")
    else:
        lines.append("Contacts:")
        lines.append(
            table(
                ("Contact", "Expires (UTC)", "Q", "Source", "User agent"),
                [
                    (
                        b.contact,
                        b.expires_at.strftime("%Y-%m-%d %H:%M:%S"),
                        b.q,
                        f"{b.transport}:{b.source_host}:{b.source_port}",
                        b.user_agent,
                    )
                    for b in contacts
                ],
            )
        )
    return "\n".join(lines)


def _summary(subscriber: Any) -> dict[str, Any]:
    return {
        "address": subscriber.address,
        "group": subscriber.group,
        "login": subscriber.login,
        "auth": subscriber.auth_mode,
        "qop": subscriber.qop_mode,
        "routing_context": subscriber.routing_context,
        "settings": dict(subscriber.settings),
    }


def register(registry: Registry) -> None:
    base = "/domain/<D>/sip/user"

    @registry.command(
        f"{base}/declare",
        help="Declare SIP subscribers (one number or a range) in a SIP group",
        args=(
            Arg("routing_ctx", Text(what="routing context"), "routing context of their calls"),
            _GROUP,
            _ADDRESSES,
            Arg("auth", Text(what="auth mode"), "none | register | invite | register_and_invite"),
            Arg("qop", Text(what="qop mode"), "qop_authentication | no_qop_authentication"),
            Arg("login_mode", Text(what="login"), "login-as-number, or the digest user name"),
            Arg("password", Text(what="password"), "digest password"),
        ),
        http_name="sip_user_declare",
    )
    async def declare(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        numbers = numbers_in(args["address"], domain)
        store = storage(ctx)
        _check_licence(ctx, await store.subscribers.count() + len(numbers))
        await store.subscribers.declare_many(
            domain,
            numbers,
            group=args["group"],
            password=args["password"],
            routing_context=args["routing_ctx"],
            auth_mode=args["auth"],
            qop_mode=args["qop"],
            login=args["login_mode"],
        )
        publish(ctx, "subscriber", domain, numbers)
        if len(numbers) == 1:
            text = f"Subscriber {numbers[0]}@{domain} declared"
        else:
            text = f"{len(numbers)} subscribers declared: {_span(numbers, domain)}"
        return CommandResult(text, {"declared": len(numbers)})

    @registry.command(
        f"{base}/info",
        help="Show subscribers: all, a group, or the given numbers (--complete: every setting)",
        args=(
            Arg("group", Text(what="SIP group"), "the SIP group", optional=True),
            Arg("address", UserAddresses(), "number@domain or a range", optional=True),
        ),
        flags=(Flag("complete", "show every setting, defaults included"),),
        role=Role.VIEWER,
        http_name="sip_user_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        group = args.get("group")
        if args.get("address") is not None:
            found = await _members(ctx, domain, group, args["address"])
        else:
            found = await storage(ctx).subscribers.list(domain, group=group)
        data = [_summary(s) for s in found]
        if len(found) == 1:
            contacts = await storage(ctx).registrations.list_for_aor(found[0].address)
            text = _describe(found[0], args.flag("complete"), contacts)
            return CommandResult(text, data)
        if not found:
            return CommandResult("No subscribers", data)
        rows = [
            (s.address, s.group, s.login, s.auth_mode, s.qop_mode, s.routing_context)
            for s in found
        ]
        header = ("Address", "Group", "Login", "Auth", "Qop", "Routing context")
        return CommandResult(table(header, rows), data)

    @registry.command(
        f"{base}/set",
        help="Set a parameter of subscribers (fork-mode, req100rel, options_control, ...)",
        args=(
            _GROUP,
            _ADDRESSES,
            Arg("param", Text(what="parameter"), "the parameter (see the settings list)"),
            Arg("value", Words(), "its value; some take two words (fork-mode ...)"),
        ),
        http_name="sip_user_set",
    )
    async def set_parameter(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, members = await _selected(ctx, args)
        param, value = args["param"], " ".join(args["value"])
        subscribers = storage(ctx).subscribers
        field = _DECLARE_PARAMETERS.get(param)
        stored = value
        if param == "qop-authentication":
            # SPEC §5 lists it among the settings: true/false is the declare-time qop mode
            if value.lower() not in ("true", "false"):
                raise CommandError(f"qop-authentication takes true or false, not {value!r}",
                                   cause="invalid_value")
            field = "qop_mode"
            stored = "qop_authentication" if value.lower() == "true" else "no_qop_authentication"
        for subscriber in members:
            if field is None:
                await subscribers.set_setting(domain, subscriber.number, param, value)
            else:
                await subscribers.update(domain, subscriber.number, **{field: stored})
        publish(ctx, "subscriber", domain, [s.number for s in members])
        return CommandResult(f"successfully changed: {param} = {value}")

    @registry.command(
        f"{base}/clean",
        help="Return a parameter of subscribers to its default",
        args=(_GROUP, _ADDRESSES, Arg("param", Text(what="parameter"), "the parameter")),
        http_name="sip_user_clean",
    )
    async def clean(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, members = await _selected(ctx, args)
        param = args["param"]
        for subscriber in members:
            await storage(ctx).subscribers.clean_setting(domain, subscriber.number, param)
        publish(ctx, "subscriber", domain, [s.number for s in members])
        return CommandResult(f"successfully cleaned: {param}")

    @registry.command(
        f"{base}/remove",
        help="Remove subscribers with their registrations",
        args=(_GROUP, _ADDRESSES),
        flags=(Flag("force", "do not ask for confirmation"),),
        confirm=True,
        http_name="sip_user_remove",
    )
    async def remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, members = await _selected(ctx, args)
        numbers = [s.number for s in members]
        removed = await storage(ctx).subscribers.remove_many(domain, numbers)
        publish(ctx, "subscriber", domain, numbers)
        return CommandResult(f"{removed} subscriber(s) removed", {"removed": removed})

    @registry.command(
        f"{base}/stop-registration",
        help="Drop the registrations of subscribers (they must register again)",
        args=(_GROUP, _ADDRESSES),
        http_name="sip_user_stop_registration",
    )
    async def stop_registration(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, members = await _selected(ctx, args)
        dropped = 0
        for subscriber in members:
            dropped += await storage(ctx).registrations.remove(subscriber.address)
        publish(ctx, "registration", domain, [s.number for s in members])
        return CommandResult(f"{dropped} registration(s) removed", {"removed": dropped})

    @registry.command(
        f"{base}/change-context",
        help="Change the routing context of subscribers",
        args=(_GROUP, _ADDRESSES, Arg("context", Text(what="routing context"), "new context")),
        http_name="change_context",
    )
    async def change_context(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain, members = await _selected(ctx, args)
        for subscriber in members:
            await storage(ctx).subscribers.update(
                domain, subscriber.number, routing_context=args["context"]
            )
        publish(ctx, "subscriber", domain, [s.number for s in members])
        return CommandResult(f"successfully changed: routing context = {args['context']}")
