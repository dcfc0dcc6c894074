"""One SMTP session that sends one message at a time and says what the server answered.

Why stdlib ``smtplib``: it is the well-kept SMTP client, and its low-level verbs (MAIL, RCPT,
DATA) give the server's reply at each step, which the send log records per person. Each reply is
classified once here (``Verdict``): 2xx sent; 5xx refused (permanent); 4xx temporary (retried with
back-off by ``issue.send``); a dropped connection is temporary too, and when it drops after the
message body was sent the message may have arrived, so it is flagged ``maybe_delivered``.
A 5xx to MAIL FROM (the sender itself refused, e.g. authentication required) is not a member's
problem: it stops the run (``SenderRefused``) with every unsent message still queued.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass, field
from enum import StrEnum

from omov.errors import UsageError


class Security(StrEnum):
    PLAIN = "plain"
    STARTTLS = "starttls"
    TLS = "tls"


class Verdict(StrEnum):
    SENT = "sent"
    REFUSED = "refused"
    TEMPORARY = "temporary"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security = Security.PLAIN
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    local_hostname: str | None = None


@dataclass(frozen=True)
class Reply:
    verdict: Verdict
    code: int | None
    text: str
    maybe_delivered: bool = False


class SenderRefused(UsageError):
    """The server refused our sender or login: a setting to fix, not a member to give up on."""


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _verdict(code: int) -> Verdict:
    if 200 <= code < 300:
        return Verdict.SENT
    return Verdict.REFUSED if 500 <= code < 600 else Verdict.TEMPORARY


class Session:
    """A lazily (re)connected SMTP client; ``send`` never raises for a member's message."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.client: smtplib.SMTP | None = None
        self.connects = 0

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.security is Security.TLS:
            client = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=context, local_hostname=s.local_hostname
            )
        else:
            client = smtplib.SMTP(
                s.host, s.port, timeout=s.timeout, local_hostname=s.local_hostname
            )
        try:
            client.ehlo()
            if s.security is Security.STARTTLS:
                client.starttls(context=context)
                client.ehlo()
            if s.username is not None:
                client.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            client.close()
            raise SenderRefused(
                f"the SMTP server refused the login ({exc.smtp_code})",
                fix="check the credentials file or OMOV_SMTP_USER / OMOV_SMTP_PASSWORD",
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            client.close()
            raise SenderRefused(f"the SMTP server does not support this: {exc}") from None
        self.connects += 1
        return client

    def connect(self) -> None:
        """Open the session now (OSError / SMTPException if the server cannot be reached)."""
        if self.client is None:
            self.client = self._connect()

    def drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def quit(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    def _reset(self, client: smtplib.SMTP) -> None:
        try:
            client.rset()
        except (OSError, smtplib.SMTPException):
            self.drop()

    def send(self, sender: str, recipient: str, data: bytes) -> Reply:
        """MAIL, RCPT, DATA for one message; the server's verdict (never raises for the member)."""
        body_sent = False
        try:
            self.connect()
            client = self.client
            assert client is not None
            code, raw = client.mail(sender)
            if code >= 500:
                self._reset(client)
                raise SenderRefused(
                    f"the SMTP server refused the sender {sender!r}: {code} {_text(raw)}",
                    fix="check --from and the server's relay and authentication settings",
                )
            if code >= 300:
                self._reset(client)
                return Reply(_verdict(code), code, _text(raw))
            code, raw = client.rcpt(recipient)
            if code not in (250, 251):
                self._reset(client)
                return Reply(_verdict(code), code, _text(raw))
            body_sent = True
            code, raw = client.data(data)
            if code >= 300:
                self._reset(client)
            return Reply(_verdict(code), code, _text(raw))
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            body_sent = False
            if self.client is not None:
                self._reset(self.client)
            return Reply(_verdict(exc.smtp_code), exc.smtp_code, _text(exc.smtp_error))
        except smtplib.SMTPResponseException as exc:  # e.g. 421 closing: reconnect next time
            self.drop()
            return Reply(Verdict.TEMPORARY, exc.smtp_code, _text(exc.smtp_error), body_sent)
        except (OSError, smtplib.SMTPException) as exc:
            self.drop()
            what = "the connection dropped" if self.connects else "cannot connect"
            return Reply(Verdict.TEMPORARY, None, f"{what}: {type(exc).__name__}", body_sent)
