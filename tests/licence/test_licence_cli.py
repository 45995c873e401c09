"""`ssw licence keygen|issue-passport|issue|show|token`: the issuer's tools."""

from __future__ import annotations

import argparse
import datetime as dt
import stat
from pathlib import Path

import pytest
from licence_support import SoftHsm

from ssw.licence.cli import main, register
from ssw.licence.formats import IssuerKey, Licence, Passport, TrustedIssuers, decode_blob


def keygen(tmp_path: Path, name: str = "issuer") -> Path:
    prefix = tmp_path / name
    assert main(["licence", "keygen", "--out", str(prefix)]) == 0
    return prefix


def trusted(prefix: Path) -> TrustedIssuers:
    return TrustedIssuers.of([IssuerKey.from_pem(prefix.with_suffix(".pub").read_bytes())])


def test_keygen_writes_a_private_key_only_the_owner_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = keygen(tmp_path)
    key_id = trusted(prefix).keys[0].key_id
    assert f"issuer key {key_id}" in capsys.readouterr().out
    mode = stat.S_IMODE(prefix.with_suffix(".key").stat().st_mode)
    assert mode == 0o600
    assert main(["licence", "keygen", "--out", str(prefix)]) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err


def test_issue_passport_and_licence_then_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = keygen(tmp_path)
    key = str(prefix.with_suffix(".key"))
    capsys.readouterr()
    passport_file = tmp_path / "ECSS 000001.passport"
    assert main([
        "licence", "issue-passport", "--key", key, "--issuer", "Eltex", "--ssw-id", "ECSS 000001",
        "--token-serial", "0e25d9b17ab7a54b", "--max-ds-instances", "2",
        "--issued", "2026-01-10", "--out", str(passport_file),
    ]) == 0
    passport = decode_blob(passport_file.read_text(), trusted(prefix))
    assert isinstance(passport, Passport)
    assert (passport.token_serial, passport.max_ds_instances) == ("0e25d9b17ab7a54b", 2)

    capsys.readouterr()
    assert main([
        "licence", "issue", "--key", key, "--issuer", "Eltex", "--ssw-id", "ECSS 000001",
        "--hostname", "ecss1", "--expires", "2027-01-31", "--subscribers", "5000",
        "--calls", "300", "--conference", "meet_me=4", "--package", "ECSS-ADV=500",
        "--limit", "voicemail_boxes=50",
    ]) == 0
    blob = capsys.readouterr().out.strip()
    licence = decode_blob(blob, trusted(prefix))
    assert isinstance(licence, Licence)
    assert dict(licence.limits) == {
        "subscribers": 5000, "calls": 300, "conference.meet_me": 4,
        "package.ECSS-ADV": 500, "voicemail_boxes": 50,
    }
    assert licence.expires == dt.date(2027, 1, 31)
    assert licence.issued == dt.datetime.now(dt.UTC).date()

    pub = str(prefix.with_suffix(".pub"))
    assert main(["licence", "show", "--issuer-key", pub, f"@{passport_file}"]) == 0
    shown = capsys.readouterr().out
    assert "valid passport" in shown and "token_serial: 0e25d9b17ab7a54b" in shown
    other = keygen(tmp_path, "other")
    capsys.readouterr()
    assert main(["licence", "show", "--issuer-key", str(other.with_suffix(".pub")), blob]) == 1
    assert "refused (unknown_issuer)" in capsys.readouterr().err


def test_issue_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = keygen(tmp_path)
    base = ["licence", "issue", "--key", str(prefix.with_suffix(".key")), "--issuer", "E",
            "--ssw-id", "X", "--hostname", "h"]
    assert main([*base, "--expires", "never"]) == 2
    assert "at least one limit" in capsys.readouterr().err
    assert main([*base, "--expires", "2020-01-01", "--issued", "2021-01-01", "--calls", "1"]) == 2
    assert "before its issue" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--expires", "never", "--limit", "calls"])
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key")
    assert main(["licence", "issue-passport", "--key", str(bad_key), "--issuer", "E",
                 "--ssw-id", "X", "--token-serial", "1"]) == 2
    assert "cannot read the issuer private key" in capsys.readouterr().err


def test_token_listing(softhsm: SoftHsm, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["licence", "token", "--module", softhsm.module]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Available slots:\n")
    assert f"serial num         : {softhsm.serial}" in out
    assert main(["licence", "token", "--module", softhsm.module, "--info"]) == 0
    assert "Using slot 0 with a present token" in capsys.readouterr().out
    assert main(["licence", "token", "--module", "/nonexistent/lib.so"]) == 2
    assert "not found" in capsys.readouterr().err


def test_register_plugs_into_another_parser() -> None:
    parser = argparse.ArgumentParser(prog="ssw")
    subparsers = parser.add_subparsers(dest="command")
    subparsers.add_parser("run")
    register(subparsers)
    args = parser.parse_args(["licence", "keygen", "--out", "x"])
    assert callable(args.func)
    assert args.out == "x"
