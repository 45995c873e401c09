"""The answer to a SIP message that cannot be processed (ARCHITECTURE rule 5).

Two questions are answered here, and only here:

- `rejection_for(data, error)`: the parser (or the framer) gave up on these bytes; which
  response goes back? Requests whose Via can still be read get the error's status, with the
  Via, From, To, Call-ID and CSeq lines they carried (RFC 3261 §8.2.6.2). Responses, ACKs and
  input too broken to route an answer are dropped (None): a response to a response is never
  sent (§18.1.2), and an ACK is never answered (§17.2.1).
- `check_request(req, ...)`: the request parsed; may this element act on it? The checks of
  RFC 3261 §8.2 (UAS) and §16.3 (proxy), in the RFC's order, raising the `SipError` whose
  status answers it: 400 for malformed or missing mandatory fields, 501/405 for methods, 416
  for URI schemes, 420 for extensions, 483 for hops, 415/406 for bodies.

`check_response(resp)` is the response-side counterpart: a response failing it is dropped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Literal

from ssw.sip.errors import (
    BadExtension,
    BadRequest,
    HeaderError,
    MethodNotAllowed,
    MethodNotImplemented,
    NotAcceptable,
    SipError,
    TooManyHops,
    UnsupportedMediaType,
    UnsupportedUriScheme,
)
from ssw.sip.headers import Via
from ssw.sip.message import Request, Response
from ssw.sip.names import canonical_name, header_key, split_comma_list
from ssw.sip.uri import SipUri

__all__ = [
    "KNOWN_METHODS",
    "SINGLE_VALUE_HEADERS",
    "check_request",
    "check_response",
    "rejection_for",
]

# Methods defined by RFC 3261 and its extensions (3262, 3265/6665, 3311, 3428, 3515, 3903,
# 6086): a method outside this set is "unknown" (501), one inside but not allowed is 405.
KNOWN_METHODS: frozenset[str] = frozenset({
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
    "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
})

# Header fields that may appear once (RFC 3261 §7.3.1, §20): repeating them is a 400
# (RFC 4475 §3.3.8).
SINGLE_VALUE_HEADERS: frozenset[str] = frozenset({
    "call-id", "cseq", "from", "to", "max-forwards", "content-length", "content-type",
    "expires", "min-expires", "rseq", "rack", "session-expires", "min-se", "refer-to",
    "referred-by", "replaces", "event", "content-disposition", "mime-version",
})

_DEFAULT_SCHEMES = frozenset({"sip", "sips", "tel"})
_REQUEST_START = re.compile(r"([A-Za-z0-9\-.!%*_+`'~]+) ")
_LENIENT_VIA = re.compile(
    r"[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-_.]+)(?:[ \t]*:[ \t]*([0-9]{1,5}))?",
    re.IGNORECASE,
)
_COPIED = ("from", "to", "call-id", "cseq")
_TAG_PARAM = re.compile(r";[ \t]*tag[ \t]*=", re.IGNORECASE)


def rejection_for(data: bytes, error: SipError, *, to_tag: str | None = None) -> bytes | None:
    """The response (bytes) answering the request in `data` that failed with `error`.

    None when `data` is a response, an ACK, or has no readable Request-Line and top Via.
    The To tag, when the request's To has none, is `to_tag` or one derived from the bytes
    (the same for every retransmission, so a stateless answer stays consistent, §16.11).
    """
    head = data.split(b"\r\n\r\n", 1)[0].lstrip(b"\r\n")
    text = head.decode("utf-8", "surrogateescape")
    lines = _unfolded_lines(text)
    if not lines:
        return None
    start = _REQUEST_START.match(lines[0])
    if start is None or start.group(1).upper().startswith("SIP/") or start.group(1) == "ACK":
        return None
    fields: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        # A value holding a lone CR or LF (the cause of many 400s) is not copied: it would
        # end the answer's line early.
        if colon and name.strip() and "\r" not in value and "\n" not in value:
            fields.setdefault(header_key(name), []).append(value.strip(" \t"))
    vias = _vias_to_copy(fields.get("via", []))
    if not vias:
        return None
    out = [f"SIP/2.0 {error.status} {error.reason}"]
    out += [f"Via: {via}" for via in vias]
    for key in _COPIED:
        values = fields.get(key)
        if not values:
            continue
        value = values[0]
        if key == "to" and error.status != 100 and _TAG_PARAM.search(value) is None:
            value = f"{value};tag={to_tag or _derived_tag(data)}"
        out.append(f"{canonical_name(key)}: {value}")
    out += [f"{name}: {value}" for name, value in error.headers]
    out.append("Content-Length: 0")
    return ("\r\n".join(out) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def _unfolded_lines(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.split("\r\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip(" \t")
        elif line:
            lines.append(line)
    return lines


def _vias_to_copy(lines: list[str]) -> list[str]:
    """Every Via value when all parse; else the top one cleaned to what can be read."""
    values = [value for line in lines for value in _split_or_empty(line)]
    if not values:
        return []
    try:
        for value in values:
            Via.parse(value)
    except SipError:
        match = _LENIENT_VIA.match(values[0])
        if match is None:
            return []
        transport, host, port = match.groups()
        return [str(Via(transport.upper(), host, int(port) if port else None))]
    return values


def _split_or_empty(line: str) -> list[str]:
    try:
        return split_comma_list(line)
    except SipError:
        return [line]


def _derived_tag(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()[:12]


def check_request(
    req: Request,
    *,
    supported: Iterable[str] = (),
    allowed_methods: Iterable[str] = KNOWN_METHODS,
    acting_as: Literal["uas", "proxy"] = "uas",
    uri_schemes: Iterable[str] = _DEFAULT_SCHEMES,
    accepted_types: Iterable[str] | None = None,
    accepted_encodings: Iterable[str] = ("identity",),
    rfc2543_compat: bool = True,
) -> None:
    """Raise the `SipError` answering `req`, or return when the element may process it.

    `supported`: option tags this element implements (Require/Proxy-Require, §8.2.2.3).
    `allowed_methods`: methods a UAS accepts (others: 405, or 501 when unknown; §8.2.1).
    `acting_as`: "uas" checks method, Require and body; "proxy" checks Max-Forwards (483)
    and Proxy-Require (§16.3) and leaves method and body to the far end.
    `accepted_types`: body types a UAS understands (§8.2.3); None skips the 415 check.
    `rfc2543_compat`: tolerate a missing Max-Forwards (RFC 4475 §3.4.1).
    """
    _check_syntax(req, rfc2543_compat)
    method = req.method
    allowed = _as_set(allowed_methods)
    tags = _as_set(supported)
    cseq = req.cseq
    if cseq.method != method:
        if method not in KNOWN_METHODS and method not in allowed:
            raise MethodNotImplemented(method, allowed)
        raise BadRequest(f"CSeq method {cseq.method!r} does not match {method!r} (§8.1.1.5)")
    if req.ruri.scheme not in _lower_set(uri_schemes):
        raise UnsupportedUriScheme(f"Request-URI scheme {req.ruri.scheme!r} is not served")
    if acting_as == "proxy":
        _check_as_proxy(req, tags)
        return
    if method not in allowed:
        if method in KNOWN_METHODS:
            raise MethodNotAllowed(method, allowed)
        raise MethodNotImplemented(method, allowed)
    if method not in ("ACK", "CANCEL"):
        unknown = [tag for tag in req.require if tag not in tags]
        if unknown:
            raise BadExtension(unknown)
    _check_body(req, accepted_types, accepted_encodings)


def _as_set(values: Iterable[str]) -> frozenset[str]:
    """The argument as a set; callers on the hot path pass frozensets, built once."""
    return values if isinstance(values, frozenset) else frozenset(values)


def _lower_set(values: Iterable[str]) -> frozenset[str]:
    if values is _DEFAULT_SCHEMES:
        return _DEFAULT_SCHEMES
    return frozenset(value.lower() for value in values)


def _check_syntax(req: Request, rfc2543_compat: bool) -> None:
    """400s: mandatory fields present, parseable and not repeated (§8.1.1, RFC 4475 §3.3)."""
    keys = req.headers._keys
    if len(keys) != len(set(keys)):  # some header is repeated: one that may not be?
        for key in sorted(SINGLE_VALUE_HEADERS.intersection(keys)):
            if keys.count(key) > 1:
                raise HeaderError(f"more than one {canonical_name(key)} header", header=key)
    req.vias  # noqa: B018 - decoding validates every Via
    req.top_via  # noqa: B018
    req.from_.address  # noqa: B018
    req.to.address  # noqa: B018
    req.call_id  # noqa: B018
    req.cseq  # noqa: B018
    req.contacts  # noqa: B018
    req.routes  # noqa: B018
    req.record_routes  # noqa: B018
    req.expires  # noqa: B018
    for contact in req.contacts:
        if not contact.star:
            contact.address  # noqa: B018
    if req.max_forwards is None and not rfc2543_compat:
        raise HeaderError("missing Max-Forwards header", header="max-forwards")
    ruri = req.ruri
    if isinstance(ruri, SipUri) and ruri.headers:
        # RFC 3261 §19.1.5: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
        raise BadRequest("the Request-URI carries headers ('?'), which it may not")


def _check_as_proxy(req: Request, supported: frozenset[str]) -> None:
    """RFC 3261 §16.3 request validation at a proxy (steps 3 and 5)."""
    max_forwards = req.max_forwards
    if max_forwards == 0:
        raise TooManyHops("Max-Forwards is 0")
    unknown = [tag for tag in req.proxy_require if tag not in supported]
    if unknown:
        raise BadExtension(unknown)


def _check_body(
    req: Request, accepted_types: Iterable[str] | None, accepted_encodings: Iterable[str]
) -> None:
    """RFC 3261 §8.2.3 content processing and §21.4.7 (Accept) at a UAS."""
    if req.body and accepted_types is not None:
        accepted = sorted({kind.lower() for kind in accepted_types})
        content_type = req.content_type
        if content_type is None or content_type.mime not in accepted:
            raise UnsupportedMediaType(
                f"body type {content_type.mime if content_type else 'missing'} not understood",
                headers=[("Accept", ", ".join(accepted))],
            )
        encodings = {enc.lower() for enc in accepted_encodings}
        for encoding in req.headers.get_all("content-encoding"):
            if encoding.lower() not in encodings:
                raise UnsupportedMediaType(
                    f"content encoding {encoding!r} not understood",
                    headers=[("Accept-Encoding", ", ".join(sorted(encodings)))],
                )
    if req.method != "INVITE" or "accept" not in req.headers:
        return
    if not any(kind.matches("application/sdp") for kind in req.accept):
        raise NotAcceptable(
            "Accept excludes application/sdp, needed to answer an INVITE",
            headers=[("Accept", "application/sdp")],
        )


def check_response(resp: Response) -> None:
    """Raise `SipError` when a received response is unusable and must be dropped (§18.1.2)."""
    headers = resp.headers
    for key in ("call-id", "cseq", "from", "to"):
        if headers.count(key) > 1:
            raise HeaderError(f"more than one {canonical_name(key)} header", header=key)
    resp.top_via  # noqa: B018
    resp.from_  # noqa: B018
    resp.to  # noqa: B018
    resp.call_id  # noqa: B018
    resp.cseq  # noqa: B018

