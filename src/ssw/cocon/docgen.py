"""Generate docs/COCON.md, the command reference, from the registry (so it cannot drift).

    python -m ssw.cocon.docgen > docs/COCON.md

A test compares the committed file with this output.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from .commands import build_registry
from .errors import COMMAND_ERROR, INVALID_ARGUMENTS, NO_SUCH_COMMAND
from .registry import Command, Registry
from .session import CONFIRM_PROMPT

__all__ = ["main", "render"]

_INTRO = f"""\
# CoCon command reference

Generated from the command registry by `python -m ssw.cocon.docgen > docs/COCON.md`; do not
edit by hand. The same commands are served by the SSH console (port 8023), the local CLI
(`ssw cocon`), and the http_terminal (port 9999, `POST /commands/<http name>` with the
arguments as XML attributes; a `<D>` placeholder is given as `domain`).

## Conventions

- Paths: the leading `/` is optional; `cd`, `ls`, `..`, relative paths; `help <path>`.
- `<D>` is a domain, `<CLUSTER>` a storage cluster (`ds1`). Segments starting with `.` are hidden.
- Ranges `{{2001-2020}}`, `20{{01-20}}`, lists `[a,b]`, `*` for all, `name = value, ...` lists;
  property names may contain backslashes (`ss\\mgm\\telephone`).
- Commands marked *asks for confirmation* print `{CONFIRM_PROMPT}` unless given `--force`.
- `sleep <seconds>` and `exit` are commands too.
- Errors: `{NO_SUCH_COMMAND}`, `{INVALID_ARGUMENTS}` (then the reason and the usage),
  `{COMMAND_ERROR}: <reason>`.
"""


def _section(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("<")]
    if parts[:1] == ["domain"] and len(parts) > 2:
        return "/domain/<D>/" + parts[1]
    return "/" + parts[0] if parts else "/"


def _command(command: Command) -> list[str]:
    lines = [f"### `{command.path}`", "", command.help + ".", ""]
    lines.append(f"    {command.usage()}")
    lines.append("")
    facts = [f"role: {command.role.name.lower()}"]
    if command.confirm:
        facts.append("asks for confirmation")
    if command.hidden:
        facts.append("hidden")
    if command.http_name:
        facts.append(f"http_terminal: `{command.http_name}`")
    lines.append("*" + "; ".join(facts) + "*")
    lines.append("")
    if command.args or command.flags:
        lines.append("| argument | accepts | meaning |")
        lines.append("|---|---|---|")
        for arg in command.args:
            optional = " (optional)" if arg.optional else ""
            lines.append(f"| `{arg.usage()}` | {_cell(arg.kind.describe())}{optional} "
                         f"| {_cell(arg.help)} |")
        for flag in command.flags:
            lines.append(f"| `--{flag.name}` | flag | {_cell(flag.help)} |")
        lines.append("")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(registry: Registry | None = None, commands: Iterable[Command] | None = None) -> str:
    registry = registry or build_registry(_extra())
    listed = list(commands) if commands is not None else list(registry)
    sections: dict[str, list[Command]] = {}
    for command in listed:
        sections.setdefault(_section(command.path), []).append(command)
    lines = [_INTRO]
    # top-level directories first, then the families under /domain/<D>
    for section in sorted(sections, key=lambda name: (name.count("/"), name)):
        lines.append(f"## {section}")
        lines.append("")
        for command in sections[section]:
            lines.extend(_command(command))
    return "\n".join(lines).rstrip() + "\n"


def _extra() -> tuple[Callable[[Registry], None], ...]:
    try:
        from ssw.licence.commands import register
    except ImportError:
        return ()
    return (register,)


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
