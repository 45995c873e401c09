"""CoCon: the ECSS-10 command console, served over SSH (8023), the local CLI and the
http_terminal (9999), all from one command registry (SPEC §5).

Defining a command
------------------
A command is defined once, in a module that exposes ``register(registry)``::

    from ssw.cocon import Arg, Flag, Registry, Role, CommandContext, Arguments, CommandResult
    from ssw.cocon.args import Integer, UserAddresses, KeyValues
    from ssw.cocon.errors import CommandError

    def register(registry: Registry) -> None:
        @registry.command(
            "/cluster/storage/<CLUSTER>/licence/add",   # <NAME> segments are placeholders
            help="Add a licence key",                   # one line, shown by help and docs
            args=(Arg("licence", help="the licence text"),),
            flags=(Flag("force", "do not ask"), Flag("no-diff", "do not print the diff")),
            confirm=True,          # asks "Are you sure?: yes/no ?> " unless --force is given
            role=Role.ADMIN,       # VIEWER < OPERATOR (default) < ADMIN
            http_name="licence_add",  # optional: also POST /commands/licence_add
        )
        async def add(ctx: CommandContext, args: Arguments) -> CommandResult:
            cluster = args.path["CLUSTER"]      # placeholder values
            text = args["licence"]              # parsed argument values by name
            if args.flag("no-diff"): ...
            raise CommandError("why it failed", cause="licence_limit")  # -> "Command error: ..."
            return CommandResult("OK")          # text printed on the console

- Argument kinds (``ssw.cocon.args``): ``Text`` (default), ``Integer``, ``Boolean``, ``Choice``,
  ``Numbers`` (N, ranges ``{a-b}``, ``*``), ``UserAddresses`` (``N@D`` with ranges), ``ItemList``
  (``[a,b]``), and, last only, ``Words`` (the remaining words), ``KeyValues``
  (``name = value, ...``) and ``RawText`` (the rest of the line as typed).
- A segment starting with ``.`` hides the command from ``ls``/``help``/completion.
- ``ctx.services`` is a ``CoconServices`` (storage, alarms, cluster view, change hub, clock);
  ``ctx.user``, ``ctx.role``, ``ctx.source``, ``ctx.frontend`` say who runs it from where.
- Errors: raise ``CommandError(reason, cause=...)``; a ``ssw.storage.errors.StorageError`` is
  turned into one with its own cause. Every run is audited by the executor, never by handlers.

The full registry is ``ssw.cocon.commands.build_registry(extra=(licence_register, ...))``.
"""

from .args import Arg, Flag
from .errors import CommandError, InvalidArguments, NoSuchCommand
from .registry import Arguments, Command, CommandContext, CommandResult, Registry, Role

__all__ = [
    "Arg",
    "Arguments",
    "Command",
    "CommandContext",
    "CommandError",
    "CommandResult",
    "Flag",
    "InvalidArguments",
    "NoSuchCommand",
    "Registry",
    "Role",
]
