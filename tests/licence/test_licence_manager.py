"""The licence manager, sans-I/O: serials and time are handed in by the test."""

from __future__ import annotations

import datetime as dt

import pytest
from licence_support import HOST, Issuer

from ssw.licence.formats import LicenceError, TrustedIssuers
from ssw.licence.manager import (
    DAY,
    AlreadyInstalled,
    Expired,
    LicenceLimit,
    LicenceManager,
    LicensingConfig,
    LicensingDisabled,
    NoSuchLicence,
    PassportMissing,
    TokenMismatch,
    TokenMissing,
    WrongHostname,
    WrongSswId,
)

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC).timestamp()
SERIAL = "0e25d9b17ab7a54b"
TOKEN = frozenset({SERIAL})


def licensed_manager(issuer: Issuer, token_grace: float = DAY) -> LicenceManager:
    manager = LicenceManager(
        LicensingConfig(trusted=issuer.trusted, hostname=HOST, token_grace=token_grace), NOW
    )
    manager.observe_token(TOKEN, NOW)
    return manager


def installed(issuer: Issuer, token_grace: float = DAY) -> LicenceManager:
    manager = licensed_manager(issuer, token_grace)
    manager.set_passport(issuer.passport(SERIAL), NOW)
    limits = {"subscribers": 100, "calls": 10, "package.ECSS-ADV": 5}
    manager.add_licence(issuer.licence(limits), NOW)
    return manager


def test_open_edition_has_no_limits(issuer: Issuer) -> None:
    manager = LicenceManager(LicensingConfig(hostname=HOST), NOW)
    assert manager.current().edition == "open"
    manager.check_subscribers(10**6)
    assert manager.admit_call(10**6)
    assert manager.alarms() == []
    with pytest.raises(LicensingDisabled, match="open edition"):
        manager.set_passport(issuer.passport(SERIAL), NOW)


def test_licensing_enabled_without_anything_serves_the_defaults(issuer: Issuer) -> None:
    manager = licensed_manager(issuer)
    current = manager.current()
    assert (current.edition, current.reason) == ("defaults", "no passport is set")
    assert manager.admit_call(0) and manager.admit_call(1)
    assert not manager.admit_call(2)  # SPEC §9: two simultaneous calls
    assert [a.code for a in manager.alarms()][:1] == ["licence_defaults"]


def test_passport_then_licence_gives_the_licensed_limits(issuer: Issuer) -> None:
    manager = installed(issuer)
    current = manager.current()
    assert current.edition == "licensed"
    assert current.get("subscribers") == 100
    assert current.get("calls") == 10
    assert current.get("ds_instances") == 2
    assert current.get("package.ECSS-ADV") == 5
    assert current.get("conference.meet_me") == 0  # not licensed
    assert manager.alarms() == []


def test_licence_before_passport_is_refused(issuer: Issuer) -> None:
    manager = licensed_manager(issuer)
    with pytest.raises(PassportMissing, match="set the passport first"):
        manager.add_licence(issuer.licence(calls=10), NOW)
    assert manager.licences == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ssw_id": "ECSS 000002"}, WrongSswId, "SSW_ID 'ECSS 000002'"),
        ({"hostname": "ecss2"}, WrongHostname, "bound to host 'ecss2'"),
        ({"expires": dt.date(2026, 5, 31)}, Expired, "expired on 2026-05-31"),
    ],
)
def test_licence_that_does_not_fit_changes_nothing(
    issuer: Issuer, kwargs: dict[str, object], error: type[LicenceError], message: str
) -> None:
    manager = installed(issuer)
    before = manager.current()
    with pytest.raises(error, match=message):
        manager.add_licence(issuer.licence(calls=999, **kwargs), NOW)  # type: ignore[arg-type]
    assert manager.current() == before
    assert len(manager.licences) == 1


def test_same_licence_twice(issuer: Issuer) -> None:
    manager = installed(issuer)
    with pytest.raises(AlreadyInstalled):
        manager.add_licence(manager.licences[0].blob, NOW)


def test_passport_needs_its_token(issuer: Issuer) -> None:
    manager = LicenceManager(LicensingConfig(trusted=issuer.trusted, hostname=HOST), NOW)
    with pytest.raises(TokenMissing, match="no token is present"):
        manager.set_passport(issuer.passport(SERIAL), NOW)
    manager.observe_token(frozenset({"999"}), NOW)
    with pytest.raises(TokenMismatch, match="token present is 999"):
        manager.set_passport(issuer.passport(SERIAL), NOW)
    assert manager.passport is None


def test_newest_licence_governs_and_older_takes_over_on_expiry(issuer: Issuer) -> None:
    manager = installed(issuer)
    newer = manager.add_licence(
        issuer.licence(issued=dt.date(2026, 5, 1), expires=dt.date(2026, 6, 30), calls=50), NOW
    )
    assert manager.current().licence == newer
    assert manager.current().get("calls") == 50
    older = manager.licences[0]
    assert manager.licence_state(older, NOW) == "standby"
    assert manager.licence_state(newer, NOW) == "active"
    end = dt.datetime(2026, 7, 1, tzinfo=dt.UTC).timestamp()
    manager.handle_timer(end)
    assert manager.current().licence == older
    assert manager.current().get("calls") == 10
    assert manager.licence_state(newer, end) == "expired"


def test_expiry_with_injected_clock_drops_to_defaults(issuer: Issuer) -> None:
    manager = installed(issuer)
    end = dt.datetime(2027, 2, 1, tzinfo=dt.UTC).timestamp()  # licence valid through 2027-01-31
    warn = end - 30 * DAY
    assert manager.get_timer() == warn
    manager.handle_timer(warn - 1)
    assert manager.alarms() == []
    manager.handle_timer(warn)
    alarms = manager.alarms()
    assert [a.code for a in alarms] == ["licence_expiring"]
    assert "expires on 2027-01-31 (in 30 days)" in alarms[0].text
    assert manager.get_timer() == end
    manager.handle_timer(end)
    current = manager.current()
    assert (current.edition, current.reason) == ("defaults", "the licence expired on 2027-01-31")
    assert not manager.admit_call(2)
    assert manager.get_timer() is None


def test_unplugged_token_alarm_then_defaults_after_grace(issuer: Issuer) -> None:
    manager = installed(issuer, token_grace=3600.0)
    manager.observe_token(frozenset(), NOW + 10)
    assert manager.current().edition == "licensed"  # within the grace period
    alarm = manager.alarms()[0]
    assert (alarm.code, alarm.severity) == ("licence_token_missing", "critical")
    assert alarm.since == NOW + 10
    assert "drop to the defaults in 1:00:00" in alarm.text
    assert manager.get_timer() == NOW + 10 + 3600
    manager.observe_token(frozenset(), NOW + 3609)
    assert manager.current().edition == "licensed"
    assert "drop to the defaults in 0:00:01" in manager.alarms()[0].text
    manager.handle_timer(NOW + 3610)
    current = manager.current()
    assert (current.edition, current.reason) == ("defaults", f"the token {SERIAL} is missing")
    assert [a.code for a in manager.alarms()] == ["licence_token_missing", "licence_defaults"]
    manager.observe_token(TOKEN, NOW + 4000)  # plugged back
    assert manager.current().edition == "licensed"
    assert manager.alarms() == []


def test_another_token_counts_as_missing(issuer: Issuer) -> None:
    manager = installed(issuer, token_grace=60.0)
    manager.observe_token(frozenset({"someone-elses"}), NOW)
    manager.handle_timer(NOW + 60)
    assert manager.current().edition == "defaults"


def test_grace_runs_from_start_when_the_token_is_never_seen(issuer: Issuer) -> None:
    first = installed(issuer)
    blobs = [first.passport.blob, first.licences[0].blob]  # type: ignore[union-attr]
    manager = LicenceManager(
        LicensingConfig(trusted=issuer.trusted, hostname=HOST, token_grace=100.0), NOW
    )
    manager.load(blobs, NOW)
    assert manager.current().edition == "licensed"
    manager.observe_token(None, NOW + 100)
    assert manager.current().edition == "defaults"


def test_subscriber_limit(issuer: Issuer) -> None:
    manager = installed(issuer)
    manager.check_subscribers(100)
    with pytest.raises(LicenceLimit) as caught:
        manager.check_subscribers(101)
    assert caught.value.cause == "licence_limit"
    assert (caught.value.limit, caught.value.allowed, caught.value.requested) == (
        "subscribers", 100, 101,
    )
    assert "licence_limit_exceeded" in [a.code for a in manager.alarms()]
    manager.check_subscribers(50)  # fewer again: the alarm clears
    assert manager.alarms() == []


def test_call_limit_and_near_exhaustion(issuer: Issuer) -> None:
    manager = installed(issuer)
    assert all(manager.admit_call(n) for n in range(10))
    assert [a.code for a in manager.alarms()] == ["licence_limit_near"]
    assert "calls: 10 of 10 in use" in manager.alarms()[0].text
    assert not manager.admit_call(10)
    assert [a.code for a in manager.alarms()] == ["licence_limit_exceeded"]
    manager.note_usage("calls", 3)
    assert manager.admit_call(3)
    assert manager.alarms() == []


def test_other_limits_by_name(issuer: Issuer) -> None:
    manager = installed(issuer)
    manager.check_limit("package.ECSS-ADV", 5)
    with pytest.raises(LicenceLimit):
        manager.check_limit("package.ECSS-ADV", 6)
    with pytest.raises(LicenceLimit):
        manager.check_limit("conference.meet_me", 1)


def test_remove_licence(issuer: Issuer) -> None:
    manager = installed(issuer)
    licence_id = manager.licences[0].licence_id
    with pytest.raises(NoSuchLicence):
        manager.remove("nope", NOW)
    assert manager.remove(licence_id, NOW).licence_id == licence_id
    assert manager.current().edition == "defaults"


def test_load_keeps_blobs_that_no_longer_verify(issuer: Issuer, other_issuer: Issuer) -> None:
    stranger = other_issuer.licence(calls=5)
    manager = licensed_manager(issuer)
    manager.load([issuer.passport(SERIAL), stranger, "garbage"], NOW)
    assert manager.passport is not None
    assert [r.blob for r in manager.rejected] == [stranger, "garbage"]
    assert "does not trust" in manager.rejected[0].reason


def test_preview_does_not_change_anything(issuer: Issuer) -> None:
    manager = installed(issuer)
    from ssw.licence.formats import decode_licence

    candidate = decode_licence(
        issuer.licence(issued=dt.date(2026, 5, 1), subscribers=1000, calls=100), issuer.trusted
    )
    assert manager.preview(candidate, NOW).get("calls") == 100
    assert manager.current().get("calls") == 10


def test_replacing_the_passport(issuer: Issuer) -> None:
    manager = installed(issuer)
    new, old = manager.set_passport(issuer.passport(SERIAL, ssw_id="ECSS 000002"), NOW)
    assert old is not None and old.ssw_id == "ECSS 000001"
    assert new.ssw_id == "ECSS 000002"
    # the installed licence is for the old SSW_ID: it no longer applies
    assert manager.current().edition == "defaults"
    assert manager.licence_state(manager.licences[0], NOW) == "other SSW_ID"


def test_disabled_config_is_the_default() -> None:
    assert not LicensingConfig().trusted.enabled
    assert TrustedIssuers().keys == ()


def test_load_after_the_token_was_seen(issuer: Issuer) -> None:
    blobs = [issuer.passport(SERIAL), issuer.licence(calls=10)]
    manager = licensed_manager(issuer, token_grace=10.0)  # token seen before the load
    manager.load(blobs, NOW + 1)
    assert manager.token_lost_at is None
    manager.handle_timer(NOW + 1000)
    assert manager.current().edition == "licensed"
    other = LicenceManager(LicensingConfig(trusted=issuer.trusted, hostname=HOST), NOW)
    other.observe_token(frozenset({"another"}), NOW)
    other.load(blobs, NOW + 1)
    assert other.token_lost_at == NOW
