"""The `ssw` command: run the switch, and the operator tools of each subsystem.

Each subsystem that has commands of its own exposes `register(subparsers)`; this module only
collects them, so a subcommand is defined in one place.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ssw import __version__

if TYPE_CHECKING:
    from ssw.app.media import MediaSettings

__all__ = ["build_parser", "main"]

# Subsystems that add their own subcommands (module with `register(subparsers)`).
_SUBCOMMAND_MODULES = ("ssw.cocon.cli", "ssw.licence.cli", "ssw.media.cli", "ssw.qa.cli")


def _add_run(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser(
        "run",
        help="start the whole switch in one process",
        description="Start the whole switch (SIP, call core, CoCon, http_terminal) in one process.",
    )
    run.add_argument("--data-dir", type=Path, default=Path("./data"),
                     help="where the embedded databases, CDR files and certificates live")
    run.add_argument("--address", default="127.0.0.1",
                     help="IP address to listen on and to put in Via/Contact (default 127.0.0.1)")
    run.add_argument("--sip-port", type=int, default=5060, help="SIP over UDP and TCP (5060)")
    run.add_argument("--sip-tls-port", type=int, default=5061,
                     help="SIP over TLS (5061); 0 turns TLS off")
    run.add_argument("--ready-port", type=int, default=65535,
                     help="TCP port opened only while ready to take calls (65535); 0 turns it off")
    run.add_argument("--cocon-port", type=int, default=8023, help="CoCon SSH console (8023)")
    run.add_argument("--http-terminal-port", type=int, default=9999,
                     help="http_terminal (9999); 0 turns it off")
    run.add_argument("--database-url", default=None,
                     help="SQLAlchemy URL of the production database, e.g. "
                          "mysql+aiomysql://root@127.0.0.1:3306/ (default: SQLite in --data-dir)")
    run.add_argument("--licence-issuer-key", type=Path, action="append", default=[],
                     help="trusted licence issuer public key (enforces licensing)")
    run.add_argument("--pkcs11-module", default=None,
                     help="PKCS#11 library that reads the licence token "
                          "(default: the first of the usual SoftHSM/OpenSC paths found)")
    run.add_argument("--token-grace", type=float, default=None, metavar="SECONDS",
                     help="how long a missing or different token is tolerated before the "
                          "switch falls back to the unlicensed defaults")
    run.add_argument("--hostname", default=None, help="host name shown in prompts and node names")
    media = run.add_argument_group("media server (docs/MEDIA.md)")
    media.add_argument("--no-media", action="store_true",
                       help="signalling only: start no media server, SDP passes end to end")
    media.add_argument("--media-ports", default="20000-29999", metavar="LOW-HIGH",
                       help="RTP port range of the media server (20000-29999)")
    media.add_argument("--rtp-timeout", type=float, default=300.0, metavar="SECONDS",
                       help="release a call after this long without RTP from a phone that "
                            "should send (300); 0 never")
    media.add_argument("--restfs-dir", type=Path, default=None,
                       help="RestFS directory: call recordings go to its recordings/ "
                            "(default <data-dir>/restfs)")
    media.add_argument("--prompt-language", default="en",
                       help="language of the system prompts generated with espeak-ng (en, ru)")
    run.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    run.set_defaults(func=_run)


def _media_settings(args: argparse.Namespace) -> MediaSettings:
    from ssw.app.media import MediaSettings, parse_port_range

    try:
        low, high = parse_port_range(args.media_ports)
        return MediaSettings(enabled=not args.no_media, port_min=low, port_max=high,
                             rtp_timeout=args.rtp_timeout, restfs_dir=args.restfs_dir,
                             prompt_language=args.prompt_language,
                             log_level=str(args.log_level).upper())
    except ValueError as exc:
        raise SystemExit(f"ssw run: {exc}") from exc


def _run(args: argparse.Namespace) -> int:
    from ssw.app import SwitchConfig, run_switch

    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = SwitchConfig(
        data_dir=args.data_dir,
        address=args.address,
        sip_port=args.sip_port,
        sip_tls_port=args.sip_tls_port or None,
        ready_port=args.ready_port or None,
        cocon_port=args.cocon_port or None,
        http_terminal_port=args.http_terminal_port or None,
        database_url=args.database_url,
        licence_issuer_keys=tuple(args.licence_issuer_key),
        pkcs11_module=args.pkcs11_module,
        token_grace=args.token_grace,
        hostname=args.hostname,
        media=_media_settings(args),
    )
    return run_switch(config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssw", description="SSW, an open softswitch.")
    parser.add_argument("--version", action="version", version=f"ssw {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(subparsers)
    for name in _SUBCOMMAND_MODULES:
        module = importlib.import_module(name)
        register: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]
        register = module.register
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result = func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
