"""CoCon as one object for the composition root: the SSH console and the http_terminal.

    server = CoconServer(CoconConfig(ssh_port=8023, http_port=9999, host_key_path=...),
                         storage, licence=licence_service, extra_commands=(licence_register,))
    await server.start()   # listening; default-password alarm raised if needed
    ...
    await server.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from .adapters import StorageAudit, StorageUsers
from .alarms import AlarmBoard
from .auth import LoginGuard
from .cluster import ClusterView, StaticCluster
from .commands import build_registry
from .commands.admin import refresh_default_password_alarm
from .console import Console
from .executor import Executor
from .http_terminal import HttpTerminal
from .registry import Registry
from .services import ChangeHub, CoconServices
from .session import Identity
from .ssh import SshConsoleServer, load_host_key

__all__ = ["CoconConfig", "CoconServer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoconConfig:
    """Where and how the console listens. Port 0 picks a free port (tests)."""

    address: str = "127.0.0.1"
    ssh_port: int = 8023  # SPEC §2: CoCon
    http_port: int = 9999  # SPEC §2: http_terminal
    host_key_path: Path | None = None  # generated there when missing; None: a new key per start
    node: str = "mycelium1"
    host: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    enable_ssh: bool = True
    enable_http: bool = True
    max_login_failures: int = 5
    login_window: float = 60.0
    login_lockout: float = 60.0


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the composition root owns signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class CoconServer:
    def __init__(
        self,
        config: CoconConfig,
        storage: Any,
        *,
        licence: Any = None,
        alarms: AlarmBoard | None = None,
        cluster: ClusterView | None = None,
        changes: ChangeHub | None = None,
        extra_commands: Iterable[Callable[[Registry], None]] = (),
        registry: Registry | None = None,
    ) -> None:
        self.config = config
        identity = Identity(config.node, config.host)
        self.services = CoconServices(
            storage=storage,
            identity=identity,
            cluster=cluster or StaticCluster([config.host]),
            alarms=alarms or AlarmBoard(),
            changes=changes or ChangeHub(),
            licence=licence,
        )
        self.registry = registry or build_registry(extra_commands)
        guard = LoginGuard(config.max_login_failures, config.login_window, config.login_lockout)
        self.console = Console(
            self.registry,
            self.services,
            Executor(StorageAudit(storage)),
            StorageUsers(storage),
            guard,
        )
        self._ssh: SshConsoleServer | None = None
        self._http: _QuietServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._terminal = HttpTerminal(self.console)

    @property
    def ssh_port(self) -> int:
        return self._ssh.port if self._ssh is not None else self.config.ssh_port

    @property
    def http_port(self) -> int:
        if self._http is not None and self._http.servers:
            return int(self._http.servers[0].sockets[0].getsockname()[1])
        return self.config.http_port

    async def start(self) -> None:
        await refresh_default_password_alarm(self.services)
        try:
            if self.config.enable_ssh:
                key = await asyncio.to_thread(load_host_key, self.config.host_key_path)
                self._ssh = SshConsoleServer(
                    self.console, self.config.address, self.config.ssh_port, key
                )
                await self._ssh.start()
            if self.config.enable_http:
                await self._start_http()
        except BaseException:
            await self.stop()
            raise
        log.info("CoCon listening: ssh %s:%s, http_terminal %s:%s", self.config.address,
                 self.ssh_port, self.config.address, self.http_port)

    async def _start_http(self) -> None:
        config = uvicorn.Config(
            self._terminal.app(),
            host=self.config.address,
            port=self.config.http_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._http = _QuietServer(config)
        self._http_task = asyncio.create_task(self._http.serve())
        while not self._http.started:
            if self._http_task.done():
                with contextlib.suppress(SystemExit):
                    self._http_task.result()
                raise OSError(f"http_terminal could not listen on port {self.config.http_port}")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._ssh is not None:
            await self._ssh.stop()
            self._ssh = None
        await self._terminal.close()
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            with contextlib.suppress(BaseException):
                await self._http_task
        self._http = None
        self._http_task = None
