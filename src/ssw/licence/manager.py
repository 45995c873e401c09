"""The licence manager: which limits apply now, and the checks the rest of the switch calls.

Sans-I/O: the manager owns no clock, no token and no database. A driver feeds it the stored blobs
(`load`), what the token module sees (`observe_token`) and the time (`handle_timer(now)` when
`get_timer()` says so); the console commands call `set_passport`, `add_licence` and `remove`. The
checks (`check_subscribers`, `check_limit`, `admit_call`) read limits computed at the last `now`.

The rules (SPEC §9 and the seed, "Запуск и активация системы"):

* No trusted issuer key configured: the open edition, no limits at all.
* Licensing enabled: a passport (bound to a token serial) must be set first, then licences for
  the passport's SSW_ID bound to this hostname. The most recently issued licence that is valid
  now governs; older valid ones stay installed and take over when it expires.
* Nothing valid (no passport, no licence, all expired, or the passport's token missing for longer
  than the grace period): the switch serves the defaults, 2 simultaneous calls.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from .formats import (
    Licence,
    LicenceError,
    Passport,
    TrustedIssuers,
    decode_blob,
    decode_licence,
    decode_passport,
)

__all__ = [
    "DEFAULT_LIMITS",
    "AlreadyInstalled",
    "CurrentLimits",
    "Expired",
    "LicenceAlarm",
    "LicenceLimit",
    "LicenceManager",
    "LicensingConfig",
    "LicensingDisabled",
    "NoSuchLicence",
    "PassportMissing",
    "TokenMismatch",
    "TokenMissing",
    "WrongHostname",
    "WrongSswId",
]

#: What a licensed switch serves with no valid passport and licence (SPEC §9: 2 calls).
#: Subscribers and storage instances are this project's choice (the manual does not say).
DEFAULT_LIMITS: Mapping[str, int] = {"calls": 2, "subscribers": 10, "ds_instances": 1}
DAY = 86_400.0


class PassportMissing(LicenceError):
    cause = "passport_missing"


class WrongSswId(LicenceError):
    cause = "wrong_ssw_id"


class WrongHostname(LicenceError):
    cause = "wrong_hostname"


class Expired(LicenceError):
    cause = "expired"


class TokenMissing(LicenceError):
    cause = "token_missing"


class TokenMismatch(LicenceError):
    cause = "token_mismatch"


class AlreadyInstalled(LicenceError):
    cause = "already_exists"


class NoSuchLicence(LicenceError):
    cause = "no_such_licence"


class LicensingDisabled(LicenceError):
    cause = "licensing_disabled"


class LicenceLimit(Exception):
    """A request would go beyond a licensed limit; ``cause`` is what the http_terminal returns."""

    cause = "licence_limit"

    def __init__(self, limit: str, allowed: int, requested: int) -> None:
        super().__init__(
            f"licence limit {limit} = {allowed} reached ({requested} requested): "
            "install a licence with a higher limit"
        )
        self.limit = limit
        self.allowed = allowed
        self.requested = requested


@dataclass(frozen=True)
class LicensingConfig:
    """How this switch enforces licences. An empty ``trusted`` set is the open edition."""

    trusted: TrustedIssuers = field(default_factory=TrustedIssuers)
    hostname: str = ""
    token_grace: float = DAY  # seconds the token may be missing before limits drop to defaults
    expiry_warning: float = 30 * DAY  # seconds before expiry the "expiring" alarm rises
    near_exhaustion: float = 0.9  # share of a limit in use that raises the "near" alarm
    default_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))


@dataclass(frozen=True)
class CurrentLimits:
    """The limits in force. ``edition`` is open (no limits), licensed, or defaults (and why)."""

    edition: Literal["open", "licensed", "defaults"]
    values: Mapping[str, int]
    reason: str = ""
    licence: Licence | None = None

    def get(self, name: str) -> int | None:
        """The limit, ``None`` when unlimited (open edition); a limit not licensed is 0."""
        if self.edition == "open":
            return None
        return self.values.get(name, 0)


@dataclass(frozen=True)
class LicenceAlarm:
    """One active licensing alarm, for the mediator's list."""

    code: str
    severity: Literal["critical", "major", "minor", "warning"]
    text: str
    since: float
    subject: str = ""  # the limit concerned, for the per-limit alarms

    @property
    def key(self) -> str:
        """Stable identity on an alarm list: the code, and the limit for per-limit alarms."""
        return f"{self.code}:{self.subject}" if self.subject else self.code


@dataclass(frozen=True)
class StoredRejection:
    """A stored blob that no longer verifies (key removed, format changed): kept, not applied."""

    blob: str
    reason: str


class LicenceManager:
    """Holds the passport and licences and computes the limits in force at the last ``now``."""

    def __init__(self, config: LicensingConfig, now: float) -> None:
        self.config = config
        self.passport: Passport | None = None
        self.licences: list[Licence] = []
        self.rejected: list[StoredRejection] = []
        self._serials: frozenset[str] = frozenset()
        self._token_lost_at: float | None = now  # not seen yet: the grace period runs from start
        self._usage: dict[str, int] = {}
        self._refused: dict[str, float] = {}
        self._now = now
        self._current = self._compute(now)

    @property
    def enabled(self) -> bool:
        return self.config.trusted.enabled

    @property
    def token_lost_at(self) -> float | None:
        """Since when the passport's token is missing (``None`` while it is present)."""
        return self._token_lost_at

    # --- inputs --------------------------------------------------------------------------------

    def load(self, blobs: Iterable[str], now: float) -> None:
        """Take the blobs kept in storage. Ones that no longer verify are kept aside with why."""
        self.passport, self.licences, self.rejected = None, [], []
        for blob in blobs:
            try:
                document = decode_blob(blob, self.config.trusted)
            except LicenceError as exc:
                self.rejected.append(StoredRejection(blob, str(exc)))
                continue
            if isinstance(document, Passport):
                self.passport = document
            elif all(old.licence_id != document.licence_id for old in self.licences):
                self.licences.append(document)
        if self._passport_token_present():
            self._token_lost_at = None
        elif self._token_lost_at is None:
            self._token_lost_at = now
        self.handle_timer(now)

    def observe_token(self, serials: frozenset[str] | None, now: float) -> None:
        """What the PKCS#11 module sees now; ``None`` when the module cannot be read at all."""
        self._serials = serials or frozenset()
        if self._passport_token_present():
            self._token_lost_at = None
        elif self._token_lost_at is None:
            self._token_lost_at = now
        self.handle_timer(now)

    def _passport_token_present(self) -> bool:
        return self.passport is not None and self.passport.token_serial in self._serials

    # --- passport and licences -----------------------------------------------------------------

    def _require_enabled(self) -> None:
        if not self.enabled:
            raise LicensingDisabled(
                "licensing is not enabled on this switch (no trusted issuer key): "
                "the open edition has no limits to set"
            )

    def verify_passport(self, blob: str) -> Passport:
        """Check a passport against the issuers and the token plugged in; changes nothing."""
        self._require_enabled()
        passport = decode_passport(blob, self.config.trusted)
        if passport.token_serial not in self._serials:
            if not self._serials:
                raise TokenMissing(
                    f"no token is present: plug in the token {passport.token_serial} "
                    "named by the passport, then set the passport again"
                )
            raise TokenMismatch(
                f"the passport is for token {passport.token_serial}, but the token present is "
                f"{', '.join(sorted(self._serials))}: plug in the passport's token"
            )
        return passport

    def set_passport(self, blob: str, now: float) -> tuple[Passport, Passport | None]:
        """Install a passport (replacing the previous one); returns (new, replaced)."""
        passport = self.verify_passport(blob)
        old, self.passport = self.passport, passport
        self._token_lost_at = None
        self._refused.clear()
        self.handle_timer(now)
        return passport, old

    def verify_licence(self, blob: str, now: float) -> Licence:
        """Check a licence for this switch at ``now``; changes nothing."""
        self._require_enabled()
        licence = decode_licence(blob, self.config.trusted)
        if self.passport is None:
            raise PassportMissing(
                "no passport is set: set the passport first (licence/set-passport), "
                "then add the licence"
            )
        if licence.ssw_id != self.passport.ssw_id:
            raise WrongSswId(
                f"the licence is for SSW_ID {licence.ssw_id!r}, but the passport is for "
                f"{self.passport.ssw_id!r}: ask for a licence for this system"
            )
        if licence.hostname != self.config.hostname:
            raise WrongHostname(
                f"the licence is bound to host {licence.hostname!r}, this host is "
                f"{self.config.hostname!r}: ask for a licence for this host"
            )
        if licence.is_expired(now):
            raise Expired(f"the licence expired on {licence.expires}: ask for a new licence")
        if any(old.licence_id == licence.licence_id for old in self.licences):
            raise AlreadyInstalled(f"licence {licence.licence_id} is already installed")
        return licence

    def preview(self, licence: Licence, now: float) -> CurrentLimits:
        """The limits that would apply at ``now`` with ``licence`` added."""
        return self._compute(now, [*self.licences, licence])

    def add_licence(self, blob: str, now: float) -> Licence:
        licence = self.verify_licence(blob, now)
        self.licences.append(licence)
        self._refused.clear()
        self.handle_timer(now)
        return licence

    def remove(self, licence_id: str, now: float) -> Licence:
        """Remove an installed licence by its id (see `list`)."""
        for licence in self.licences:
            if licence.licence_id == licence_id:
                self.licences.remove(licence)
                self.handle_timer(now)
                return licence
        raise NoSuchLicence(f"no installed licence has the id {licence_id!r} (see licence/list)")

    # --- limits --------------------------------------------------------------------------------

    def licence_state(self, licence: Licence, now: float) -> str:
        """Why a licence does or does not apply: active, standby, expired, ..."""
        if self.passport is None:
            return "no passport"
        if licence.ssw_id != self.passport.ssw_id:
            return "other SSW_ID"
        if licence.hostname != self.config.hostname:
            return "other host"
        if licence.is_expired(now):
            return "expired"
        current = self._current.licence
        if current is not None and current.licence_id == licence.licence_id:
            return "active"
        return "standby"

    def _valid_licences(self, licences: Iterable[Licence], now: float) -> list[Licence]:
        if self.passport is None:
            return []
        return [
            lic
            for lic in licences
            if lic.ssw_id == self.passport.ssw_id
            and lic.hostname == self.config.hostname
            and not lic.is_expired(now)
        ]

    def _token_expired(self, now: float) -> bool:
        lost = self._token_lost_at
        return lost is not None and now >= lost + self.config.token_grace

    def _compute(self, now: float, licences: Iterable[Licence] | None = None) -> CurrentLimits:
        if not self.enabled:
            return CurrentLimits("open", {}, "no trusted issuer key is configured")
        defaults = dict(self.config.default_limits)
        if self.passport is None:
            return CurrentLimits("defaults", defaults, "no passport is set")
        defaults["ds_instances"] = self.passport.max_ds_instances  # the passport's own limit
        if self._token_expired(now):
            return CurrentLimits(
                "defaults", defaults, f"the token {self.passport.token_serial} is missing"
            )
        candidates = self.licences if licences is None else list(licences)
        valid = self._valid_licences(candidates, now)
        if not valid:
            ends = [lic.expires for lic in candidates if lic.is_expired(now) and lic.expires]
            reason = "no valid licence is installed"
            if ends:
                reason = f"the licence expired on {max(ends)}"
            return CurrentLimits("defaults", defaults, reason)
        governing = max(valid, key=lambda lic: lic.issued)
        values = {**defaults, **governing.limits, "ds_instances": self.passport.max_ds_instances}
        return CurrentLimits("licensed", values, "", governing)

    def current(self) -> CurrentLimits:
        """The limits in force since the last ``now`` the manager was given."""
        return self._current

    def get_timer(self) -> float | None:
        """The next instant the limits or alarms change by themselves (expiry, grace, warning)."""
        moments: list[float] = []
        if self._token_lost_at is not None and self.passport is not None:
            moments.append(self._token_lost_at + self.config.token_grace)
        for licence in self._valid_licences(self.licences, self._now):
            end = licence.expires_at()
            if end is not None:
                moments += [end, end - self.config.expiry_warning]
        future = [m for m in moments if m > self._now]
        return min(future) if future else None

    def handle_timer(self, now: float) -> None:
        self._now = now
        self._current = self._compute(now)

    # --- checks the switch calls ---------------------------------------------------------------

    def check_limit(self, name: str, total_after: int) -> None:
        """Raise `LicenceLimit` when ``total_after`` would exceed the limit ``name``."""
        allowed = self._current.get(name)
        if allowed is not None and total_after > allowed:
            self._refused[name] = self._now
            raise LicenceLimit(name, allowed, total_after)
        self._usage[name] = total_after
        self._refused.pop(name, None)

    def check_subscribers(self, total_after: int) -> None:
        """Before declaring subscribers: ``total_after`` is the count once they are declared."""
        self.check_limit("subscribers", total_after)

    def admit_call(self, active_calls: int) -> bool:
        """May one more call start while ``active_calls`` are in progress? (403 when not)."""
        try:
            self.check_limit("calls", active_calls + 1)
        except LicenceLimit:
            return False
        return True

    def note_usage(self, name: str, in_use: int) -> None:
        """Tell the manager how much of a limit is in use (calls ended, subscribers removed)."""
        self._usage[name] = in_use
        allowed = self._current.get(name)
        if allowed is None or in_use < allowed:
            self._refused.pop(name, None)

    def usage(self) -> Mapping[str, int]:
        return dict(self._usage)

    # --- alarms --------------------------------------------------------------------------------

    def alarms(self) -> list[LicenceAlarm]:
        """The licensing alarms active at the last ``now``, most severe first."""
        if not self.enabled:
            return []
        now, current, found = self._now, self._current, []
        if self.passport is not None and self._token_lost_at is not None:
            left = self._token_lost_at + self.config.token_grace - now
            text = f"licence token {self.passport.token_serial} is missing"
            if left > 0:
                text += f": limits drop to the defaults in {_duration(left)}"
            else:
                text += ": the switch serves the default limits"
            lost_at = self._token_lost_at
            found.append(LicenceAlarm("licence_token_missing", "critical", text, lost_at))
        if current.edition == "defaults":
            found.append(LicenceAlarm(
                "licence_defaults", "major", f"{current.reason}: serving the default limits", now
            ))
        governing = current.licence
        end = governing.expires_at() if governing is not None else None
        if governing is not None and end is not None and end - now <= self.config.expiry_warning:
            found.append(LicenceAlarm(
                "licence_expiring", "minor",
                f"licence {governing.licence_id} expires on {governing.expires} "
                f"(in {_duration(end - now)})",
                end - self.config.expiry_warning,
            ))
        for name, refused_at in sorted(self._refused.items()):
            found.append(LicenceAlarm(
                "licence_limit_exceeded", "major",
                f"licence limit {name} = {current.get(name)} reached: requests are refused",
                refused_at, name,
            ))
        for name, in_use in sorted(self._usage.items()):
            allowed = current.get(name)
            if allowed is None or name in self._refused:
                continue
            if allowed > 0 and in_use >= math.ceil(allowed * self.config.near_exhaustion):
                found.append(LicenceAlarm(
                    "licence_limit_near", "warning",
                    f"licence limit {name}: {in_use} of {allowed} in use", now, name,
                ))
        return found


def _duration(seconds: float) -> str:
    if seconds >= 2 * DAY:
        return f"{int(seconds // DAY)} days"
    return str(dt.timedelta(seconds=round(seconds)))
