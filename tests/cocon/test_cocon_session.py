"""Built-in console commands: cd, ls, .., pwd, help, sleep, exit; hidden commands."""

from __future__ import annotations

from cocon_helpers import CollectingIO, Runner

from ssw.cocon.session import ConsoleSession


async def test_navigation(runner: Runner) -> None:
    session: ConsoleSession = runner.session
    assert session.prompt == "admin@mycelium1@ecss1:/$ "
    assert await runner.run("cd /domain/pv.ssw3/sip") == ""
    assert session.prompt == "admin@mycelium1@ecss1:/domain/pv.ssw3/sip$ "
    assert await runner.run("pwd") == "/domain/pv.ssw3/sip\n"
    await runner.run("..")
    assert session.cwd == ("domain", "pv.ssw3")
    await runner.run("sip/user")  # a directory typed alone is entered
    assert session.cwd == ("domain", "pv.ssw3", "sip", "user")
    await runner.run("cd ../../ss")
    assert session.cwd == ("domain", "pv.ssw3", "ss")
    await runner.run("cd")
    assert session.cwd == ()
    # a bare word under /domain is not taken for a domain to enter
    await runner.run("cd /domain")
    assert await runner.run("typo") == "There is no such command\n"
    assert session.cwd == ("domain",)
    assert await runner.run("cd /nowhere") == "There is no such command\n"
    assert await runner.run("cd a b") == (
        "Invalid command's arguments\n  cd takes one path\nUsage: cd <path>\n"
    )


async def test_ls_and_help_hide_dot_commands(runner: Runner) -> None:
    listing = await runner.run("ls /domain/x/routing")
    assert listing == "delete\ninfo\nlist\n"
    assert "declare" in await runner.run("ls /domain")
    assert "<D>/" in await runner.run("ls /domain")
    await runner.run("domain/declare pv.ssw3")
    assert (await runner.run("ls /domain")).endswith("<D>/\npv.ssw3/\n")
    help_text = await runner.run("help /domain/<D>/sip/user/declare")
    assert help_text.startswith("/domain/<D>/sip/user/declare <routing_ctx> <group> <address>")
    assert "<password>" in help_text
    assert "sleep <seconds>" in await runner.run("help")
    assert await runner.run("help /nothing") == "There is no such command\n"
    # hidden, yet callable
    assert "Command error: domain 'x' does not exist" in await runner.run(
        "/domain/x/routing/.xbin/.import-context --xml <context name='a'/>"
    )


async def test_sleep_and_exit(runner: Runner) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    runner.session.sleep = fake_sleep
    assert await runner.run("sleep 2.5") == ""
    assert slept == [2.5]
    assert (await runner.run("sleep soon")).startswith("Invalid command's arguments")
    assert (await runner.run("sleep 99999")).startswith("Command error: sleep takes")
    assert await runner.session.run_line("exit", CollectingIO()) is False
    assert await runner.session.run_line("# a comment", CollectingIO()) is True
