"""Starting and stopping a media server process from a composition root (asyncio).

```python
server = await MediaServerProcess.start(config, control="unix:/run/ssw/media.sock")
client = await MediaClient.connect(server.control, on_event=...)
...
await server.stop()
```

The child is `python -m ssw.media.server` with the options of `config`; `start` returns once
it printed `ready <control address>`, so the address is known even with port 0.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable, Sequence

from ssw.media.config import EngineConfig

__all__ = ["MediaServerProcess", "server_command"]


def server_command(config: EngineConfig, control: str, *, extra: Sequence[str] = ()
                   ) -> list[str]:
    """The command line of a media server process built with `config`."""
    command = [sys.executable, "-m", "ssw.media.server", "--control", control,
               "--ports", f"{config.port_min}-{config.port_max}",
               "--data-dir", str(config.data_dir), "--address", config.address,
               "--rtp-timeout", str(config.rtp_timeout), "--node", config.node]
    if config.advertise:
        command += ["--advertise", config.advertise]
    if config.recordings_dir:
        command += ["--recordings-dir", str(config.recordings_dir)]
    return [*command, *extra]


PR_SET_PDEATHSIG = 1  # prctl(2)


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when its parent dies (prctl(2)
    PR_SET_PDEATHSIG), so a switch killed with SIGKILL leaves no media server behind."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)

    def hook() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)

    return hook


class MediaServerProcess:
    """A running media server child process and its control address."""

    def __init__(self, process: asyncio.subprocess.Process, control: str) -> None:
        self.process = process
        self.control = control

    @classmethod
    async def start(cls, config: EngineConfig, *, control: str = "tcp:127.0.0.1:0",
                    extra: Sequence[str] = (), timeout: float = 30.0,
                    die_with_parent: bool = False) -> MediaServerProcess:
        """Start the child and wait for its `ready` line; RuntimeError if it does not come.

        With `die_with_parent` the child is stopped by the kernel if this process dies.
        """
        hook = _die_with_parent() if die_with_parent else None
        process = await asyncio.create_subprocess_exec(
            *server_command(config, control, extra=extra), stdout=asyncio.subprocess.PIPE,
            preexec_fn=hook)
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout)
        except TimeoutError:
            line = b""
        ready = line.decode(errors="replace").split()
        if len(ready) != 2 or ready[0] != "ready":
            await cls(process, control).stop()
            raise RuntimeError(f"the media server did not start (exit status "
                               f"{process.returncode}); its log says why")
        return cls(process, ready[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; the exit status."""
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode
