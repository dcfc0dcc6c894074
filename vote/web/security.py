"""Response headers, CSRF, and errors that never show or log a request's content.

* Every response: ``Cache-Control: no-store`` (a ballot page must not be kept by the browser or
  a proxy), ``Referrer-Policy: no-referrer``, a CSP with scripts and styles from this server only
  (no inline script) and ``frame-ancestors 'none'``, ``X-Content-Type-Options: nosniff``.
* Forms carry a CSRF value that must equal the ``omov_csrf`` cookie (double submit, compared with
  ``hmac.compare_digest``; the cookie is ``SameSite=Strict`` and ``HttpOnly``). The JSON API takes
  no cookie and only ``application/json``, which a cross-site form cannot send.
* ``BodyLimit``: a request body over 64 KiB is refused (413) before it is read into memory
  (a ballot form for 100 candidates is a few KiB).
* ``SafeErrors`` is the outermost layer: any exception becomes a plain 500 page, and the log
  gets the exception's *type* only (a message or traceback could quote a token).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "omov_csrf"
CSRF_FIELD = "csrf"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: The candidates' pack is a self-contained page with its own <style>: no script at all.
PACK_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
HEADERS = {
    b"cache-control": b"no-store",
    b"referrer-policy": b"no-referrer",
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
_log = logging.getLogger("omov.vote")


class SecurityHeaders:
    """ASGI middleware adding ``HEADERS`` and the CSP (unless a route set its own CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in HEADERS
                ]
                headers += list(HEADERS.items())
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


MAX_BODY = 64 * 1024


class BodyLimit:
    """ASGI middleware: 413 for a declared Content-Length over the limit; a body sent without
    one (chunked) is read first, up to the limit, and replayed to the app."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lengths = [v for k, v in scope.get("headers", []) if k == b"content-length"]
        if lengths:
            if not lengths[0].isdigit() or int(lengths[0]) > self.limit:
                await _plain(send, 413, b"Request body too large.")
                return
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # a disconnect: let the app see it
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _plain(send, 413, b"Request body too large.")
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                *HEADERS.items(),
                (b"content-security-policy", CSP.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SafeErrors:
    """Outermost ASGI layer: an exception is logged by type only and answered with a bare 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            _log.error("request failed: %s at %s", type(exc).__name__, scope.get("path", "?"))
            if started or scope["type"] != "http":
                return
            await _plain(
                send, 500, b"Something went wrong on the server. Nothing was recorded; try again."
            )


def csrf_value(request: Request) -> tuple[str, bool]:
    """The CSRF value for this browser: (value, True if new and the cookie must be set)."""
    found = request.cookies.get(CSRF_COOKIE, "")
    if len(found) == 43 and found.isascii():
        return found, False
    return secrets.token_urlsafe(32), True


def set_csrf_cookie(response: Response, value: str, request: Request) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def csrf_ok(request: Request, form: Any) -> bool:
    """The form's CSRF field equals the cookie (constant-time), and both are present."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD, "")
    if not cookie or not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(cookie.encode(), sent.encode())
