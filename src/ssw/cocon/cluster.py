"""What `node/check-services` and `node/nodes-info` report, and their exact layouts (seed §5).

The layouts reproduce the seed's examples character for character:

    Nodes:
        core1@ecss1     core1@ecss2
    mycelium1@ecss1 mycelium1@ecss2

    All services are started

and the box-drawing table of `node/nodes-info` with the headers centred (extra space on the right).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "ClusterView",
    "NodeStatus",
    "StaticCluster",
    "render_check_services",
    "render_nodes_info",
]

#: the node roles of one ECSS-10 server, in the seed's order (SPEC §2)
ROLES = ("core1", "ds1", "md1", "mycelium1", "sip1")
#: roles whose node keeps a storage replica (the seed's "Mnesia" column)
STORAGE_ROLES = frozenset({"ds1", "md1", "sip1"})


@dataclass(frozen=True)
class NodeStatus:
    role: str  # "core1"
    host: str  # "ecss1"
    running: bool
    sees: tuple[str, ...]  # cluster members this node is connected to
    replicas: tuple[str, ...] | None  # storage replicas, None when the node keeps none

    @property
    def name(self) -> str:
        return f"{self.role}@{self.host}"


class ClusterView(Protocol):
    def nodes(self) -> Sequence[NodeStatus]: ...


class StaticCluster:
    """The nodes of one process per host, all running and connected (the all-in-one switch).

    The cluster subsystem replaces it with a live view; the layouts below do not change.
    """

    def __init__(self, hosts: Sequence[str]) -> None:
        if not hosts:
            raise ValueError("at least one host")
        self.hosts = tuple(hosts)

    def nodes(self) -> list[NodeStatus]:
        statuses: list[NodeStatus] = []
        for role in ROLES:
            members = tuple(f"{role}@{host}" for host in self.hosts)
            for host in self.hosts:
                replicas = members if role in STORAGE_ROLES else None
                statuses.append(NodeStatus(role, host, True, members, replicas))
        return statuses


def render_check_services(nodes: Sequence[NodeStatus]) -> str:
    """One line per role, one right-aligned column per host, then the overall verdict."""
    running = [node for node in nodes if node.running]
    hosts = sorted({node.host for node in nodes})
    roles = sorted({node.role for node in nodes})
    width = max((len(node.name) for node in running), default=0)
    lines = ["Nodes:"]
    present = {node.name for node in running}
    for role in roles:
        cells = [f"{role}@{host}" for host in hosts if f"{role}@{host}" in present]
        if cells:
            lines.append(" ".join(cell.rjust(width) for cell in cells))
    lines.append("")
    stopped = sorted(node.name for node in nodes if not node.running)
    if stopped:
        lines.append("Services are not started: " + ", ".join(stopped))
    else:
        lines.append("All services are started")
    return "\n".join(lines)


def _centre(text: str, width: int) -> str:
    left = (width - len(text)) // 2
    return " " * left + text + " " * (width - len(text) - left)


def render_nodes_info(nodes: Sequence[NodeStatus]) -> str:
    """The box-drawing table Node | Erlang | Mnesia."""
    headers = ("Node", "Erlang", "Mnesia")
    rows = [
        (
            node.name,
            ",".join(node.sees) if node.running else "not running",
            ",".join(node.replicas) if node.running and node.replicas else "not running",
        )
        for node in sorted(nodes, key=lambda status: status.name)
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(3)]
    top = "┌" + "┬".join("─" * w for w in widths) + "┐"
    middle = "├" + "┼".join("─" * w for w in widths) + "┤"
    bottom = "└" + "┴".join("─" * w for w in widths) + "┘"
    lines = [top, "│" + "│".join(_centre(h, w) for h, w in zip(headers, widths, strict=True)) + "│"]
    lines.append(middle)
    for row in rows:
        lines.append("│" + "│".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + "│")
    lines.append(bottom)
    return "\n".join(lines)
