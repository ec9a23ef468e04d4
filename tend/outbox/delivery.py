"""Handing one message to a transport, and what its answer means.

Every failure is classified, never raised: 2xx → ``sent``; a 4xx reply, a refused or lost
connection, a timeout or a TLS/login problem → ``retry``; a 5xx reply → ``failed``
(permanent). A login refused with 535 is a retry, not a permanent failure: the message is
fine, the configuration is not, and fixing EMAIL_URL should deliver the backlog.
"""

import contextlib
import os
import smtplib
import socket
import ssl
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from tend.outbox.composing import envelope_recipients, envelope_sender, mime_bytes
from tend.outbox.email_url import ConsoleConfig, FileConfig, SmtpConfig

SENT, RETRY, FAILED = "sent", "retry", "failed"
# However a server trickles, one attempt ends after this long (smtplib's timeout is per step).
TOTAL_DEADLINE_SECONDS = 120
REPLY_MAX_CHARS = 2000
# smtplib raises these for a refusal at the step it names (STARTTLS raises the base class).
STEPS = {"SMTPConnectError": "connecting", "SMTPHeloError": "EHLO", "SMTPDataError": "DATA"}


@dataclass(frozen=True)
class Outcome:
    result: str  # SENT, RETRY or FAILED
    reply: str
    code: int | None = None


def _text(reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    reply = str(reply).strip()
    return reply if len(reply) <= REPLY_MAX_CHARS else reply[: REPLY_MAX_CHARS - 1] + "…"


def from_reply(code: int, reply, during: str) -> Outcome:
    text = f"{code} {_text(reply)} (after {during})"
    if 200 <= code < 300:
        return Outcome(SENT, text, code)
    if 400 <= code < 500:
        return Outcome(RETRY, text, code)
    return Outcome(FAILED, text, code)


def deliver(config, message) -> Outcome:
    if isinstance(config, SmtpConfig):
        return SmtpDelivery(config).send(message)
    if isinstance(config, FileConfig):
        return write_file(config, message)
    if isinstance(config, ConsoleConfig):
        return print_message(message)
    raise TypeError(f"no transport for {config!r}")


def eml_name(message) -> str:
    # Named by the message, so a second attempt replaces the first file instead of adding one.
    return f"message-{message.pk}.eml"


def write_file(config: FileConfig, message) -> Outcome:
    directory = Path(config.directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        data = mime_bytes(message)
        # Written beside the target and renamed, so a reader never sees half a message.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".partial-", suffix=".eml")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        target = directory / eml_name(message)
        os.replace(tmp, target)
    except OSError as exc:
        return Outcome(RETRY, f"could not write to {directory}: {exc}")
    if config.development:
        return Outcome(
            SENT, f"kept as {target.name}; EMAIL_URL is not set, so nothing left this machine"
        )
    return Outcome(SENT, f"written to {target}")


def print_message(message) -> Outcome:
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    data = mime_bytes(message)
    separator = b"-" * 72 + b"\n"
    if out is not None:
        out.write(separator + data + b"\n" + separator)
        out.flush()
    else:
        sys.stdout.write((separator + data + b"\n" + separator).decode("utf-8", "replace"))
    return Outcome(SENT, "printed on standard output (EMAIL_URL=console://)")


class SmtpDelivery:
    """One SMTP conversation for one message, step by step, so each reply can be recorded.

    MAIL FROM, then RCPT TO per recipient (the message goes on if at least one is accepted;
    the refused ones are named in the log), then DATA.
    """

    def __init__(self, config: SmtpConfig):
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.timed_out = False

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.config.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        """Connect and read the greeting, with ``self.smtp`` set first so the deadline can
        cut a server that trickles its greeting."""
        c = self.config
        if c.security == "tls":
            self.smtp = smtplib.SMTP_SSL(timeout=c.timeout, context=self._tls_context())
        else:
            self.smtp = smtplib.SMTP(timeout=c.timeout)
        # Set by the constructor only when it connects; TLS checks the certificate against it.
        self.smtp._host = c.host
        code, reply = self.smtp.connect(c.host, c.port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, reply)
        return self.smtp

    def _expire(self):
        # Closing the socket under smtplib makes its current read or write fail at once.
        self.timed_out = True
        smtp = self.smtp
        if smtp is not None and smtp.sock is not None:
            with contextlib.suppress(OSError):
                smtp.sock.shutdown(socket.SHUT_RDWR)

    def send(self, message) -> Outcome:
        timer = threading.Timer(TOTAL_DEADLINE_SECONDS, self._expire)
        timer.daemon = True
        timer.start()
        try:
            outcome = self._converse(message)
        except smtplib.SMTPAuthenticationError as exc:
            outcome = Outcome(
                RETRY,
                f"{exc.smtp_code} {_text(exc.smtp_error)} (login refused; check the user and password in EMAIL_URL)",
                exc.smtp_code,
            )
        except smtplib.SMTPResponseException as exc:
            during = STEPS.get(type(exc).__name__, "a command")
            outcome = from_reply(exc.smtp_code, exc.smtp_error, during)
        except smtplib.SMTPNotSupportedError as exc:
            outcome = Outcome(RETRY, f"the server does not support what EMAIL_URL asks for: {exc}")
        except (smtplib.SMTPException, OSError) as exc:
            kind = type(exc).__name__
            outcome = Outcome(RETRY, f"{kind}: {_text(exc) or 'connection lost'}")
        except Exception as exc:
            # Whatever else goes wrong is recorded on the message and retried on its schedule,
            # rather than leaving it claimed until the job's own retry.
            outcome = Outcome(RETRY, f"unexpected {type(exc).__name__}: {_text(exc)}")
        finally:
            timer.cancel()
            self._quit()
        if self.timed_out and outcome.result != SENT:
            outcome = Outcome(
                RETRY, f"gave up after {TOTAL_DEADLINE_SECONDS} s: {outcome.reply}", outcome.code
            )
        return outcome

    def _converse(self, message) -> Outcome:
        smtp = self._connect()
        smtp.ehlo_or_helo_if_needed()
        if self.config.security == "starttls":
            smtp.starttls(context=self._tls_context())
            smtp.ehlo()
        if self.config.username:
            smtp.login(self.config.username, self.config.password)
        code, reply = smtp.mail(envelope_sender(message))
        if code != 250:
            return from_reply(code, reply, "MAIL FROM")
        accepted, refused = [], []
        for recipient in envelope_recipients(message):
            code, reply = smtp.rcpt(recipient)
            if code in (250, 251):
                accepted.append(recipient)
            else:
                refused.append((recipient, code, _text(reply)))
        if not accepted:
            # A 4xx for any recipient may pass later; only all-5xx is final.
            code = max((c for _, c, _ in refused if 400 <= c < 500), default=refused[0][1])
            if len(refused) == 1:
                return from_reply(refused[0][1], refused[0][2], f"RCPT TO {refused[0][0]}")
            detail = "; ".join(f"{r}: {c} {t}" for r, c, t in refused)
            result = from_reply(code, "", "RCPT TO").result
            return Outcome(result, f"Every recipient was refused (RCPT TO) — {detail}", code)
        code, reply = smtp.data(mime_bytes(message))
        outcome = from_reply(code, reply, "DATA")
        if outcome.result == SENT and refused:
            detail = "; ".join(f"{r}: {c} {t}" for r, c, t in refused)
            outcome = Outcome(SENT, f"{outcome.reply}. Not delivered to {detail}", code)
        return outcome

    def _quit(self):
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
