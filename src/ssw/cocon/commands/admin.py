"""Console users and the audit log.

    /system/user/declare|list|remove|set-password ...
    /system/audit/list [<count>] [<user>]
"""

from __future__ import annotations

import datetime as dt

from ..alarms import Severity
from ..args import Arg, Integer, Text
from ..auth import DEFAULT_USER
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import services, storage, table

__all__ = [
    "DEFAULT_PASSWORD_ALARM",
    "refresh_default_password_alarm",
    "register",
]

DEFAULT_PASSWORD_ALARM = "default_password"
_ROLES = ("admin", "operator", "viewer")


async def refresh_default_password_alarm(ctx_services: object) -> None:
    """Raise or clear the default-password alarm from what the users table says."""
    from ..services import CoconServices

    assert isinstance(ctx_services, CoconServices)
    store = ctx_services.storage
    if store is None:
        return
    if await store.users.is_default_password(DEFAULT_USER):
        ctx_services.alarms.raise_alarm(
            DEFAULT_PASSWORD_ALARM,
            Severity.MAJOR,
            ctx_services.node_name,
            f"user {DEFAULT_USER} still has the default password",
            ctx_services.clock(),
        )
    else:
        ctx_services.alarms.clear(DEFAULT_PASSWORD_ALARM)


def _register_users(registry: Registry) -> None:
    user = Arg("user", Text(what="user name"), "the console user")
    password = Arg("password", Text(what="password"), "the password")

    @registry.command(
        "/system/user/declare",
        help="Declare a console user with a role (admin, operator, viewer)",
        args=(user, Arg("role", Text(what="role"), "admin, operator or viewer"), password),
        role=Role.ADMIN,
        http_name="user_declare",
    )
    async def declare(ctx: CommandContext, args: Arguments) -> CommandResult:
        users = storage(ctx).users
        role = args["role"]
        if role not in await users.roles():
            if role not in _ROLES:
                raise CommandError(
                    f"unknown role {role!r} ({', '.join(_ROLES)})", cause="invalid_value"
                )
            await users.declare_role(role, [role])
        await users.add(args["user"], args["password"], role)
        return CommandResult(f"User {args['user']} declared")

    @registry.command(
        "/system/user/list", help="List the console users", role=Role.ADMIN, http_name="user_list"
    )
    async def list_users(ctx: CommandContext, args: Arguments) -> CommandResult:
        found = await storage(ctx).users.list()
        rows = [
            (u.name, u.role, u.password_changed_at.strftime("%Y-%m-%d %H:%M:%S")) for u in found
        ]
        return CommandResult(
            table(("User", "Role", "Password changed (UTC)"), rows),
            [{"user": u.name, "role": u.role} for u in found],
        )

    @registry.command(
        "/system/user/remove",
        help="Remove a console user",
        args=(user,),
        role=Role.ADMIN,
        http_name="user_remove",
    )
    async def remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        if args["user"] == ctx.user:
            raise CommandError("you cannot remove yourself", cause="in_use")
        await storage(ctx).users.remove(args["user"])
        return CommandResult(f"User {args['user']} removed")

    @registry.command(
        "/system/user/set-password",
        help="Change a user's password (your own, or anyone's as admin)",
        args=(user, password),
        role=Role.VIEWER,
        http_name="user_set_password",
    )
    async def set_password(ctx: CommandContext, args: Arguments) -> CommandResult:
        if args["user"] != ctx.user and ctx.role < Role.ADMIN:
            raise CommandError(
                "only an admin may change another user's password", cause="permission_denied"
            )
        await storage(ctx).users.set_password(args["user"], args["password"])
        await refresh_default_password_alarm(services(ctx))
        return CommandResult(f"Password of {args['user']} changed")


def _register_audit(registry: Registry) -> None:
    @registry.command(
        "/system/audit/list",
        help="The newest audit records (every command from every front end)",
        args=(
            Arg(
                "count",
                Integer(minimum=1, maximum=10_000),
                "how many (50)",
                optional=True,
                default=50,
            ),
            Arg("user", Text(what="user name"), "only this user's commands", optional=True),
        ),
        role=Role.ADMIN,
        http_name="audit_list",
        audit=False,
    )
    async def audit_list(ctx: CommandContext, args: Arguments) -> CommandResult:
        entries = await storage(ctx).audit.list(limit=args["count"], user=args.get("user"))
        rows = [
            (
                e.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                e.user,
                e.front_end,
                e.source,
                e.result if not e.success else "ok",
                e.command,
            )
            for e in entries
        ]
        data = [
            {
                "at": e.at.isoformat(),
                "user": e.user,
                "front_end": e.front_end,
                "source": e.source,
                "command": e.command,
                "result": e.result,
            }
            for e in entries
        ]
        if not rows:
            return CommandResult("No audit records", data)
        header = ("Time (UTC)", "User", "Front end", "Source", "Result", "Command")
        return CommandResult(table(header, rows), data)


def register(registry: Registry) -> None:
    _register_users(registry)
    _register_audit(registry)
