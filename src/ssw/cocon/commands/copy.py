"""`/domain/copy <SRC> <DST>`: a new domain with everything of another one.

Copied: properties and timers, routing contexts, subscribers (with their settings), aliases,
supplementary services, media profiles and trunks. Registrations are not copied. Digest HA1
values depend on the domain (the realm), so a subscriber can be copied only when its password
is stored. The copy is all or nothing: if any step fails, the new domain is removed again.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from ..args import Arg, Text
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry
from .common import publish, storage
from .routing import ROUTING_SECTION

__all__ = ["register"]

_SECTIONS = ("sip", "sip_timers", "timers", ROUTING_SECTION)


async def _copy_subscribers(store: Any, source: str, target: str) -> int:
    subscribers = await store.subscribers.list(source)
    missing = [s.address for s in subscribers if s.password is None]
    if missing:
        raise CommandError(
            f"{len(missing)} subscriber(s) of {source} have no stored password (only digests "
            f"bound to the realm {source}), e.g. {missing[0]}: they cannot be copied",
            cause="invalid_value",
        )
    batches: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for s in subscribers:
        login = s.login if s.login_mode != "login-as-number" else "login-as-number"
        key = (s.group, s.routing_context, s.auth_mode, s.qop_mode, s.password or "", login)
        batches[key].append(s.number)
    for (group, context, auth, qop, password, login), numbers in batches.items():
        for chunk in [numbers] if login == "login-as-number" else [[n] for n in numbers]:
            await store.subscribers.declare_many(
                target,
                chunk,
                group=group,
                password=password,
                routing_context=context,
                auth_mode=auth,
                qop_mode=qop,
                login=login,
            )
    for s in subscribers:
        for name, value in s.settings.items():
            await store.subscribers.set_setting(target, s.number, name, value)
    return len(subscribers)


async def _copy_rest(store: Any, source: str, target: str) -> None:
    for section in _SECTIONS:
        for name, value in (await store.kv.section(source, section)).items():
            await store.kv.set(target, section, name, value)
    for alias in await store.aliases.list(source):
        iface = alias.iface
        if iface.endswith(f"@{source}"):
            iface = iface[: -len(source)] + target
        await store.aliases.set(dataclasses.replace(alias, domain=target, iface=iface))
    for state in await store.services.info_many(source):
        if state.enabled:
            await store.services.enable(target, [state.number], sorted(state.enabled))
        for service, params in state.activated.items():
            await store.services.activate(target, state.number, service, dict(params))
    for profile in await store.media_profiles.list(source):
        await store.media_profiles.declare(
            target, profile.name, profile.codecs, dict(profile.properties)
        )
    for trunk in await store.trunks.list(source):
        await store.trunks.declare(dataclasses.replace(trunk, domain=target))


def register(registry: Registry) -> None:
    @registry.command(
        "/domain/copy",
        help="Declare a domain as a copy of another (subscribers, aliases, services, ...)",
        args=(
            Arg("source", Text(what="domain name"), "the domain to copy"),
            Arg("target", Text(what="domain name"), "the new domain"),
        ),
        http_name="domain_copy",
    )
    async def copy(ctx: CommandContext, args: Arguments) -> CommandResult:
        store = storage(ctx)
        source, target = args["source"], args["target"]
        if not await store.domains.exists(source):
            raise CommandError(f"domain {source!r} does not exist", cause="no_such_domain")
        domain = await store.domains.get(source)
        await store.domains.declare(target, domain.digitmap)
        try:
            count = await _copy_subscribers(store, source, target)
            await _copy_rest(store, source, target)
        except BaseException:
            await store.domains.remove(target)
            raise
        publish(ctx, "domain", target)
        return CommandResult(
            f"Domain {target} declared as a copy of {source} ({count} subscriber(s))"
        )
