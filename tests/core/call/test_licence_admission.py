"""The licence's simultaneous-call limit at the B2BUA (SPEC §9: 2 calls without a licence)."""

from __future__ import annotations

from call_harness import Bench
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ssw.licence.formats import IssuerKey, TrustedIssuers
from ssw.licence.manager import LicenceManager, LicensingConfig


def licensed_without_licence() -> LicenceManager:
    """Licensing enabled (a trusted issuer) but no passport or licence: the defaults apply."""
    issuer = IssuerKey.from_public_key(Ed25519PrivateKey.generate().public_key())
    return LicenceManager(LicensingConfig(trusted=TrustedIssuers.of([issuer]), hostname="h"), 0.0)


def test_third_call_is_refused_with_403_and_a_cdr() -> None:
    manager = licensed_without_licence()
    bench = Bench()
    bench.b2bua.admission = manager
    for _ in range(2):
        bench.caller_invite()
    assert len(bench.b2bua.calls) == 2

    third = bench.caller_invite()
    assert bench.port.statuses(third)[-1] == 403
    [record] = bench.cdrs.records
    assert (record.release_status, record.release_cause) == (403, 47)
    assert len(bench.b2bua.calls) == 2
    assert manager.usage()["calls"] == 2


def test_open_edition_admits_every_call() -> None:
    manager = LicenceManager(LicensingConfig(hostname="h"), 0.0)
    bench = Bench()
    bench.b2bua.admission = manager
    for _ in range(5):
        bench.caller_invite()
    assert len(bench.b2bua.calls) == 5
