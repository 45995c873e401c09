"""Per-domain properties: SIP properties, SIP timers and core timers (SPEC §5, §6).

    /domain/<D>/sip/properties/set sip_transport udp_prefer
    /domain/<D>/sip/timer/set rfc4028_min_se 90        (also /domain/<D>/timers/sip/set)
    /domain/<D>/properties/timers/set no_answer_timeout 4

Each family also has `clean <name>` (back to the default) and `info` (effective values).
Known keys are typed and range-checked by the storage catalogue; a SIP timer the catalogue
does not know (e.g. `find_me`, which the QA suite sets to 3600) must be a whole number.
"""

from __future__ import annotations

from ..args import Arg, Text, Words
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry
from .common import domain_of, format_value, publish, register_set_clean_info, storage, table

__all__ = ["FAMILIES", "register"]

#: (command directory, storage section, what the values are)
FAMILIES = (
    ("/domain/<D>/sip/properties", "sip", "SIP property"),
    ("/domain/<D>/sip/timer", "sip_timers", "SIP timer"),
    ("/domain/<D>/timers/sip", "sip_timers", "SIP timer"),
    ("/domain/<D>/properties/timers", "timers", "core timer"),
    ("/domain/<D>/media/properties", "media", "media property"),
)


def _known(section: str) -> dict[str, object]:
    from ssw.storage.settings import PROPERTY_SECTIONS

    return dict(PROPERTY_SECTIONS.get(section, {}))


def _typed(section: str, name: str, words: tuple[str, ...]) -> object:
    value = " ".join(words)
    if name in _known(section) or section in ("sip", "media"):
        return value
    if not value.isdigit():
        raise CommandError(f"{name} takes a whole number of seconds, not {value!r}",
                           cause="invalid_value")
    return int(value)


def _register_family(registry: Registry, directory: str, section: str, what: str) -> None:
    async def set_value(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        name = args["name"]
        stored = await storage(ctx).kv.set(
            domain, section, name, _typed(section, name, args["value"])
        )
        publish(ctx, section, domain, [name])
        return CommandResult(f"successfully changed: {name} = {format_value(stored)}")

    async def clean(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        name = args["name"]
        await storage(ctx).kv.clean(domain, section, name)
        publish(ctx, section, domain, [name])
        default = _known(section).get(name)
        shown = format_value(getattr(default, "default", None)) if default else "-"
        return CommandResult(f"successfully cleaned: {name} (default {shown})")

    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        store = storage(ctx).kv
        effective = await store.effective(domain, section)
        explicit = await store.section(domain, section)
        rows = [
            (name, format_value(value), "set" if name in explicit else "default")
            for name, value in sorted(effective.items())
        ]
        if not rows:
            return CommandResult(f"No {what}s set", {})
        return CommandResult(table(("Name", "Value", ""), rows), effective)

    register_set_clean_info(
        registry,
        directory,
        handlers=(set_value, clean, info),
        helps=(
            f"Set a {what} of the domain",
            f"Return a {what} of the domain to its default",
            f"Show the {what}s of the domain (set and default)",
        ),
        name=Arg("name", Text(what=f"{what} name"), f"the {what}"),
        value=Arg("value", Words(), "the value"),
    )


def register(registry: Registry) -> None:
    for directory, section, what in FAMILIES:
        _register_family(registry, directory, section, what)
