"""Who may use the web view: the bind rule, the token, the Host check and CSRF.

- Without a token the server must bind a loopback address, and it answers only requests
  whose ``Host`` is a loopback name (a page elsewhere that re-points its own name at
  127.0.0.1 cannot read or act).
- With a token, every request must carry it: ``Authorization: Bearer T``, or the HttpOnly
  cookie set by a first visit to any page with ``?token=T``; otherwise 401.
- A state change is a POST with a JSON body whose ``X-CSRF-Token`` header equals the
  ``jido_csrf`` cookie (set on every page), from the same origin; a request authenticated
  by its ``Authorization`` header (a script) needs no CSRF token.
- Every response carries a strict Content-Security-Policy (scripts and styles from the
  server only, nothing inline) and is never cached.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "TOKEN_COOKIE",
    "Guard",
    "bind_error",
    "is_loopback",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "jido_token"
CSRF_COOKIE = "jido_csrf"
CSRF_HEADER = "x-csrf-token"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is loopback.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("[::1]"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def bind_error(host: str, token: str | None) -> str | None:
    """Why serving on ``host`` with ``token`` is refused (one line), or None when it is fine."""
    if token is not None and not token.strip():
        return "the token is empty: pass a non-empty --token or JIDO_WEB_TOKEN"
    if token is None and not is_loopback(host):
        return (
            f"refusing to serve on {host} without a token: pass --token T (or set "
            "JIDO_WEB_TOKEN), or bind 127.0.0.1"
        )
    return None


def _cookie_value(token: str) -> str:
    """What the token cookie holds: a digest of the token, never the token itself."""
    return hmac.new(token.encode(), b"jido web session", hashlib.sha256).hexdigest()


class Guard:
    """ASGI middleware that enforces the rules of this module's docstring."""

    def __init__(self, app: ASGIApp, *, token: str | None, bind_host: str = "127.0.0.1"):
        self.app = app
        self.token = token
        self._cookie = None if token is None else _cookie_value(token)
        self._bind_host = bind_host.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        cookies = _cookies(headers.get("cookie", ""))
        refused = self._refusal(scope, headers, cookies)
        if refused is not None:
            await _reply(send, refused[0], refused[1])
            return
        if self.token is not None and _query_token(scope) is not None:
            await self._login(scope, send)
            return
        set_csrf = CSRF_COOKIE not in cookies and scope["method"] == "GET"
        await self.app(scope, receive, _decorate(send, set_csrf))

    def _refusal(
        self, scope: Scope, headers: dict[str, str], cookies: dict[str, str]
    ) -> tuple[int, str] | None:
        if self.token is None and not self._host_allowed(headers.get("host", "")):
            return 403, "this server answers only to a loopback host name (127.0.0.1, localhost)"
        bearer = self.token is not None and self._bearer_ok(headers)
        if self.token is not None and not bearer and not self._token_ok(scope, cookies):
            return 401, (
                "this jido web needs its token: open any page once with ?token=T, "
                "or send Authorization: Bearer T"
            )
        if scope["method"] not in ("GET", "HEAD") and not bearer:
            return _csrf_refusal(scope, headers, cookies)
        return None

    def _host_allowed(self, host: str) -> bool:
        name = urlsplit(f"//{host}").hostname or ""
        return is_loopback(name) or name == self._bind_host

    def _bearer_ok(self, headers: dict[str, str]) -> bool:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and _same(value.strip(), self.token)

    def _token_ok(self, scope: Scope, cookies: dict[str, str]) -> bool:
        if _same(cookies.get(TOKEN_COOKIE, ""), self._cookie):
            return True
        return _same(_query_token(scope) or "", self.token)

    async def _login(self, scope: Scope, send: Send) -> None:
        """A valid ``?token=``: set the cookie and send the browser to the URL without it."""
        query = [(k, v) for k, v in parse_qsl(_query(scope), keep_blank_values=True)]
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        location = scope.get("root_path", "").encode() + raw + (f"?{rest}" if rest else "").encode()
        assert self._cookie is not None
        cookie = f"{TOKEN_COOKIE}={self._cookie}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location),
                    (b"set-cookie", cookie.encode()),
                    *_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _csrf_refusal(
    scope: Scope, headers: dict[str, str], cookies: dict[str, str]
) -> tuple[int, str] | None:
    if scope["method"] != "POST":
        return 405, "only GET and POST are served"
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != headers.get("host", ""):
        return 403, "cross-origin request refused"
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return 403, "cross-site request refused"
    if headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return 415, "a state change is a POST with a JSON body"
    expected = cookies.get(CSRF_COOKIE, "")
    if not expected or not _same(headers.get(CSRF_HEADER, ""), expected):
        return 403, "missing or wrong CSRF token (reload the page)"
    return None


def _same(given: str, expected: str | None) -> bool:
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())


def _query(scope: Scope) -> str:
    raw: bytes = scope.get("query_string", b"")
    return raw.decode("latin-1")


def _query_token(scope: Scope) -> str | None:
    if b"token=" not in scope.get("query_string", b""):
        return None
    return next((v for k, v in parse_qsl(_query(scope)) if k == "token"), None)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is no cookies, not an error
        return {}
    return {k: m.value for k, m in jar.items()}


def _decorate(send: Send, set_csrf: bool) -> Send:
    """``send`` with the security headers (and a new CSRF cookie when there was none)."""

    async def decorated(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.extend(_HEADERS)
            if set_csrf:
                value = secrets.token_urlsafe(24)
                headers.append(
                    (b"set-cookie", f"{CSRF_COOKIE}={value}; Path=/; SameSite=Strict".encode())
                )
            message["headers"] = headers
        await send(message)

    return decorated


async def _reply(send: Send, status: int, message: str) -> None:
    body = json.dumps({"ok": False, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
