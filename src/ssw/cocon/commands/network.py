"""Domain SIP network and trace properties, and the supplementary-service access list.

    /domain/<D>/sip/network/set listen_ports list [5064]
    /domain/<D>/sip/network/info share_set
    /domain/<D>/trace/properties/set mode full_compressed
    /cluster/storage/ds1/ss/access-list add <D> *          (also: remove, info)

Network and trace values are kept as typed (the SIP adapter and the tracer read them). The
access list names the services a domain may use; while a domain has none, every service is
allowed, and `ss/enable` refuses services outside a domain's list.
"""

from __future__ import annotations

from ..args import Arg, Choice, RawText, Text, Words
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import domain_of, format_value, publish, register_set_clean_info, storage, table

__all__ = ["ACCESS_KEY", "ACCESS_SECTION", "allowed_services", "register"]

ACCESS_SECTION = "ss_access"
ACCESS_KEY = "allowed"
_RAW_FAMILIES = (
    ("/domain/<D>/sip/network", "sip_network", "SIP network property"),
    ("/domain/<D>/trace/properties", "trace", "trace property"),
)


async def allowed_services(ctx: CommandContext, domain: str) -> frozenset[str] | None:
    """The services `domain` may use, or None when it has no access list (all allowed)."""
    value = await storage(ctx).kv.get(domain, ACCESS_SECTION, ACCESS_KEY)
    if not value:
        return None
    names = frozenset(str(value).split(","))
    return None if "*" in names else names


def _register_raw(registry: Registry, directory: str, section: str, what: str) -> None:
    async def set_value(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        await storage(ctx).kv.set(domain, section, args["name"], args["value"])
        publish(ctx, section, domain, [args["name"]])
        return CommandResult(f"successfully changed: {args['name']} = {args['value']}")

    async def clean(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        await storage(ctx).kv.clean(domain, section, args["name"])
        publish(ctx, section, domain, [args["name"]])
        return CommandResult(f"successfully cleaned: {args['name']}")

    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        values = await storage(ctx).kv.section(domain, section)
        name = args.get("name")
        names = [name] if name else sorted(values)
        if not names:
            return CommandResult(f"No {what}s set", values)
        rows = [(n, format_value(values[n]) if n in values else "(not set)") for n in names]
        return CommandResult(table(("Name", "Value"), rows), values)

    name = Arg("name", Text(pattern=r"[A-Za-z0-9_.\-]{1,64}", what=f"{what} name"), "the name")
    register_set_clean_info(
        registry,
        directory,
        handlers=(set_value, clean, info),
        helps=(
            f"Set a {what} of the domain (the value as typed, to the end of the line)",
            f"Remove a {what} of the domain",
            f"Show the {what}s of the domain, or one of them",
        ),
        name=name,
        value=Arg("value", RawText(), "the value"),
        info_args=(Arg("name", name.kind, "the name", optional=True),),
    )


def _register_access_list(registry: Registry) -> None:
    @registry.command(
        "/cluster/storage/<CLUSTER>/ss/access-list",
        help="Allow supplementary services to a domain (add), take them back (remove), or show",
        args=(
            Arg("action", Choice(("add", "remove", "info")), "add, remove or info"),
            Arg("domain", Text(what="domain name"), "the domain", optional=True),
            Arg("services", Words(), "service names, or *", optional=True, default=()),
        ),
        role=Role.ADMIN,
        http_name="ss_access_list",
    )
    async def access_list(ctx: CommandContext, args: Arguments) -> CommandResult:
        from .ss import service_name

        store = storage(ctx)
        domains = [d.name for d in await store.domains.list()]
        domain = args.get("domain")
        if domain is not None and domain not in domains:
            raise CommandError(f"domain {domain!r} does not exist", cause="no_such_domain")
        if args["action"] == "info":
            rows = []
            for name in [domain] if domain else domains:
                value = await store.kv.get(name, ACCESS_SECTION, ACCESS_KEY)
                rows.append((name, value or "* (no list)"))
            return CommandResult(table(("Domain", "Allowed services"), rows), dict(rows))
        if domain is None or not args["services"]:
            raise CommandError("give the domain and the services (or *)", cause="invalid_arguments")
        wanted = args["services"]
        names = {"*"} if wanted == ("*",) else {service_name(s) for s in wanted}
        current = set(
            filter(
                None, str(await store.kv.get(domain, ACCESS_SECTION, ACCESS_KEY) or "").split(",")
            )
        )
        if args["action"] == "add":
            current |= names
        else:
            current -= names
        if current:
            await store.kv.set(domain, ACCESS_SECTION, ACCESS_KEY, ",".join(sorted(current)))
        else:
            await store.kv.clean(domain, ACCESS_SECTION, ACCESS_KEY)
        publish(ctx, "ss_access", domain)
        shown = ", ".join(sorted(current)) or "none"
        return CommandResult(f"successfully changed: services allowed to {domain}: {shown}")


def register(registry: Registry) -> None:
    for directory, section, what in _RAW_FAMILIES:
        _register_raw(registry, directory, section, what)
    _register_access_list(registry)
