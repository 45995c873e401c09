"""The composition root: the whole switch in one process (`ssw run`).

Builds every part from one `SwitchConfig`, starts them in order (storage, licensing, SIP,
CoCon, the readiness port last) and stops them in reverse (the readiness port first, so a
keepalived check moves traffic away before calls are refused). Nothing else in the package
creates these objects; the parts get what they need as arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssw.app.adapters import StorageCdrSink, StorageSubscribers, location_listener
from ssw.app.clock import LoopClock
from ssw.app.media import MediaSettings, StorageMediaPolicy, SwitchMedia
from ssw.app.ready import ReadinessPort
from ssw.app.trunks import StorageTrunks
from ssw.cocon.alarms import AlarmBoard
from ssw.cocon.server import CoconConfig, CoconServer
from ssw.cocon.services import ChangeHub
from ssw.core.call.b2bua import B2bua, B2buaConfig
from ssw.core.call.cdr import CsvCdrWriter
from ssw.core.directory import Directory
from ssw.core.dispatch import Dispatcher
from ssw.core.keepalive import KeepAlive
from ssw.core.location import Locations
from ssw.core.registrar import Registrar, RegistrarConfig
from ssw.licence.commands import publish_alarms
from ssw.licence.commands import register as register_licence_commands
from ssw.licence.service import LicenceService, make_licence_service
from ssw.sip.address import Address
from ssw.sip.transaction import TransactionLayer
from ssw.storage import Storage
from ssw.transport import EndpointConfig, SipEndpoint, TlsConfig, generate_self_signed
from ssw.transport.loop import install_event_loop_policy, tune_garbage_collector

__all__ = ["Switch", "SwitchConfig", "run_switch"]

logger = logging.getLogger(__name__)

REGISTRATION_PURGE_INTERVAL = 30.0
KEEPALIVE_TICK = 0.5
#: how long a registration write waits for others to share its transaction (seconds): 20 ms
#: cost a 200 OK at most 16 ms more than 4 ms did, and saved 0.08 ms of CPU per registration
#: at 1000/s (fewer, larger batches)
REGISTRATION_GATHER_WINDOW = 0.020


@dataclass(frozen=True)
class SwitchConfig:
    """Everything `ssw run` can be told. A port of None turns that service off."""

    data_dir: Path
    address: str = "127.0.0.1"
    sip_port: int = 5060
    sip_tls_port: int | None = 5061
    ready_port: int | None = 65535
    cocon_port: int | None = 8023
    http_terminal_port: int | None = 9999
    database_url: str | None = None
    db_prefix: str = ""
    licence_issuer_keys: tuple[Path, ...] = ()
    pkcs11_module: str | None = None  # PKCS#11 library of the licence token (default: found)
    token_grace: float | None = None  # seconds a missing token is tolerated (default: config)
    hostname: str | None = None
    media: MediaSettings = field(default_factory=MediaSettings)  # the media server (SPEC §8)

    @property
    def host(self) -> str:
        return self.hostname or socket.gethostname().split(".")[0]


def _auth_secret(data_dir: Path) -> bytes:
    """The key of the stateless digest nonces, kept so that nonces survive a restart."""
    path = data_dir / "auth.secret"
    if path.exists():
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    secret = os.urandom(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(secret)
    tmp.chmod(0o600)
    tmp.replace(path)
    return secret


def _tls_config(config: SwitchConfig) -> TlsConfig | None:
    if config.sip_tls_port is None:
        return None
    cert_dir = config.data_dir / "ssl"
    tls = TlsConfig(cert_dir, verify_peer=False)
    if not tls.cert_path.exists() or not tls.key_path.exists():
        generated = generate_self_signed(cert_dir, [config.host, config.address])
        tls = TlsConfig(generated.cert_dir, generated.cert_name, generated.key_name,
                        verify_peer=False)
    return tls


class Switch:
    """The whole switch; `await start()` then `await stop()`."""

    def __init__(self, config: SwitchConfig) -> None:
        self.config = config
        self.storage: Storage | None = None
        self.endpoint: SipEndpoint | None = None
        self.cocon: CoconServer | None = None
        self.licence: LicenceService | None = None
        self.b2bua: B2bua | None = None
        self.ready = ReadinessPort(config.address, config.ready_port)
        self.alarms = AlarmBoard()  # the mediator's active alarms (md1)
        self.changes = ChangeHub()  # console changes, heard by the caches below
        self.locations: Locations | None = None
        self.media: SwitchMedia | None = None
        self._cdrs: StorageCdrSink | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background work failed", exc_info=task.exception())

    async def start(self) -> None:
        config = self.config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        clock = LoopClock(loop)
        storage = await Storage.open(config.database_url or config.data_dir,
                                     db_prefix=config.db_prefix)
        self.storage = storage
        try:
            await self._start_parts(storage, clock)
        except BaseException:
            await self.stop()
            raise
        await self.ready.open()
        logger.info("switch ready: SIP %s:%d", config.address, config.sip_port)

    async def _start_parts(self, storage: Storage, clock: LoopClock) -> None:
        config = self.config
        secret = _auth_secret(config.data_dir)
        alarms = self.alarms
        self.licence = make_licence_service(
            storage.licences, config.licence_issuer_keys, hostname=config.host,
            module_path=config.pkcs11_module, token_grace=config.token_grace,
            on_update=lambda manager, now: publish_alarms(manager, alarms, "md1", now),
        )
        await self.licence.start()
        if self.licence.manager.enabled:
            self._spawn(self.licence.run())

        cdr_dir = config.data_dir / "cdr"
        cdr_dir.mkdir(exist_ok=True)
        self._cdrs = StorageCdrSink(storage, CsvCdrWriter(lambda d: cdr_dir / f"{d}.csv"))
        self._cdrs.start()

        endpoint_config = EndpointConfig(
            hosts=(config.address,),
            udp_port=config.sip_port,
            tcp_port=config.sip_port,
            tls_port=config.sip_tls_port,
            tls=_tls_config(config),
        )
        # The B2BUA sends 100 Trying itself, after the digest check: a challenged INVITE gets
        # its 401 with no 100 before it, as ECSS-10 does.
        layer = TransactionLayer(timers=endpoint_config.timers, send_trying=False)
        endpoint = SipEndpoint(endpoint_config, layer=layer)
        self.endpoint = endpoint
        local = Address("udp", config.address, config.sip_port)
        directory = Directory(storage)
        self.changes.subscribe(directory.on_change)
        locations = Locations(storage.registrations, clock.now,
                              gather_window=REGISTRATION_GATHER_WINDOW)
        self.locations = locations
        loaded = await locations.load()
        logger.info("location service: %d registered subscriber(s) loaded", loaded)
        self.changes.subscribe(location_listener(locations, self._spawn))
        keepalive = KeepAlive(endpoint, locations, directory, local)
        self.changes.subscribe(keepalive.on_change)
        media_client = media_policy = None
        if config.media.enabled:
            media_policy = StorageMediaPolicy(storage, directory, clock.now)
            self.changes.subscribe(media_policy.on_change)
            self.media = SwitchMedia(config.media, config.data_dir, config.address)
            media_client = await self.media.start(self._on_media_event)
        trunks = StorageTrunks(storage)
        self.changes.subscribe(trunks.on_change)
        self.b2bua = B2bua(endpoint, clock, keepalive, StorageSubscribers(directory, clock.now),
                           self._cdrs, B2buaConfig(local=local, auth_secret=secret,
                                                   send_trying=True),
                           spawn=self._spawn, admission=self.licence.manager,
                           media=media_client, media_policy=media_policy, trunks=trunks)
        registrar = Registrar(storage, RegistrarConfig(auth_secret=secret),
                              directory=directory, locations=locations)
        dispatcher = Dispatcher(endpoint, clock, registrar, self.b2bua, self._spawn,
                                keepalive=keepalive)
        endpoint.on_event = dispatcher.on_event
        await endpoint.start()
        if self.media is not None:
            self._spawn(self.media.supervise(self.b2bua.replace_media))
        self._spawn(self._purge_registrations(registrar, clock))
        self._spawn(self._keep_alive(keepalive, clock))
        self._spawn(self._refresh_directory(directory, clock))

        if config.cocon_port is not None or config.http_terminal_port is not None:
            self.cocon = CoconServer(
                CoconConfig(
                    address=config.address,
                    ssh_port=config.cocon_port or 0,
                    http_port=config.http_terminal_port or 0,
                    host_key_path=config.data_dir / "ssh_host_key",
                    host=config.host,
                    enable_ssh=config.cocon_port is not None,
                    enable_http=config.http_terminal_port is not None,
                ),
                storage,
                licence=self.licence,
                alarms=self.alarms,
                changes=self.changes,
                extra_commands=(register_licence_commands,),
            )
            await self.cocon.start()

    def _on_media_event(self, message: dict[str, Any]) -> None:
        """An event of the media server (RTP timeout, DTMF, end of a prompt)."""
        if self.b2bua is not None:
            self.b2bua.on_media_event(message)

    async def _keep_alive(self, keepalive: KeepAlive, clock: LoopClock) -> None:
        """OPTIONS keep-alive of the subscribers with `options_control` (SPEC §6)."""
        while True:
            await asyncio.sleep(KEEPALIVE_TICK)
            try:
                await keepalive.tick(clock.now())
            except Exception:
                logger.exception("OPTIONS keep-alive failed")

    async def _purge_registrations(self, registrar: Registrar, clock: LoopClock) -> None:
        while True:
            await asyncio.sleep(REGISTRATION_PURGE_INTERVAL)
            try:
                purged = await registrar.purge_expired(clock.now())
            except Exception:
                logger.exception("purging expired registrations failed")
                continue
            if purged:
                logger.info("%d registration(s) expired", purged)

    async def _refresh_directory(self, directory: Directory, clock: LoopClock) -> None:
        """Subscribers in use are read again in batches before the cache lets them go."""
        while True:
            await asyncio.sleep(directory.max_age / 2)
            try:
                await directory.refresh(clock.now())
            except Exception:
                logger.exception("refreshing the subscriber cache failed")

    async def stop(self) -> None:
        """Draining order: readiness port, new SIP traffic, console, then storage."""
        if self._stopping:
            return
        self._stopping = True
        await self.ready.close()
        if self.endpoint is not None:
            await self.endpoint.stop()
        if self.cocon is not None:
            await self.cocon.stop()
        if self.media is not None:
            await self.media.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._cdrs is not None:
            await self._cdrs.stop()
        if self.storage is not None:
            await self.storage.close()


async def _serve(config: SwitchConfig) -> int:
    switch = Switch(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await switch.start()
    except OSError as exc:
        logger.error("cannot start the switch: %s", exc)
        return 1
    # Everything built at start lives as long as the process: keep it out of the collector's
    # way, and collect young objects less often (each SIP message makes a few hundred).
    gc.collect()
    tune_garbage_collector()
    await stop.wait()
    logger.info("stopping")
    await switch.stop()
    return 0


def run_switch(config: SwitchConfig) -> int:
    """Run the switch until SIGINT/SIGTERM; the exit status of `ssw run`."""
    install_event_loop_policy()
    return asyncio.run(_serve(config))
