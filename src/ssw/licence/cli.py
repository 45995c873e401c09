"""``ssw licence ...``: the issuer's tools and a token probe.

* ``keygen --out PREFIX``: a new Ed25519 issuer key pair, ``PREFIX.key`` (private, mode 0600)
  and ``PREFIX.pub`` (the public key a switch is configured to trust).
* ``issue-passport``: a passport for an SSW_ID and a token serial.
* ``issue``: a licence for an SSW_ID on one host, with its limits.
* ``show``: verify a passport or licence against issuer public keys and print what it says.
* ``token``: the slots and tokens of a PKCS#11 module, as ``pkcs11-tool -L`` prints them.

`register(subparsers)` adds these under ``licence`` to the ``ssw`` command; `main` runs them alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .formats import (
    LIMIT_NAME,
    IssuerKey,
    Licence,
    LicenceError,
    Passport,
    TrustedIssuers,
    decode_blob,
    key_id_of,
    sign_licence,
    sign_passport,
)
from .token import Pkcs11Token, TokenError, default_module_path, format_module_info, format_slots

__all__ = ["main", "register"]


class UsageError(Exception):
    """A bad option value: printed, exit status 2."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _expiry(text: str) -> dt.date | None:
    return None if text == "never" else _date(text)


def _limit(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or not LIMIT_NAME.fullmatch(name.strip()) or not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=COUNT (e.g. calls=100), not {text!r}")
    return name.strip(), int(value)


def _load_private_key(path: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"cannot read the issuer private key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path} is not an Ed25519 private key (make one with licence keygen)")
    return key


def _emit(blob: str, out: str | None) -> None:
    if out is None:
        print(blob)
    else:
        Path(out).write_text(blob + "\n", encoding="ascii")
        print(f"written to {out}")


def cmd_keygen(args: argparse.Namespace) -> int:
    private_path, public_path = Path(f"{args.out}.key"), Path(f"{args.out}.pub")
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(f"{path} exists: choose another --out or move the old key away")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    print(f"issuer key {key_id_of(key.public_key())}: private {private_path}, public {public_path}")
    return 0


def cmd_issue_passport(args: argparse.Namespace) -> int:
    key = _load_private_key(args.key)
    passport = Passport(
        ssw_id=args.ssw_id,
        token_serial=args.token_serial,
        max_ds_instances=args.max_ds_instances,
        issuer=args.issuer,
        issued=args.issued or dt.datetime.now(dt.UTC).date(),
    )
    _emit(sign_passport(passport, key), args.out)
    return 0


def cmd_issue(args: argparse.Namespace) -> int:
    key = _load_private_key(args.key)
    limits: dict[str, int] = {}
    for name, value in args.limit or []:
        limits[name] = value
    for option, name in (("subscribers", "subscribers"), ("calls", "calls")):
        value = getattr(args, option)
        if value is not None:
            limits[name] = value
    for name, value in args.conference or []:
        limits[f"conference.{name}"] = value
    for name, value in args.package or []:
        limits[f"package.{name}"] = value
    if not limits:
        raise UsageError("a licence needs at least one limit (--subscribers, --calls, --limit ...)")
    issued = args.issued or dt.datetime.now(dt.UTC).date()
    if args.expires is not None and args.expires < issued:
        raise UsageError(f"the licence would expire ({args.expires}) before its issue ({issued})")
    licence = Licence(
        ssw_id=args.ssw_id,
        hostname=args.hostname,
        issued=issued,
        expires=args.expires,
        limits=limits,
        issuer=args.issuer,
    )
    _emit(sign_licence(licence, key), args.out)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    keys = []
    for path in args.issuer_key:
        try:
            keys.append(IssuerKey.from_pem(Path(path).read_bytes()))
        except (OSError, ValueError) as exc:
            raise UsageError(f"issuer key {path}: {exc}") from None
    blob: str = args.blob
    if blob.startswith("@"):
        blob = Path(blob[1:]).read_text(encoding="ascii")
    document = decode_blob(blob, TrustedIssuers.of(keys))
    kind = "passport" if isinstance(document, Passport) else "licence"
    print(f"valid {kind}, signed by key {document.key_id}")
    for name, value in document.document().items():
        if name not in ("format", "kind", "key_id"):
            print(f"  {name}: {value}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    module = args.module or default_module_path()
    if module is None:
        raise UsageError("no PKCS#11 module found: name one with --module")
    token = Pkcs11Token(module)
    try:
        slots = token.slots()
        print(format_module_info(token.module_info(), slots) if args.info else format_slots(slots))
    except TokenError as exc:
        raise UsageError(str(exc)) from None
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``licence`` and its subcommands; each sets ``func(args) -> int`` (the exit status)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "licence", help="issue passports and licences; inspect the licence token"
    )
    commands = parser.add_subparsers(dest="licence_command", required=True)

    keygen = commands.add_parser("keygen", help="make an Ed25519 issuer key pair")
    keygen.add_argument("--out", required=True, help="file prefix: writes PREFIX.key, PREFIX.pub")
    keygen.set_defaults(func=_guarded(cmd_keygen))

    def issuer_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--key", required=True, help="the issuer private key (PEM)")
        sub.add_argument("--issuer", required=True, help="the issuer's name, shown to operators")
        sub.add_argument("--ssw-id", required=True, help="the system id (SSW_ID)")
        sub.add_argument("--issued", type=_date, help="issue date YYYY-MM-DD (default: today)")
        sub.add_argument("--out", help="write the blob to this file instead of printing it")

    passport = commands.add_parser("issue-passport", help="issue a passport for a token")
    issuer_options(passport)
    passport.add_argument("--token-serial", required=True, help="serial of the token")
    passport.add_argument("--max-ds-instances", type=int, default=1, help="storage instances")
    passport.set_defaults(func=_guarded(cmd_issue_passport))

    licence = commands.add_parser("issue", help="issue a licence for one host")
    issuer_options(licence)
    licence.add_argument("--hostname", required=True, help="the host the licence is bound to")
    licence.add_argument("--expires", type=_expiry, required=True,
                         help="last valid day YYYY-MM-DD (UTC), or 'never'")
    licence.add_argument("--subscribers", type=int, help="number of subscribers")
    licence.add_argument("--calls", type=int, help="simultaneous calls")
    licence.add_argument("--conference", type=_limit, action="append", metavar="TYPE=N",
                         help="conferences of a type, e.g. meet_me=4 (repeatable)")
    licence.add_argument("--package", type=_limit, action="append", metavar="NAME=N",
                         help="service package, e.g. ECSS-ADV=500 (repeatable)")
    licence.add_argument("--limit", type=_limit, action="append", metavar="NAME=N",
                         help="any other limit (repeatable)")
    licence.set_defaults(func=_guarded(cmd_issue))

    show = commands.add_parser("show", help="verify a passport or licence and print it")
    show.add_argument("--issuer-key", action="append", required=True, help="issuer public key")
    show.add_argument("blob", help="the text, or @FILE to read it from a file")
    show.set_defaults(func=_guarded(cmd_show))

    token = commands.add_parser("token", help="list PKCS#11 slots and tokens (pkcs11-tool -L)")
    token.add_argument("--module", help="PKCS#11 module (default: the first one found)")
    token.add_argument("--info", action="store_true", help="module information (pkcs11-tool -I)")
    token.set_defaults(func=_guarded(cmd_token))
    return parser


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Errors print one line on stderr and give status 2 (bad usage) or 1 (refused)."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except UsageError as exc:
            print(f"ssw licence: {exc}", file=sys.stderr)
            return 2
        except LicenceError as exc:
            print(f"ssw licence: refused ({exc.cause}): {exc}", file=sys.stderr)
            return 1

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssw")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
