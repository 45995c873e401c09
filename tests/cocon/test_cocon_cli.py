"""`ssw cocon -c ...` and commands on stdin give the SSH console's output and exit statuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = "domain/declare pv.ssw3\ndomain/list\n"


def _cocon(data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "ssw.cli",
        "cocon",
        "--data-dir",
        str(data),
        "--hostname",
        "ecss1",
        *args,
    ]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_command_and_stdin_give_the_same_output(tmp_path: Path) -> None:
    by_option = _cocon(tmp_path / "a", "-c", SCRIPT)
    by_stdin = _cocon(tmp_path / "b", stdin=SCRIPT)
    assert by_option.returncode == by_stdin.returncode == 0, by_option.stderr
    assert (
        by_option.stdout
        == by_stdin.stdout
        == ("Domain pv.ssw3 declared\nDomain   Subscribers\npv.ssw3  0\n")
    )
    failed = _cocon(tmp_path / "a", "-c", "domain/declare pv.ssw3")
    assert failed.returncode == 1
    assert failed.stdout == "Command error: domain 'pv.ssw3' already exists\n"
    audit = _cocon(tmp_path / "a", "-c", "/system/audit/list 3")
    assert "cli" in audit.stdout and "local" in audit.stdout
