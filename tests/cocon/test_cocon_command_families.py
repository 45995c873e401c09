"""Each command family: what success prints and stores, and that every kind of bad input
(unknown command, wrong argument count, bad range, unknown domain, duplicate declare) prints
a clear message and changes nothing in the database."""

from __future__ import annotations

import re

import pytest
from cocon_helpers import Runner, snapshot

D = "pv.ssw3"
DECLARE = f"/domain/{D}/sip/user/declare default_routing sip.ab"
AUTH = "none no_qop_authentication login-as-number 123"


async def _prepare(runner: Runner) -> None:
    assert await runner.run(f"domain/declare {D}") == f"Domain {D} declared\n"
    assert await runner.run(f"{DECLARE} {{200-204}}@{D} {AUTH}") == (
        f"5 subscribers declared: 200@{D} .. 204@{D}\n"
    )


async def _refused(runner: Runner, line: str, expected: str) -> str:
    before = await snapshot(runner.storage)
    output = await runner.run(line)
    assert output.startswith(expected), f"{line!r} printed {output!r}"
    assert await snapshot(runner.storage) == before, f"{line!r} changed the database"
    return output


async def test_domains(runner: Runner) -> None:
    await _prepare(runner)
    assert "pv.ssw3  5" in await runner.run("domain/list")
    info = await runner.run(f"domain/info {D}")
    assert "Subscribers : 5" in info and "sip.ab" in info
    await _refused(runner, f"domain/declare {D}", "Command error: domain 'pv.ssw3' already exists")
    assert "declared" in await runner.run(
        "domain/declare other --add-domain-admin-privileges --add-domain-user-privileges"
    )
    assert await runner.storage.kv.section("other", "privileges") == {
        "domain-admin-privileges": True,
        "domain-user-privileges": True,
    }
    assert "changed" in await runner.run(f"/domain/{D}/digitmap/set 1XX|2XXX|*XX#")
    assert "Digit map   : 1XX|2XXX|*XX#" in await runner.run(f"domain/info {D}")
    await _refused(runner, f"/domain/{D}/digitmap/set 1XX||2", "Command error: digit map")
    assert "cleaned" in await runner.run(f"/domain/{D}/digitmap/clean")
    assert (await runner.storage.domains.get(D)).digitmap is None
    await _refused(runner, "domain/declare", "Invalid command's arguments")
    await _refused(runner, "domain/declare a b", "Invalid command's arguments")
    await _refused(runner, "domain/declare undefined", "Command error: 'undefined' is reserved")
    await _refused(runner, "domain/declare -x", "Command error: domain name '-x' may not start")
    await _refused(runner, "domain/remove nope --force", "Command error: domain 'nope' does not")
    await _refused(runner, "domain/destroy x", "There is no such command")
    # confirmation: "no" keeps the domain, "yes" removes it
    assert "Cancelled" in await runner.run(f"domain/remove {D}", ["no"])
    assert await runner.storage.domains.exists(D)
    assert "removed" in await runner.run(f"domain/remove {D}", ["yes"])
    assert not await runner.storage.domains.exists(D)


async def test_sip_users(runner: Runner) -> None:
    await _prepare(runner)
    stored = await runner.storage.subscribers.get(D, "202")
    assert (stored.group, stored.login, stored.password) == ("sip.ab", "202", "123")
    await _refused(
        runner,
        f"{DECLARE} {{203-206}}@{D} {AUTH}",
        "Command error: 2 number(s) already exist in 'pv.ssw3': 203, 204",
    )
    await _refused(runner, f"{DECLARE} {{210-205}}@{D} {AUTH}", "Invalid command's arguments")
    await _refused(runner, f"{DECLARE} {{2x-5}}@{D} {AUTH}", "Invalid command's arguments")
    await _refused(runner, f"{DECLARE} 300@{D} none no_qop_authentication", "Invalid command's")
    await _refused(
        runner,
        f"/domain/nope/sip/user/declare default_routing sip.ab 1@nope {AUTH}",
        "Command error: domain 'nope' does not exist",
    )
    await _refused(runner, f"{DECLARE} 300@other {AUTH}", "Command error: address domain")
    await _refused(
        runner,
        f"{DECLARE} 300@{D} none bad_qop login-as-number 1",
        "Command error: qop mode 'bad_qop'",
    )
    # set, clean, info
    out = await runner.run(
        f"/domain/{D}/sip/user/set sip.ab 200@{D} fork-mode find-me-with-q previous-stop"
    )
    assert out == "successfully changed: fork-mode = find-me-with-q previous-stop\n"
    assert (await runner.storage.subscribers.get(D, "200")).setting("fork-mode") == (
        "find-me-with-q previous-stop"
    )
    await _refused(
        runner,
        f"/domain/{D}/sip/user/set sip.ab 200@{D} fork-mode sideways",
        "Command error: fork-mode",
    )
    await _refused(
        runner,
        f"/domain/{D}/sip/user/set sip.ab 200@{D} options_control -1",
        "Command error: options_control",
    )
    await _refused(
        runner,
        f"/domain/{D}/sip/user/set sip.ab 299@{D} req100rel true",
        "Command error: subscriber 299@pv.ssw3 does not exist",
    )
    await _refused(runner, f"/domain/{D}/sip/user/set sip.ab 200@{D}", "Invalid command's")
    assert "changed" in await runner.run(
        f"/domain/{D}/sip/user/set sip.ab 203@{D} qop-authentication true"
    )
    assert (await runner.storage.subscribers.get(D, "203")).qop_mode == "qop_authentication"
    await _refused(runner, f"/domain/{D}/sip/user/set sip.ab 203@{D} qop-authentication maybe",
                   "Command error: qop-authentication takes true or false")
    info = await runner.run(f"/domain/{D}/sip/user/info sip.ab 200@{D}")
    assert "fork-mode" in info and "internal iface name" in info
    assert "Contacts list is empty" in info
    assert "register-expire-max" in await runner.run(
        f"/domain/{D}/sip/user/info sip.ab 200@{D} --complete"
    )
    assert "cleaned" in await runner.run(f"/domain/{D}/sip/user/clean sip.ab 200@{D} fork-mode")
    assert (await runner.storage.subscribers.get(D, "200")).settings == {}
    # relative paths from inside the domain
    await runner.run(f"cd /domain/{D}/sip/user")
    assert "5 subscribers" not in await runner.run("info sip.ab")
    assert "204@pv.ssw3" in await runner.run("info sip.ab")
    assert "changed" in await runner.run(f"change-context sip.ab 201@{D} ctx2")
    assert (await runner.storage.subscribers.get(D, "201")).routing_context == "ctx2"
    # remove with --force, and stop-registration on nobody registered
    assert "0 registration(s) removed" in await runner.run(f"stop-registration sip.ab 201@{D}")
    assert "2 subscriber(s) removed" in await runner.run(f"remove sip.ab {{200-201}}@{D} --force")
    assert await runner.storage.subscribers.count(D) == 3


async def test_properties_and_timers(runner: Runner) -> None:
    await _prepare(runner)
    base = f"/domain/{D}"
    assert "successfully changed" in await runner.run(f"{base}/sip/timer/set rfc4028_min_se 90")
    assert "successfully changed" in await runner.run(f"{base}/sip/timer/set find_me 3600")
    assert "successfully changed" in await runner.run(f"{base}/timers/sip/set T1 600")
    assert "successfully changed" in await runner.run(
        f"{base}/properties/timers/set no_answer_timeout 4"
    )
    assert "successfully changed" in await runner.run(
        f"{base}/sip/properties/set sip_transport tcp_prefer"
    )
    kv = runner.storage.kv
    assert await kv.section(D, "sip_timers") == {"T1": 600, "find_me": 3600, "rfc4028_min_se": 90}
    assert await kv.get(D, "timers", "no_answer_timeout") == 4
    assert await kv.get(D, "sip", "sip_transport") == "tcp_prefer"
    await _refused(runner, f"{base}/sip/timer/set rfc4028_min_se 10", "Command error:")
    await _refused(runner, f"{base}/sip/timer/set find_me soon", "Command error: find_me takes")
    await _refused(
        runner, f"{base}/sip/properties/set sip_transport carrier_pigeon", "Command error:"
    )
    await _refused(runner, f"{base}/properties/timers/set no_answer_timeout", "Invalid command's")
    await _refused(
        runner,
        "/domain/nope/properties/timers/set no_answer_timeout 5",
        "Command error: domain 'nope' does not exist",
    )
    timers = await runner.run(f"{base}/properties/timers/info")
    assert re.search(r"no_answer_timeout +4 +set", timers)
    assert "cleaned" in await runner.run(f"{base}/properties/timers/clean no_answer_timeout")
    assert await kv.section(D, "timers") == {}


async def test_services(runner: Runner) -> None:
    await _prepare(runner)
    base = f"/domain/{D}/ss"
    assert "Success: cfu, cfb enabled for 3" in await runner.run(
        f"{base}/enable {{200-202}} cfu cfb"
    )
    assert "Success: cfu activated" in await runner.run(f"{base}/activate 200 cfu number = 157")
    assert "activated" in await runner.run(f"{base}/activate 201 ctr")  # enables it first
    state = await runner.storage.services.info(D, "200")
    assert state.enabled == {"cfu", "cfb"} and state.activated == {"cfu": {"number": 157}}
    assert "ctr" in (await runner.storage.services.info(D, "201")).enabled
    out = await runner.run(f"{base}/info *")
    assert "200" in out and "number = 157" in out
    await _refused(runner, f"{base}/activate 200 cfu", "Command error: cfu needs the parameter")
    await _refused(
        runner,
        f"{base}/enable 200 teleportation",
        "Command error: unknown supplementary service 'teleportation'",
    )
    await _refused(runner, f"{base}/enable 999 cfu", "Command error: no subscriber or alias 999")
    await _refused(runner, f"{base}/enable {{9-}} cfu", "Invalid command's arguments")
    await _refused(
        runner, f"{base}/activate 200 cfu number = 1, number = 2", "Invalid command's arguments"
    )
    await _refused(runner, f"{base}/enable", "Invalid command's arguments")
    assert "Success: cfu deactivated for 1" in await runner.run(f"{base}/deactivate 200 Cfu")
    assert "disabled" in await runner.run(f"{base}/disable * *")
    assert await runner.storage.services.info_many(D) == []
    # find-me groups
    fm = f"{base}/find-me"
    assert "enabled" in await runner.run(f"{base}/enable 204 find_me")
    assert "added: group 1" in await runner.run(
        f"{fm}/add-group 204 [200,201] 5 true custom 1234567 00:00-23:59"
    )
    out = await runner.run(f"{fm}/add-group 204 [202] 5 true custom 7 00:00-00:00")
    assert "added: group 2" in out
    await _refused(
        runner,
        f"{fm}/add-group 204 [202] 5 true custom 8 00:00-01:00",
        "Command error: weekdays '8'",
    )
    await _refused(
        runner,
        f"{fm}/add-group 204 [202] 5 true custom 1 25:00-26:00",
        "Command error: time interval",
    )
    await _refused(runner, f"{fm}/remove-group 204 3", "Command error: 204 has 2 group(s)")
    assert "changed" in await runner.run(f"{fm}/set 204 send_call_diversion true")
    assert "removed: group 1" in await runner.run(f"{fm}/remove-group 204 1")
    params = (await runner.storage.services.info(D, "204")).activated["find_me"]
    assert params["send_call_diversion"] is True
    assert [g["numbers"] for g in params["groups"]] == [["202"]]


async def test_aliases_profiles_trunks_routing(runner: Runner) -> None:
    await _prepare(runner)
    base = f"/domain/{D}"
    assert "changed" in await runner.run(
        f"{base}/alias/set 200 sip.ab 200@{D} ss\\mgm\\telephone enabled"
    )
    assert "changed" in await runner.run(f"{base}/alias/set 200 sip.ab 200@{D} category 5")
    alias = await runner.storage.aliases.get(D, "200")
    assert alias.category == 5 and alias.properties == {"ss\\mgm\\telephone": "enabled"}
    await _refused(
        runner,
        f"{base}/alias/set 200 sip.ab 200@{D} category high",
        "Command error: category takes",
    )
    assert "cleaned" in await runner.run(f"{base}/alias/clean 200 sip.ab 200@{D} category")
    assert (await runner.storage.aliases.get(D, "200")).category == 1
    # media profile
    mp = f"{base}/media-profile"
    assert "declared" in await runner.run(f"{mp}/declare drop_729 drop_729 system")
    await _refused(runner, f"{mp}/declare drop_729 drop_729 system", "Command error:")
    assert "added" in await runner.run(f"{mp}/codecs-add drop_729 audio G729 * false")
    await _refused(runner, f"{mp}/codecs-add drop_729 radio G729 * false", "Invalid command's")
    assert "G729" in await runner.run(f"{mp}/info drop_729")
    assert "changed" in await runner.run(
        f"{base}/alias/set-for-iface sip.ab 201@{D} media-profile drop_729"
    )
    assert (await runner.storage.aliases.get(D, "201")).properties == {"media-profile": "drop_729"}
    assert "removed" in await runner.run(f"{mp}/remove drop_729")
    # iface
    assert "changed" in await runner.run(
        f"{base}/iface/user-set sip1 sip.ab 202@{D} terminal_type basic"
    )
    assert (await runner.storage.subscribers.get(D, "202")).setting("terminal_type") == "basic"
    await _refused(
        runner, f"{base}/iface/user-set sip1 sip.ab 202@{D} terminal_type rotary", "Command error:"
    )
    # trunk
    tr = f"{base}/trunk/sip"
    line = f"{tr}/declare default_routing tg1 t1 ipset1 static 127.0.0.1 5070 sip-proxy 5080"
    assert "declared" in await runner.run(line)
    await _refused(runner, line, "Command error: trunk 't1' already exists")
    await _refused(
        runner,
        line.replace("127.0.0.1", "localhost-ish").replace("t1", "t2"),
        "Invalid command's arguments",
    )
    # the mode word may be left out (static), as scripts for ECSS do
    no_mode = f"{tr}/declare ctx tg1 t3 ipset1 127.0.0.2 5060 sip-proxy 5081"
    assert "declared" in await runner.run(no_mode)
    assert (await runner.storage.trunks.get(D, "t3")).mode == "static"
    await _refused(
        runner,
        f"{tr}/declare ctx tg1 t4 ipset1 127.0.0.2 5060 proxy 5081",
        "Invalid command's arguments",
    )
    assert "blocked" in await runner.run(f"{tr}/block tg1 t1")
    assert (await runner.storage.trunks.get(D, "t1")).blocked
    assert "t1" in await runner.run(f"{tr}/info")
    assert "t3" in await runner.run(f"{tr}/info tg1 t3")
    assert "changed" in await runner.run(f"{tr}/set tg1 t1 sip_transport udp_only")
    assert (await runner.storage.trunks.get(D, "t1")).settings == {"sip_transport": "udp_only"}
    await _refused(
        runner,
        f"{tr}/set tg2 t1 sip_transport udp_only",
        "Command error: no trunk 't1' in group 'tg2'",
    )
    assert "Cancelled" in await runner.run(f"{tr}/remove tg1 t1", ["no"])
    assert "removed" in await runner.run(f"{tr}/remove tg1 t1 --force")
    # routing import (hidden command, --xml with the document on the rest of the line)
    xml = '<context name="ctx1"><rule name="r1"><result><local/></result></rule></context>'
    assert "imported: ctx1" in await runner.run(f"{base}/routing/.xbin/.import-context --xml {xml}")
    assert await runner.storage.kv.section(D, "routing_contexts") == {"ctx1": xml}
    await _refused(runner, f"{base}/routing/.xbin/.import-context --xml <context", "Command error")
    assert ".xbin" not in await runner.run(f"ls {base}/routing")


@pytest.mark.parametrize(
    "line",
    [
        "node/check-services",
        "/node/nodes-info",
        "system-status",
        "/cluster/mediator/md1/alarms/list",
    ],
)
async def test_status_commands(runner: Runner, line: str) -> None:
    output = await runner.run(line)
    assert output and not output.startswith(("There is", "Invalid", "Command error"))
    assert (await runner.run(f"{line} extra")).startswith("Invalid command's arguments")


async def test_everything_is_audited(runner: Runner) -> None:
    await _prepare(runner)
    await runner.run("nothing/here")
    await runner.run("domain/declare")
    entries = await runner.storage.audit.list(limit=10)
    assert [e.command for e in entries] == [
        f"domain/declare {D}",
        f"{DECLARE} {{200-204}}@{D} {AUTH}",
        "nothing/here",
        "domain/declare",
    ]
    assert [e.success for e in entries] == [True, True, False, False]
    assert all(e.user == "admin" and e.front_end == "cli" for e in entries)
    assert "nothing/here" in await runner.run("/system/audit/list 10")


async def test_domain_copy(runner: Runner) -> None:
    await _prepare(runner)
    base = f"/domain/{D}"
    await runner.run(f"{base}/sip/user/set sip.ab 201@{D} req100rel true")
    await runner.run(f"{base}/ss/activate 202 cfu number = 157")
    await runner.run(f"{base}/properties/timers/set no_answer_timeout 9")
    await runner.run(f"{base}/alias/set 203 sip.ab 203@{D} timezone UTC+07:00")
    await runner.run(f"{base}/media-profile/declare p1 p1 user")
    out = await runner.run(f"domain/copy {D} copy.ssw")
    assert out == f"Domain copy.ssw declared as a copy of {D} (5 subscriber(s))\n"
    store = runner.storage
    assert await store.subscribers.count("copy.ssw") == 5
    assert (await store.subscribers.get("copy.ssw", "201")).setting("req100rel") is True
    assert (await store.services.info("copy.ssw", "202")).activated == {"cfu": {"number": 157}}
    assert await store.kv.get("copy.ssw", "timers", "no_answer_timeout") == 9
    assert (await store.aliases.get("copy.ssw", "203")).iface == "203@copy.ssw"
    assert [p.name for p in await store.media_profiles.list("copy.ssw")] == ["p1"]
    await _refused(runner, f"domain/copy {D} copy.ssw", "Command error: domain 'copy.ssw' already")
    await _refused(runner, "domain/copy nope other", "Command error: domain 'nope' does not exist")


async def test_network_trace_and_service_access_list(runner: Runner) -> None:
    await _prepare(runner)
    base = f"/domain/{D}"
    out = await runner.run(f"{base}/sip/network/set listen_ports list [5064]")
    assert out == "successfully changed: listen_ports = list [5064]\n"
    assert "share_set  (not set)" in await runner.run(f"{base}/sip/network/info share_set")
    assert "successfully changed" in await runner.run(f"{base}/trace/properties/set mode full")
    assert await runner.storage.kv.section(D, "trace") == {"mode": "full"}
    await _refused(runner, f"{base}/sip/network/set bad/name 1", "Invalid command's arguments")
    # access list: none means every service; once set, others are refused
    acl = "/cluster/storage/ds1/ss/access-list"
    assert "allowed to pv.ssw3: cfu" in await runner.run(f"{acl} add {D} cfu")
    await _refused(runner, f"{base}/ss/enable 200 cfb", "Command error: cfb not allowed")
    assert "Success" in await runner.run(f"{base}/ss/enable 200 cfu")
    assert "Success" in await runner.run(f"{base}/ss/enable 201 *")
    assert (await runner.storage.services.info(D, "201")).enabled == {"cfu"}
    assert "*" in await runner.run(f"{acl} add {D} *")
    assert "Success" in await runner.run(f"{base}/ss/enable 200 cfb")
    assert "pv.ssw3" in await runner.run(f"{acl} info")
    await _refused(runner, f"{acl} add nope *", "Command error: domain 'nope' does not exist")
    await _refused(runner, f"{acl} grant {D} *", "Invalid command's arguments")


class _Limit(Exception):
    cause = "licence_limit"


class _Manager:
    """A licence manager allowing `allowed` subscribers in all."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed

    def check_subscribers(self, total_after: int) -> None:
        if total_after > self.allowed:
            raise _Limit(f"licence limit subscribers = {self.allowed} reached")


async def test_licence_limit_refuses_the_whole_range(runner: Runner) -> None:
    await _prepare(runner)
    runner.console.services.licence = type("Licence", (), {"manager": _Manager(8)})()
    await _refused(
        runner,
        f"{DECLARE} {{300-303}}@{D} {AUTH}",
        "Command error: licence limit subscribers = 8 reached",
    )
    assert "3 subscribers declared" in await runner.run(f"{DECLARE} {{300-302}}@{D} {AUTH}")
    entries = await runner.storage.audit.list(limit=5)
    assert any("licence limit" in e.result for e in entries)


async def test_routing_contexts(runner: Runner) -> None:
    import base64

    from ssw.cocon.commands.routing import routing_contexts

    await _prepare(runner)
    base = f"/domain/{D}/routing"
    xml = (
        '<context name="ctx_user" digitmap="auto"><rule name="to_local"><conditions>'
        '<cdpn digits="%"/></conditions><result><local/></result></rule></context>'
    )
    encoded = base64.b64encode(xml.encode()).decode()
    out = await runner.run(f"{base}/.xbin/.import-context --xml-base64 {encoded}")
    assert out == "successfully imported: ctx_user\n"
    # a large context (many rules) is kept too, and read back as written
    rules = "".join(f'<rule name="r{i}"><result><local/></result></rule>' for i in range(400))
    big = f'<context name="ctx_big">{rules}</context>'
    assert "ctx_big" in await runner.run(f"{base}/.xbin/.import-context --xml {big}")
    contexts = await routing_contexts(runner.storage, D)
    assert contexts == {"ctx_user": xml, "ctx_big": big}
    assert await runner.run(f"{base}/list") == "ctx_big\nctx_user\n"
    assert xml in await runner.run(f"{base}/info ctx_user")
    await _refused(runner, f"{base}/.xbin/.import-context --xml-base64 %%%", "Command error:")
    await _refused(runner, f"{base}/.xbin/.import-context {xml}", "Command error: give --xml")
    await _refused(runner, f"{base}/delete nope", "Command error: no routing context 'nope'")
    assert "deleted" in await runner.run(f"{base}/delete ctx_big")
    assert list(await routing_contexts(runner.storage, D)) == ["ctx_user"]


async def test_cdr_groups(runner: Runner) -> None:
    from ssw.cocon.commands.cdr import cdr_groups

    await _prepare(runner)
    base = f"/domain/{D}/cdr"
    assert "declared" in await runner.run(f"{base}/add_cdr_group gr1 mode count 10 prefix test")
    assert await cdr_groups(runner.storage, D) == {"gr1": "mode count 10 prefix test"}
    assert "changed" in await runner.run(f"/domain/{D}/alias/set 201 sip.ab 201@{D} cdr_group gr1")
    assert (await runner.storage.aliases.get(D, "201")).cdr_group == "gr1"
    await _refused(runner, f"{base}/add_cdr_group gr1 mode count", "Command error: CDR group")
    await _refused(runner, f"{base}/add_cdr_group bad/name mode", "Invalid command's arguments")
    assert "gr1" in await runner.run(f"{base}/info")
    assert "removed" in await runner.run(f"{base}/remove_cdr_group gr1")
    await _refused(runner, f"{base}/remove_cdr_group gr1", "Command error: no CDR group")
