"""The phones of a test file as SIPp command lines (FORMAT.md, "Steps" and "Top level").

Each function returns SIPp's arguments for one job: registering a user, playing one command of a
`StartUA` entry, dialling a feature code. The runner adds the trace options and runs them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from .suite import QaFormatError, QaUser

__all__ = ["PhoneJob", "PhoneSettings", "feature_code_job", "registration_job", "ua_command_job"]


@dataclass(frozen=True)
class PhoneSettings:
    """Where the phones live and whom they call: `%%IP%%`, `%%EXTER_IP%%:%%EXTER_PORT%%`."""

    ip: str
    switch_host: str
    switch_port: int
    registration_xml: Path
    feature_code_xml: Path

    @property
    def target(self) -> str:
        host = f"[{self.switch_host}]" if ":" in self.switch_host else self.switch_host
        return f"{host}:{self.switch_port}"


@dataclass(frozen=True)
class PhoneJob:
    """One SIPp run: a name for reports, the scenario file, the other arguments, a deadline."""

    name: str
    scenario: Path
    arguments: tuple[str, ...]
    timeout: float


def _transport(user: QaUser | None) -> tuple[str, ...]:
    return ("-t", "t1") if user is not None and user.transport == "TCP" else ()


def registration_job(settings: PhoneSettings, user: QaUser, *, expires: str | None = None,
                     timeout: float = 15.0) -> PhoneJob:
    """`reg_user.xml` for `user` (`expires="0"` unregisters)."""
    arguments = (
        settings.target, "-i", settings.ip, "-p", str(user.port),
        "-set", "DOMAIN", user.domain, "-set", "NUMBER", user.number,
        "-set", "USER_IP", settings.ip, "-set", "PORT", str(user.port),
        "-set", "EXPIRES", user.expires if expires is None else expires,
        "-set", "USER_Q", user.q,
        *(("-set", "USER_TRANSPORT", "tcp") if user.transport == "TCP" else ()),
        *_transport(user),
        "-s", user.login, "-ap", user.password,
        "-m", "1", "-timeout", f"{int(timeout)}s", "-timeout_error",
    )  # fmt: skip
    verb = "unregister" if expires == "0" else "register"
    return PhoneJob(f"{verb} {user.number}:{user.port}", settings.registration_xml, arguments,
                    timeout)


def ua_command_job(settings: PhoneSettings, scenario: Path, *, name: str, user: QaUser | None,
                   port: int, sipp_type: str, need_auth: bool, options: str, timeout: str,
                   calling_domain: str) -> PhoneJob:
    """One command of a `StartUA` entry; `user` is None for a `Trunk` phone (no login)."""
    from .sipp import parse_duration

    try:
        seconds = parse_duration(timeout)
    except ValueError as error:
        raise QaFormatError(f"{name}: {error}") from None
    try:
        extra = tuple(shlex.split(options))
    except ValueError as error:
        raise QaFormatError(f"{name}: Options {options!r}: {error}") from None
    login: tuple[str, ...] = ()
    if user is not None:
        login = ("-s", user.login, *(("-ap", user.password) if need_auth else ()))
    domain = ("-set", "CGPNDOM", calling_domain) if sipp_type == "uac" else ()
    arguments = (
        settings.target, "-p", str(port), *login, *domain, "-i", settings.ip,
        *_transport(user), *extra, "-timeout", timeout, "-timeout_error",
    )
    return PhoneJob(f"{name} ({scenario.name})", scenario, arguments, seconds)


def feature_code_job(settings: PhoneSettings, user: QaUser, code: str,
                     timeout: float = 30.0) -> PhoneJob:
    """`send_sf.xml`: `user` dials the feature code `code` (e.g. `*21*157#`)."""
    arguments = (
        settings.target, "-i", settings.ip, "-p", str(user.port),
        "-set", "CDPN", code, "-set", "CDPNDOM", user.domain, "-set", "CGPNDOM", user.domain,
        *_transport(user), "-s", user.login, "-ap", user.password, "-m", "1",
        "-timeout", f"{int(timeout)}s", "-timeout_error",
    )  # fmt: skip
    return PhoneJob(f"feature code {code} from {user.number}", settings.feature_code_xml,
                    arguments, timeout)
