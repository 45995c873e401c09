"""The media server process: the control socket in front of a `MediaEngine`.

`python -m ssw.media.server --control tcp:127.0.0.1:7070` (or `ssw media-server ...`, or
`unix:/run/ssw/media.sock`). It runs on uvloop when available, in its own process so RTP
never competes with SIP for a core. Each control connection may send requests at any time
(answers carry the request id) and receives the events of the relays and conferences it
created; when it is gone, events go to any other connected controller.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ssw.media.config import EngineConfig
from ssw.media.control import (
    MAX_LINE,
    ControlError,
    encode_event,
    encode_reply,
    parse_request,
)
from ssw.media.engine import MediaEngine
from ssw.media.resources.prompts import PromptError, ensure_prompts
from ssw.media.workers import WorkerPool

__all__ = ["ControlConnection", "MediaServer", "add_arguments", "config_from_args", "main"]

log = logging.getLogger("ssw.media.server")


class ControlConnection:
    """One controller (usually the call core) connected to the control socket."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.peer = writer.get_extra_info("peername")

    @property
    def open(self) -> bool:
        return not self.writer.is_closing()

    def write(self, data: bytes) -> None:
        if self.open:
            self.writer.write(data)


class MediaServer:
    """Serves the control protocol on `control` (tcp:HOST:PORT or unix:PATH)."""

    def __init__(self, config: EngineConfig, control: str, *, workers: int = 1,
                 generate_prompts: bool = False, prompt_language: str = "en") -> None:
        self.engine: MediaEngine | WorkerPool = (
            WorkerPool(config, workers, self._emit) if workers > 1
            else MediaEngine(config, self._emit))
        self.control = control
        self.generate_prompts = generate_prompts
        self.prompt_language = prompt_language
        self._prompts_task: asyncio.Task[None] | None = None
        self.connections: set[ControlConnection] = set()
        self._server: asyncio.AbstractServer | None = None
        self.bound: str = control

    async def start(self) -> None:
        kind, _, where = self.control.partition(":")
        if kind not in ("unix", "tcp"):
            raise ValueError(f"control endpoint {self.control!r}: use tcp:HOST:PORT or "
                             "unix:PATH")
        await self.engine.start()
        if kind == "unix":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(where)
            self._server = await asyncio.start_unix_server(self._serve, path=where,
                                                           limit=MAX_LINE + 2)
        elif kind == "tcp":
            host, _, port = where.rpartition(":")
            self._server = await asyncio.start_server(self._serve, host.strip("[]"), int(port),
                                                      limit=MAX_LINE + 2)
            sockname = self._server.sockets[0].getsockname()
            self.bound = f"tcp:{sockname[0]}:{sockname[1]}"
        if self.generate_prompts:
            self._prompts_task = asyncio.get_running_loop().create_task(self._first_run())
        log.info("media server %s: control on %s, RTP ports %d-%d on %s",
                 self.engine.config.node, self.bound, self.engine.config.port_min,
                 self.engine.config.port_max, self.engine.config.address)

    async def _first_run(self) -> None:
        """Generate missing system prompts (espeak-ng) off the event loop."""
        try:
            made = await asyncio.to_thread(ensure_prompts, self.engine.config.data_dir,
                                           language=self.prompt_language)
        except PromptError as exc:
            log.warning("system prompts not generated: %s", exc)
            return
        for path in made:
            log.info("generated system prompt %s", path)

    async def stop(self) -> None:
        if self._prompts_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._prompts_task
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.writer.close()
        await self.engine.stop()

    def _emit(self, owner: Any, name: str, fields: dict[str, Any]) -> None:
        data = encode_event(name, **fields)
        target = owner if isinstance(owner, ControlConnection) and owner.open else next(
            (c for c in self.connections if c.open), None)
        if target is None:
            log.warning("event %s %s lost: no controller connected", name, fields)
            return
        target.write(data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = ControlConnection(writer)
        self.connections.add(connection)
        log.info("controller connected from %s", connection.peer)
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError:
                    break
                except asyncio.LimitOverrunError:
                    connection.write(encode_reply(None, error=f"request longer than {MAX_LINE} "
                                                  "octets; connection closed"))
                    break
                if line.strip():
                    connection.write(await self._answer(line, connection))
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.connections.discard(connection)
            writer.close()
            log.info("controller %s disconnected", connection.peer)

    async def _answer(self, line: bytes, connection: ControlConnection) -> bytes:
        request_id = None
        try:
            request = parse_request(line)
            request_id = request.id
            result = await self.engine.execute(request.command, request.params, connection)
            return encode_reply(request_id, result)
        except ControlError as exc:
            log.info("refused request: %s", exc)
            return encode_reply(request_id if request_id is not None else exc.request_id,
                                error=str(exc))
        except Exception as exc:  # a bug must not kill the server nor the other calls
            log.exception("request failed: %r", line[:200])
            return encode_reply(request_id, error=f"internal error: {exc}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--control", default="tcp:127.0.0.1:7070",
                        help="control socket: tcp:HOST:PORT or unix:PATH (tcp:127.0.0.1:7070)")
    parser.add_argument("--data-dir", type=Path, default=Path("./data"),
                        help="data directory: prompts in media/prompts, recordings in "
                             "restfs/recordings")
    parser.add_argument("--address", default="127.0.0.1", help="IP address for RTP sockets")
    parser.add_argument("--advertise", default=None,
                        help="address to put in SDP when it differs from --address")
    parser.add_argument("--ports", default="20000-29999", help="RTP port range (even/odd pairs)")
    parser.add_argument("--rtp-timeout", type=float, default=30.0,
                        help="seconds without RTP before a call is released (0: never)")
    parser.add_argument("--recordings-dir", type=Path, default=None,
                        help="where recordings go (default <data-dir>/restfs/recordings)")
    parser.add_argument("--node", default="msr1", help="node name shown in logs and stats")
    parser.add_argument("--prompts", choices=("generate", "skip"), default="generate",
                        help="generate missing system prompts with espeak-ng at start "
                             "(default) or skip")
    parser.add_argument("--prompt-language", default="en", help="en or ru")
    parser.add_argument("--workers", type=int, default=1,
                        help="media worker processes (default 1: relay in this process); "
                             "more spread calls over cores, each with a slice of --ports")
    parser.add_argument("--realtime", type=int, default=0, metavar="PRIORITY",
                        help="run under SCHED_FIFO at this priority (1-99; needs "
                             "CAP_SYS_NICE), so RTP is not delayed by other work; 0: off")
    parser.add_argument("--log-level", default="INFO")


def config_from_args(args: argparse.Namespace) -> EngineConfig:
    low, _, high = str(args.ports).partition("-")
    try:
        port_min, port_max = int(low), int(high)
    except ValueError:
        raise SystemExit(f"--ports {args.ports!r}: expected LOW-HIGH, e.g. 20000-29999") from None
    if not 1024 <= port_min < port_max <= 65535:
        raise SystemExit(f"--ports {args.ports!r}: need 1024 <= LOW < HIGH <= 65535")
    return EngineConfig(data_dir=args.data_dir, address=args.address, advertise=args.advertise,
                        port_min=port_min, port_max=port_max, rtp_timeout=args.rtp_timeout,
                        recordings_dir=args.recordings_dir, node=args.node)


async def serve(config: EngineConfig, control: str, *, workers: int = 1,
                generate_prompts: bool = False, prompt_language: str = "en") -> None:
    """Run until SIGTERM/SIGINT."""
    server = MediaServer(config, control, workers=workers, generate_prompts=generate_prompts,
                         prompt_language=prompt_language)
    await server.start()
    print(f"ready {server.bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def use_realtime(priority: int) -> None:
    """SCHED_FIFO for this process (the worker processes inherit it), as rtpengine's
    --scheduling=fifo; refused without privilege, which is logged and otherwise ignored."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (OSError, ValueError) as exc:
        log.warning("real-time scheduling (priority %d) refused: %s; running as usual",
                    priority, exc)
    else:
        log.info("running under SCHED_FIFO priority %d", priority)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = config_from_args(args)
    if args.realtime:
        use_realtime(args.realtime)
    main_coroutine = serve(config, args.control, workers=max(1, args.workers),
                           generate_prompts=args.prompts == "generate",
                           prompt_language=args.prompt_language)
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_coroutine)
    else:
        uvloop.run(main_coroutine)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ssw.media.server",
                                     description="The SSW media server (RTP relay, tones, "
                                                 "recording, conferences).")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
