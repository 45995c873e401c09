"""Endpoints on loopback for the transport tests, and a small client to drive them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from transport_support import StartEndpoint

from ssw.transport import EndpointConfig, SipEndpoint, TlsConfig, generate_self_signed


@pytest.fixture(scope="session")
def tls_config(tmp_path_factory: pytest.TempPathFactory) -> TlsConfig:
    """A self-signed certificate for 127.0.0.1, ::1 and localhost, trusted by itself."""
    directory: Path = tmp_path_factory.mktemp("ssl")
    return generate_self_signed(directory, ["localhost", "127.0.0.1", "::1"])


@pytest.fixture
async def start_endpoint(tls_config: TlsConfig) -> AsyncIterator[StartEndpoint]:
    """Start endpoints on free loopback ports; every one is stopped at teardown."""
    started: list[SipEndpoint] = []

    async def start(**overrides: object) -> SipEndpoint:
        settings: dict[str, object] = {
            "hosts": ("127.0.0.1",),
            "udp_port": 0,
            "tcp_port": 0,
            "tls_port": 0,
            "tls": tls_config,
        }
        settings.update(overrides)
        endpoint = SipEndpoint(EndpointConfig(**settings))  # type: ignore[arg-type]
        await endpoint.start()
        started.append(endpoint)
        return endpoint

    try:
        yield start
    finally:
        for endpoint in started:
            await endpoint.stop()
