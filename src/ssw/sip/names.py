"""Header field names: lookup keys, compact forms and conventional spellings (RFC 3261 §7.3).

`header_key(name)` is the key a header is looked up by: lower-case, with the compact forms of
§7.3.3 and later RFCs expanded ("v" and "VIA" are both "via"). `canonical_name(name)` is the
spelling used when a header line is written. `LIST_HEADERS` names the fields whose values are
comma-separated lists (§7.3.1), and `split_comma_list` splits such a value.
"""

from __future__ import annotations

from ssw.sip.errors import HeaderError

__all__ = ["COMPACT_FORMS", "LIST_HEADERS", "canonical_name", "header_key", "split_comma_list"]

# RFC 3261 §7.3.3 and the RFCs that added compact forms (3265, 3515, 3841, 3892, 4028, 4474).
COMPACT_FORMS: dict[str, str] = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

_CANONICAL: dict[str, str] = {
    name.lower(): name
    for name in (
        "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
        "Allow-Events", "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
        "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
        "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "Identity",
        "Identity-Info", "In-Reply-To", "Max-Forwards", "Min-Expires", "Min-SE", "MIME-Version",
        "Organization", "P-Asserted-Identity", "P-Preferred-Identity", "Path", "Priority",
        "Privacy", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck",
        "Reason", "Record-Route", "Refer-To", "Referred-By", "Reject-Contact", "Replaces",
        "Reply-To", "Request-Disposition", "Require", "Retry-After", "Route", "RSeq",
        "Server", "Service-Route", "Session-Expires", "SIP-ETag", "SIP-If-Match", "Subject",
        "Subscription-State", "Supported", "Timestamp", "To", "Unsupported", "User-Agent",
        "Via", "Warning", "WWW-Authenticate", "Diversion", "History-Info", "Remote-Party-ID",
    )
}

# Header fields whose value is a comma-separated list (RFC 3261 §7.3.1): these, and only these,
# may be split at commas or combined from several lines.
LIST_HEADERS: frozenset[str] = frozenset({
    "accept", "accept-contact", "accept-encoding", "accept-language", "alert-info", "allow",
    "allow-events", "call-info", "contact", "content-encoding", "content-language",
    "error-info", "in-reply-to", "p-asserted-identity", "p-preferred-identity", "path",
    "proxy-require", "reason", "record-route", "reject-contact", "request-disposition",
    "require", "route", "security-client", "security-server", "security-verify",
    "service-route", "supported", "unsupported", "via", "warning", "history-info",
    "diversion",
})


# Names already looked up -> their key / spelling: code asks with the same few literals on
# every message. Bounded memos (names from the wire go through `ssw.sip.fields` first).
_KEYS: dict[str, str] = {}
_SPELLINGS: dict[str, str] = {}
_MEMO_LIMIT = 2048


def header_key(name: str) -> str:
    """The lookup key of a header name: lower-case, compact forms expanded (§7.3.3)."""
    key = _KEYS.get(name)
    if key is None:
        key = name.strip().lower()
        key = COMPACT_FORMS.get(key, key)
        if len(_KEYS) < _MEMO_LIMIT:
            _KEYS[name] = key
    return key


def canonical_name(name: str) -> str:
    """The conventional spelling of a header name ("call-id" -> "Call-ID")."""
    spelling = _SPELLINGS.get(name)
    if spelling is None:
        spelling = _spelling(name)
        if len(_SPELLINGS) < _MEMO_LIMIT:
            _SPELLINGS[name] = spelling
    return spelling


def _spelling(name: str) -> str:
    key = header_key(name)
    known = _CANONICAL.get(key)
    if known is not None:
        return known
    stripped = name.strip()
    if stripped != stripped.lower():
        return stripped
    return "-".join(part.capitalize() for part in stripped.split("-"))


def split_comma_list(value: str, *, keep_empty: bool = False) -> list[str]:
    """Split a list header value at commas outside quotes and <...> (RFC 3261 §7.3.1).

    Empty elements ("a,,b") are dropped unless `keep_empty` (for strict checks).
    """
    if "," not in value:
        stripped = value.strip()
        return [stripped] if stripped or keep_empty else []
    if '"' not in value and "<" not in value:
        items = [item.strip() for item in value.split(",")]
    else:
        items = []
        start = 0
        in_quotes = in_angle = False
        i = 0
        n = len(value)
        while i < n:
            char = value[i]
            if in_quotes:
                if char == "\\":
                    i += 1
                elif char == '"':
                    in_quotes = False
            elif char == '"':
                in_quotes = True
            elif char == "<":
                in_angle = True
            elif char == ">":
                in_angle = False
            elif char == "," and not in_angle:
                items.append(value[start:i].strip())
                start = i + 1
            i += 1
        if in_quotes:
            raise HeaderError(f"unterminated quoted string in {value!r}")
        items.append(value[start:].strip())
    return items if keep_empty else [item for item in items if item]
