"""Node and system commands: `node/check-services`, `node/nodes-info`, `system-status`,
`/cluster/mediator/md1/alarms/list` (SPEC §5, §10)."""

from __future__ import annotations

import datetime as dt
import platform

from ssw import __version__

from ..cluster import render_check_services, render_nodes_info
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import aligned_fields, services

__all__ = ["register"]


def _utc(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{days}d {hours:02}:{minutes:02}:{seconds:02}"


def register(registry: Registry) -> None:
    @registry.command(
        "/node/check-services",
        help="List every node of every server and whether all services are started",
        role=Role.VIEWER,
        http_name="check_services",
    )
    async def check_services(ctx: CommandContext, args: Arguments) -> CommandResult:
        nodes = list(services(ctx).cluster.nodes())
        data = [{"node": node.name, "running": node.running} for node in nodes]
        return CommandResult(render_check_services(nodes), data)

    @registry.command(
        "/node/nodes-info",
        help="Table of the nodes, the cluster members each sees and its storage replicas",
        role=Role.VIEWER,
        http_name="nodes_info",
    )
    async def nodes_info(ctx: CommandContext, args: Arguments) -> CommandResult:
        nodes = list(services(ctx).cluster.nodes())
        data = [
            {"node": node.name, "sees": list(node.sees), "replicas": list(node.replicas or ())}
            for node in nodes
        ]
        return CommandResult(render_nodes_info(nodes), data)

    @registry.command(
        "/system-status",
        help="Version, uptime, nodes and active alarms of this switch",
        role=Role.VIEWER,
        http_name="system_status",
    )
    async def system_status(ctx: CommandContext, args: Arguments) -> CommandResult:
        switch = services(ctx)
        now = switch.clock()
        nodes = list(switch.cluster.nodes())
        running = sum(1 for node in nodes if node.running)
        alarms = switch.alarms.active()
        rows = [
            ("Version", f"SSW {__version__} (Python {platform.python_version()})"),
            ("Node", switch.node_name),
            ("Time", f"{_utc(now)} UTC"),
            ("Uptime", _duration(now - switch.started_at)),
            ("Nodes", f"{running} of {len(nodes)} running"),
            ("Active alarms", str(len(alarms))),
        ]
        return CommandResult(aligned_fields(rows), dict(rows))

    @registry.command(
        "/cluster/mediator/md1/alarms/list",
        help="The active alarms, most severe first",
        role=Role.VIEWER,
        http_name="alarms_list",
    )
    async def alarms_list(ctx: CommandContext, args: Arguments) -> CommandResult:
        alarms = services(ctx).alarms.active()
        if not alarms:
            return CommandResult("No active alarms", [])
        header = ("Since (UTC)", "Severity", "Node", "Alarm", "Text")
        rows = [
            (_utc(a.since), a.severity.name.lower(), a.node, a.key, a.text) for a in alarms
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
            + "  "
            + row[4]
            for row in [header, *rows]
        ]
        data = [{"key": a.key, "severity": a.severity.name.lower(), "text": a.text} for a in alarms]
        return CommandResult("\n".join(lines), data)
