"""Which URLs and addresses an outgoing request may reach (the SSRF rules).

A URL given by a workspace (a webhook subscription, a play's "call a webhook" step, a Slack
incoming-webhook URL) must not become a way into our own network: the cloud metadata
service, a database's HTTP port, an admin page bound to loopback. So:

1. ``parse_url`` accepts only ``http``/``https`` URLs with a plain host name or IP literal,
   no credentials, no zone id, and a port that is the scheme's default or written out.
2. ``refusal_for_address`` names why an address is not a public unicast one (private,
   loopback, link-local, CGNAT, multicast, reserved, documentation, IPv4 embedded in IPv6…).
3. ``AllowList`` is the self-hoster's override (``TEND_OUTGOING_ALLOW``), off by default.

The transport resolves a host once, checks every address here, and connects to an address
it checked — so a second DNS answer can never point the connection elsewhere (rebinding).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOW_SETTING = "TEND_OUTGOING_ALLOW"

# Characters a host name may hold once IDNA-encoded. Underscores appear in real DNS names.
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?")
# Path and query characters sent as written; anything else is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"


class Refused(Exception):
    """The URL or the address it resolves to may not be contacted; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """A parsed, allowed-looking URL: what to resolve, where to connect, what to send."""

    scheme: str
    host: str  # lower-case ASCII host name, or an IP literal without brackets
    port: int
    request_target: str  # path and query, as written on the request line
    ip: IPAddress | None  # set when the host is an IP literal (nothing to resolve)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.ip, ipaddress.IPv6Address) else self.host
        if self.port == DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"


def parse_url(url: str) -> Target:
    """Split ``url`` into a ``Target``, or raise ``Refused`` naming the problem.

    Nothing is resolved here; forms such as ``http://2130706433/`` or ``http://0x7f.1/`` are
    left to the resolver, whose answer (127.0.0.1) the address rules then refuse.
    """
    if not isinstance(url, str) or not url:
        raise Refused("the URL is empty")
    if len(url) > 2048:
        raise Refused("the URL is longer than 2048 characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise Refused("the URL contains spaces or control characters")
    if "\\" in url:
        # Browsers read a backslash as a slash, Python's parser does not: refuse the ambiguity.
        raise Refused("the URL contains a backslash")
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. an unclosed or invalid [IPv6] host
        raise Refused(f"the URL cannot be read: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise Refused(f"only http and https URLs can be called, not {shown}")
    if not parts.netloc:
        raise Refused("the URL has no host")
    if "@" in parts.netloc:
        raise Refused("the URL holds credentials (user:password@); put them in a header instead")
    try:
        port = parts.port
    except ValueError:
        raise Refused("the URL's port is not a number between 1 and 65535") from None
    if port == 0:
        raise Refused("the URL's port is not a number between 1 and 65535")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise Refused("the URL has no host")
    bracketed = parts.netloc.startswith("[")
    if "%" in raw_host:
        if bracketed:
            raise Refused("IPv6 zone identifiers (%) are not allowed in the host")
        raise Refused("percent-encoded host names are not allowed")
    host, ip = _normalise_host(raw_host, bracketed=bracketed)
    path = parts.path or "/"
    request_target = quote(path, safe=_PATH_SAFE)
    if parts.query:
        request_target += "?" + quote(parts.query, safe=_PATH_SAFE)
    return Target(
        scheme=scheme,
        host=host,
        port=port or DEFAULT_PORTS[scheme],
        request_target=request_target,
        ip=ip,
    )


def _normalise_host(raw: str, *, bracketed: bool) -> tuple[str, IPAddress | None]:
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        ip = None
    if ip is not None:
        return str(ip), ip
    if bracketed:
        raise Refused(f"[{raw}] is not an IPv6 address")
    try:
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise Refused(f"the host name {raw!r} is not a valid international domain name") from None
    if len(host) > 253 or not _HOST_NAME.fullmatch(host):
        raise Refused(f"the host name {raw!r} contains characters a host name cannot hold")
    return host, None


# Address classes refused unless allow-listed, checked in order (first match names the reason).
# Python's ``is_global`` alone is not enough: in 3.11 it calls multicast addresses global.
_PRIVATE = "a private network address"
_DOCS = "a documentation address"
_IPV4_RULES = [
    ("0.0.0.0/8", 'an unspecified ("this network") address'),
    ("10.0.0.0/8", _PRIVATE),
    ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address (where cloud metadata services answer)"),
    ("172.16.0.0/12", _PRIVATE),
    ("192.0.0.0/24", "an IETF protocol assignment address"),
    ("192.0.2.0/24", _DOCS),
    ("192.88.99.0/24", "a 6to4 relay anycast address"),
    ("192.168.0.0/16", _PRIVATE),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", _DOCS),
    ("203.0.113.0/24", _DOCS),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved (or broadcast) address"),
]
_IPV6_RULES = [
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("::/96", "an IPv4-compatible address (deprecated)"),
    ("::ffff:0:0:0/96", "an IPv4-translated address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001::/23", "an IETF protocol assignment address (Teredo, ORCHID, …)"),
    ("2001:db8::/32", _DOCS),
    ("3fff::/20", _DOCS),
    ("fc00::/7", "a unique local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address (deprecated)"),
    ("ff00::/8", "a multicast address"),
]
_V4 = [(ipaddress.ip_network(net), label) for net, label in _IPV4_RULES]
_V6 = [(ipaddress.ip_network(net), label) for net, label in _IPV6_RULES]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refusal_for_address(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address we may connect to, or None if it is.

    IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, NAT64
    ``64:ff9b::a.b.c.d``, 6to4 ``2002:AABB:CCDD::``) are judged by the IPv4 address inside,
    since that is where the packets end up.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = refusal_for_address(embedded)
            return f"{inner}, written as IPv6 ({embedded} inside)" if inner else None
        rules = _V6
    else:
        rules = _V4
    for network, label in rules:
        if ip in network:
            return label
    if not ip.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


@dataclass(frozen=True)
class AllowList:
    """Networks and host names a self-hoster lets outgoing requests reach despite the rules.

    Written as a comma-separated list: ``10.0.0.0/8, 192.168.1.20, hooks.internal,
    .corp.example`` — a network (or single address), an exact host name, or a name starting
    with a dot for every host under that domain. Empty (the default) allows nothing extra.
    """

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    hosts: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> AllowList:
        networks, hosts, domains = [], set(), []
        for entry in re.split(r"[,\s]+", text or ""):
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = entry[2:] if entry.startswith("*.") else entry
            is_domain = entry.startswith(("*.", "."))
            name = name.lstrip(".").rstrip(".")
            if not name or not _HOST_NAME.fullmatch(name) or re.fullmatch(r"[\d./]+", name):
                raise ValueError(
                    f"{ALLOW_SETTING}: {entry!r} is neither a network (10.0.0.0/8), an address "
                    "nor a host name (hooks.internal, .corp.example)"
                )
            if is_domain:
                domains.append(name)
            else:
                hosts.add(name)
        return cls(tuple(networks), frozenset(hosts), tuple(domains))

    def __bool__(self) -> bool:
        return bool(self.networks or self.hosts or self.domains)

    def allows_host(self, host: str) -> bool:
        host = host.rstrip(".")
        if host in self.hosts:
            return True
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def allows_address(self, ip: IPAddress) -> bool:
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(
            c in net for c in candidates for net in self.networks if c.version == net.version
        )


def allow_list_from_settings() -> AllowList:
    """The configured allow-list: Django's ``TEND_OUTGOING_ALLOW`` setting, else the variable.

    Read on every call so that a test (or an operator's reload) changes it without a restart.
    """
    text = None
    try:
        from django.conf import settings

        if settings.configured:
            text = getattr(settings, ALLOW_SETTING, None)
    except ImportError:  # pragma: no cover - Django is always installed with Tend
        pass
    if text is None:
        text = os.environ.get(ALLOW_SETTING, "")
    return AllowList.parse(text)
