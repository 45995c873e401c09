"""DigestRealms: one server per realm, nonces shared by everyone holding the same secret."""

from __future__ import annotations

from ssw.sip.auth import DigestClient, DigestRealms

SECRET = b"s" * 32


def test_one_server_per_realm() -> None:
    realms = DigestRealms(SECRET, algorithms=("MD5",))
    assert realms.server("a.example") is realms.server("a.example")
    assert realms.server("b.example").realm == "b.example"


def test_a_nonce_from_the_registrar_is_good_for_the_call_core() -> None:
    registrar, call_core = DigestRealms(SECRET), DigestRealms(SECRET)
    [challenge] = registrar.server("pv.ssw3").challenge(1000.0, qop=True, algorithm="MD5")
    answer = DigestClient("157", "123").authorization(challenge, "INVITE", "sip:158@pv.ssw3")
    result = call_core.server("pv.ssw3").verify(answer, method="INVITE", now=1001.0,
                                                password="123")
    assert result.ok
    other = DigestRealms(b"t" * 32).server("pv.ssw3").verify(answer, method="INVITE",
                                                             now=1001.0, password="123")
    assert not other.ok
