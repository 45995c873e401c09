"""The licence commands in the CoCon registry: ``/cluster/storage/<CLUSTER>/licence/...``.

Paths and forms are the seed's ("Запуск и активация системы"): set the passport first, then add
the licence, then check ``current-limits``::

    /cluster/storage/<CLUSTER>/licence/set-passport <PASSPORT>
    /cluster/storage/<CLUSTER>/licence/add [--force|--no-diff] <LICENCE>
    /cluster/storage/<CLUSTER>/licence/current-limits

plus ``list``, ``remove <ID> [--force]`` and ``token`` (the token's slots, as ``pkcs11-tool -L``).
Handlers find the `LicenceService` as ``ctx.services.licence``; the text comes from
`ssw.licence.console`. A refused passport or licence is ``Command error: <why>`` with the
refusal's cause (``bad_signature``, ``wrong_hostname``, ...) for the http_terminal.
"""

from __future__ import annotations

from collections.abc import Awaitable

from ssw.cocon.alarms import AlarmBoard, Severity
from ssw.cocon.args import Arg, Flag, Text
from ssw.cocon.errors import CommandError
from ssw.cocon.registry import Arguments, CommandContext, CommandResult, Registry, Role

from . import console
from .formats import LicenceError
from .manager import LicenceManager
from .service import LicenceService
from .token import Pkcs11Token

__all__ = ["ALARM_PREFIX", "LICENCE_DIR", "publish_alarms", "register"]

LICENCE_DIR = "/cluster/storage/<CLUSTER>/licence"
_SEVERITY = {
    "critical": Severity.CRITICAL,
    "major": Severity.MAJOR,
    "minor": Severity.MINOR,
    "warning": Severity.WARNING,
}
ALARM_PREFIX = "licence_"


def _licence(ctx: CommandContext, args: Arguments) -> LicenceService:
    """The licence service of this switch, after checking the storage cluster name."""
    cluster = args.path.get("CLUSTER", "")
    view = getattr(ctx.services, "cluster", None)
    if view is not None:
        known = sorted({node.role for node in view.nodes() if node.role.startswith("ds")})
        if known and cluster not in known:
            raise CommandError(
                f"no storage cluster {cluster!r} (storage clusters: {', '.join(known)})",
                cause="no_such_cluster",
            )
    service = getattr(ctx.services, "licence", None)
    if not isinstance(service, LicenceService):
        raise CommandError("licensing is not available on this node", cause="not_available")
    return service


async def _unless_refused(step: Awaitable[str]) -> str:
    """The text of a console step; a refused passport or licence becomes a command error
    carrying the refusal's cause."""
    try:
        return await step
    except LicenceError as exc:
        raise CommandError(str(exc), cause=exc.cause) from None


def register(registry: Registry) -> None:
    blob_help = "the text of the file, on one line"

    @registry.command(
        f"{LICENCE_DIR}/set-passport",
        help="Set the passport of the licence token (before any licence)",
        args=(Arg("passport", Text(metavar="PASSPORT", what="passport"), help=blob_help),),
        role=Role.ADMIN,
        http_name="licence_set_passport",
    )
    async def set_passport(ctx: CommandContext, args: Arguments) -> CommandResult:
        service = _licence(ctx, args)
        text = await _unless_refused(console.set_passport(service, args["passport"]))
        return CommandResult(text, {"ssw_id": service.manager.passport.ssw_id}
                             if service.manager.passport else None)

    @registry.command(
        f"{LICENCE_DIR}/add",
        help="Add a licence: shows current and new limits and asks unless --force",
        args=(Arg("licence", Text(metavar="LICENCE", what="licence"), help=blob_help),),
        flags=(
            Flag("force", "do not ask for confirmation"),
            Flag("no-diff", "do not print the table of current and new limits"),
        ),
        role=Role.ADMIN,
        http_name="licence_add",
    )
    async def add(ctx: CommandContext, args: Arguments) -> CommandResult:
        service = _licence(ctx, args)
        step = console.add_licence(
            service,
            args["licence"],
            force=args.flag("force"),
            no_diff=args.flag("no-diff"),
            confirm=ctx.confirm,
        )
        return CommandResult(await _unless_refused(step))

    @registry.command(
        f"{LICENCE_DIR}/current-limits",
        help="Show the licence limits in force and how much of each is in use",
        role=Role.VIEWER,
        http_name="licence_current_limits",
    )
    async def current_limits(ctx: CommandContext, args: Arguments) -> CommandResult:
        service = _licence(ctx, args)
        limits = service.manager.current()
        data = {
            "edition": limits.edition,
            "reason": limits.reason,
            "limits": dict(limits.values),
            "in_use": dict(service.manager.usage()),
        }
        return CommandResult(console.current_limits(service), data)

    @registry.command(
        f"{LICENCE_DIR}/list",
        help="List the passport and the installed licences with their state",
        role=Role.VIEWER,
        http_name="licence_list",
    )
    async def list_(ctx: CommandContext, args: Arguments) -> CommandResult:
        return CommandResult(console.list_licences(_licence(ctx, args)))

    @registry.command(
        f"{LICENCE_DIR}/remove",
        help="Remove an installed licence (its ID is shown by list)",
        args=(Arg("id", Text(metavar="ID", what="licence id", pattern="[0-9a-f]{12}")),),
        flags=(Flag("force", "do not ask for confirmation"),),
        role=Role.ADMIN,
        http_name="licence_remove",
    )
    async def remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        service = _licence(ctx, args)
        step = console.remove_licence(
            service, args["id"], force=args.flag("force"), confirm=ctx.confirm
        )
        return CommandResult(await _unless_refused(step))

    @registry.command(
        f"{LICENCE_DIR}/token",
        help="Show the slots and tokens of the PKCS#11 module (as pkcs11-tool -L)",
        role=Role.VIEWER,
        http_name="licence_token",
    )
    async def token(ctx: CommandContext, args: Arguments) -> CommandResult:
        service = _licence(ctx, args)
        module = service.token if isinstance(service.token, Pkcs11Token) else None
        return CommandResult(console.token_slots(module))


def publish_alarms(manager: LicenceManager, board: AlarmBoard, node: str, now: float) -> None:
    """Mirror the manager's licensing alarms on the mediator's alarm board (raise and clear)."""
    active = {alarm.key: alarm for alarm in manager.alarms()}
    for shown in board.active():
        if shown.key.startswith(ALARM_PREFIX) and shown.key not in active:
            board.clear(shown.key)
    for key, alarm in active.items():
        board.raise_alarm(key, _SEVERITY[alarm.severity], node, alarm.text, min(alarm.since, now))
