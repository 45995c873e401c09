"""The readiness port (SPEC §2: TCP 65535): open only while the switch takes calls.

keepalived's check connects to it; closing it first when draining moves the virtual address
to the other server before calls are refused here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

__all__ = ["ReadinessPort"]

logger = logging.getLogger(__name__)


class ReadinessPort:
    def __init__(self, address: str, port: int | None) -> None:
        self.address = address
        self.port = port
        self._server: asyncio.Server | None = None

    @property
    def is_open(self) -> bool:
        return self._server is not None

    async def open(self) -> None:
        if self.port is None or self._server is not None:
            return
        self._server = await asyncio.start_server(self._accepted, self.address, self.port)
        logger.info("readiness port %s:%d open", self.address, self.port)

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        logger.info("readiness port closed")

    @staticmethod
    async def _accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
