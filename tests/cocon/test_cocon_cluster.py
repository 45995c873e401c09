"""node/check-services and node/nodes-info reproduce the seed's examples character for character."""

from __future__ import annotations

from pathlib import Path

from ssw.cocon.cluster import NodeStatus, StaticCluster, render_check_services, render_nodes_info

PROMPT = "admin@mycelium1@ecss1:/$ "


def _seed_block(shared_dir: Path, command: str, length: int) -> list[str]:
    lines = (shared_dir / "seed" / "000_7c636551ea5418d7.txt").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(PROMPT + command))
    return lines[start + 1 : start + 1 + length]


def test_check_services_matches_the_seed(shared_dir: Path) -> None:
    rendered = render_check_services(StaticCluster(["ecss1", "ecss2"]).nodes())
    expected = _seed_block(shared_dir, "node/check-services", len(rendered.splitlines()))
    assert rendered.splitlines() == expected
    assert expected[-1] == "All services are started"


def test_nodes_info_matches_the_seed(shared_dir: Path) -> None:
    rendered = render_nodes_info(StaticCluster(["ecss1", "ecss2"]).nodes())
    expected = _seed_block(shared_dir, "node/nodes-info", len(rendered.splitlines()))
    assert rendered.splitlines() == expected
    assert expected[0].startswith("┌") and expected[-1].startswith("└")


def test_a_stopped_node_is_reported() -> None:
    nodes = [
        NodeStatus("core1", "ecss1", True, ("core1@ecss1",), None),
        NodeStatus("ds1", "ecss1", False, (), None),
    ]
    text = render_check_services(nodes)
    assert text.splitlines() == [
        "Nodes:",
        "core1@ecss1",
        "",
        "Services are not started: ds1@ecss1",
    ]
    table = render_nodes_info(nodes)
    assert "│ds1@ecss1  │not running│not running│" in table
