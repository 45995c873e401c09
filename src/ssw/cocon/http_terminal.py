"""The http_terminal (port 9999): the console's commands over HTTP with XML bodies (SPEC §5).

    POST /system/login      <in><login user="admin" password="..."/></in>   -> session cookie
    POST /system/logout
    POST /commands/<name>   <in><request domain="pv.ssw3" .../></in>       -> runs the command
    POST /system/progress   <in><progress id="..."/></in>                  -> a 206 command's end

Arguments are the attributes of the element inside `<in>`, named as in the command reference
(docs/COCON.md); a placeholder `<D>` is given as `domain` (or `D`), `<CLUSTER>` as `cluster`.
Flags are attributes with the value `true` (`force="true"`).

Status codes: 201 done, 206 still running (poll /system/progress), 300 confirmation needed
(repeat with `force="true"`), 404 failed, with `cause` saying why (already_exists,
licence_limit, not_found, invalid_arguments, no_such_command, not_logged_in, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .console import Console
from .errors import CoconError, InvalidArguments, NoSuchCommand
from .lexer import LexError, split_words
from .parser import Invocation, bind_arguments
from .registry import Command, CommandResult, Role

__all__ = ["COOKIE", "HttpTerminal"]

COOKIE = "ssw_session"
MAX_BODY = 1_000_000
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_PLACEHOLDER_ATTRIBUTES = {"D": ("domain", "D"), "CLUSTER": ("cluster", "CLUSTER")}


@dataclass
class _Session:
    user: str
    role: Role
    source: str
    expires: float


@dataclass
class HttpTerminal:
    """The Starlette application; `progress_after` is when a slow command answers 206."""

    console: Console
    session_lifetime: float = 3600.0
    progress_after: float = 2.0
    _sessions: dict[str, _Session] = field(default_factory=dict)
    _running: dict[str, asyncio.Task[CommandResult]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/system/login", self._login, methods=["POST"]),
                Route("/system/logout", self._logout, methods=["POST"]),
                Route("/system/progress", self._progress, methods=["POST"]),
                Route("/commands/{name}", self._command, methods=["POST"]),
            ]
        )

    async def close(self) -> None:
        for task in self._running.values():
            task.cancel()
        for task in list(self._running.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._running.clear()

    async def _login(self, request: Request) -> Response:
        element = await _request_element(request, "login")
        if element is None:
            usage = escape('expected <in><login user="..." password="..."/></in>')
            return _reply(404, "bad_request", f"<error>{usage}</error>")
        user, password = element.get("user", ""), element.get("password", "")
        source = request.client.host if request.client else "unknown"
        role = await self.console.login(user, password, source, "http")
        if role is None:
            return _reply(404, "login_failed", "<error>wrong user or password</error>")
        token = secrets.token_urlsafe(24)
        now = self.console.services.clock()
        self._sessions = {t: s for t, s in self._sessions.items() if s.expires > now}
        self._sessions[token] = _Session(user, role, f"http:{source}", now + self.session_lifetime)
        response = _reply(201, "done", f"<login user={quoteattr(user)}/>")
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    async def _logout(self, request: Request) -> Response:
        self._sessions.pop(request.cookies.get(COOKIE, ""), None)
        response = _reply(201, "done", "")
        response.delete_cookie(COOKIE)
        return response

    def _session(self, request: Request) -> _Session | None:
        session = self._sessions.get(request.cookies.get(COOKIE, ""))
        if session is None or session.expires <= self.console.services.clock():
            return None
        return session

    async def _command(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return _reply(404, "not_logged_in", "<error>log in with POST /system/login</error>")
        name = request.path_params["name"]
        command = self.console.registry.by_http_name(name)
        context = self.console.context(session.user, session.role, session.source, "http")
        if command is None:
            error: CoconError = NoSuchCommand(name)
            await self.console.executor.reject(context, f"http {name}", error)
            return _error(error)
        element = await _request_element(request, None)
        attributes = dict(element.attrib) if element is not None else {}
        line = _audit_line(command, attributes)
        try:
            invocation = _invocation(command, attributes, line)
        except CoconError as exc:
            await self.console.executor.reject(context, line, exc)
            return _error(exc)
        if command.confirm and not invocation.arguments.flag("force"):
            return _reply(
                300,
                "confirmation_required",
                "<question>Are you sure? Repeat with force=\"true\"</question>",
            )
        task = asyncio.create_task(self.console.executor.run(context, invocation))
        done, _ = await asyncio.wait({task}, timeout=self.progress_after)
        if not done:
            progress = secrets.token_urlsafe(12)
            self._running[progress] = task
            return _reply(206, "in_progress", f"<progress id={quoteattr(progress)}/>")
        return _finished(task)

    async def _progress(self, request: Request) -> Response:
        if self._session(request) is None:
            return _reply(404, "not_logged_in", "<error>log in with POST /system/login</error>")
        element = await _request_element(request, "progress")
        ident = element.get("id", "") if element is not None else ""
        task = self._running.get(ident)
        if task is None:
            return _reply(404, "not_found", "<error>no such command in progress</error>")
        if not task.done():
            return _reply(206, "in_progress", f"<progress id={quoteattr(ident)}/>")
        del self._running[ident]
        return _finished(task)


def _finished(task: asyncio.Task[CommandResult]) -> Response:
    error = task.exception()
    if isinstance(error, CoconError):
        return _error(error)
    if error is not None:
        return _reply(404, "error", "<error>internal error</error>")
    return _reply(201, "done", f"<text>{escape(task.result().text)}</text>")


def _error(error: CoconError) -> Response:
    return _reply(404, error.cause, f"<error>{escape(error.render())}</error>")


def _reply(status: int, cause: str, body: str) -> Response:
    content = f'{_XML_DECLARATION}<out cause={quoteattr(cause)}>{body}</out>\n'
    return Response(content, status_code=status, media_type="application/xml")


async def _request_element(request: Request, tag: str | None) -> ElementTree.Element | None:
    """The element inside `<in>` (the first one, or the one named `tag`)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None  # never buffer more than MAX_BODY of anyone's upload
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        return None
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    if root.tag != "in":
        return root if tag is None or root.tag == tag else None
    children = list(root)
    if tag is not None:
        return root.find(tag)
    return children[0] if children else root


def _invocation(command: Command, attributes: dict[str, str], line: str) -> Invocation:
    """Bind XML attributes to the command's placeholders, arguments and flags."""
    path: dict[str, str] = {}
    for segment in command.segments:
        if segment.startswith("<"):
            name = segment[1:-1]
            value = _first(attributes, _PLACEHOLDER_ATTRIBUTES.get(name, (name.lower(), name)))
            if value is None:
                raise InvalidArguments(f"missing attribute {name.lower()}", command.usage())
            path[name] = value
    text_parts: list[str] = []
    for arg in command.args:
        value = _first(attributes, (arg.name, arg.name.replace("_", "-")))
        if value is None:
            if arg.optional:
                continue
            raise InvalidArguments(f"missing attribute {arg.name}", command.usage())
        text_parts.append(value if arg.kind.consumes != "one" else _quote(value))
    for flag in command.flags:
        if attributes.get(flag.name, "").lower() in ("true", "yes", "1"):
            text_parts.append(f"--{flag.name}")
    text = " ".join(text_parts)
    try:
        words = split_words(text)
    except LexError as exc:
        raise InvalidArguments(str(exc), command.usage()) from None
    return Invocation(command, bind_arguments(command, words, text, path), line)


def _first(attributes: dict[str, str], names: Iterable[str]) -> str | None:
    for name in names:
        if name in attributes:
            return attributes[name]
    return None


def _quote(value: str) -> str:
    if value and not any(c.isspace() or c in "\"'" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _audit_line(command: Command, attributes: dict[str, Any]) -> str:
    shown = {k: ("***" if "password" in k else v) for k, v in attributes.items()}
    return f"{command.path} " + " ".join(f"{k}={v}" for k, v in sorted(shown.items()))
