"""``EMAIL_URL``: where the outbox hands its messages (docs/outbox.md).

    smtp://user:pass@host:587?tls=1   plain SMTP, upgraded with STARTTLS (also smtp+tls://)
    smtp://host:25                    plain SMTP, no encryption (a local relay)
    smtps://user:pass@host:465        SMTP over TLS from the first byte (implicit TLS)
    file:///var/mail/tend             each message written as an .eml file in that directory
    console://                        each message printed on standard output
    (unset)                           development default: .eml files under DATA_DIR/mail

User and password are percent-decoded (``%40`` for ``@``). ``?timeout=`` sets the seconds
each network step may take (default 30); ``?verify=0`` accepts any TLS certificate (a test
relay with a self-signed one — never in production).
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings

DEFAULT_TIMEOUT = 30
PLAIN, STARTTLS, IMPLICIT_TLS = "plain", "starttls", "tls"
DEFAULT_PORTS = {PLAIN: 25, STARTTLS: 587, IMPLICIT_TLS: 465}
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class InvalidEmailUrl(ValueError):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str = ""
    password: str = ""
    timeout: float = DEFAULT_TIMEOUT
    verify: bool = True

    def describe(self) -> str:
        scheme = {PLAIN: "smtp", STARTTLS: "smtp+tls", IMPLICIT_TLS: "smtps"}[self.security]
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class FileConfig:
    directory: Path
    # True when EMAIL_URL is unset: nothing leaves this machine, and the pages say so.
    development: bool = False

    def describe(self) -> str:
        return f"file://{self.directory}"


@dataclass(frozen=True)
class ConsoleConfig:
    def describe(self) -> str:
        return "console://"


def _flag(query: dict, name: str, default: bool) -> bool:
    values = query.get(name)
    if not values:
        return default
    value = values[-1].strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InvalidEmailUrl(f"?{name}={values[-1]} is not a yes/no value (use 1 or 0)")


def parse_email_url(url: str) -> SmtpConfig | FileConfig | ConsoleConfig:
    """Parse an ``EMAIL_URL``; :class:`InvalidEmailUrl` says what is wrong with it."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"tls", "timeout", "verify"}
    if unknown:
        raise InvalidEmailUrl(
            f"unknown option {sorted(unknown)[0]!r} (known: tls, timeout, verify)"
        )
    if scheme == "console":
        return ConsoleConfig()
    if scheme == "file":
        if not parts.path or parts.path == "/":
            raise InvalidEmailUrl("file:// needs a directory, e.g. file:///var/mail/tend")
        return FileConfig(directory=Path(unquote(parts.path)))
    if scheme in ("smtp", "smtp+tls", "smtps"):
        if scheme == "smtps":
            security = IMPLICIT_TLS
        elif scheme == "smtp+tls" or _flag(query, "tls", False):
            security = STARTTLS
        else:
            security = PLAIN
        if not parts.hostname:
            raise InvalidEmailUrl(
                f"{scheme}:// needs a host, e.g. {scheme}://user:pass@mail.example.com"
            )
        try:
            port = parts.port or DEFAULT_PORTS[security]
        except ValueError as exc:
            raise InvalidEmailUrl(f"the port is not a number ({exc})") from None
        try:
            timeout = float(query.get("timeout", [DEFAULT_TIMEOUT])[-1])
        except ValueError:
            raise InvalidEmailUrl(
                f"?timeout={query['timeout'][-1]} is not a number of seconds"
            ) from None
        if timeout <= 0:
            raise InvalidEmailUrl("?timeout must be more than 0 seconds")
        return SmtpConfig(
            host=parts.hostname,
            port=port,
            security=security,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            timeout=timeout,
            verify=_flag(query, "verify", True),
        )
    shown = scheme or "(none)"
    raise InvalidEmailUrl(f"unknown scheme {shown!r}; use smtp, smtp+tls, smtps, file or console")


def configured_transport() -> SmtpConfig | FileConfig | ConsoleConfig:
    """The transport settings say to use now (read on every delivery, so tests may override)."""
    url = getattr(settings, "EMAIL_URL", "")
    if not url:
        return FileConfig(directory=Path(settings.TEND_MAIL_DIR), development=True)
    return parse_email_url(url)
