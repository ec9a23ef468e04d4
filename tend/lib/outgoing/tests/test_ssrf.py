"""Private, internal and odd targets are refused before any connection is attempted.

``connects`` records every socket connect in the process: a refusal that came after
connecting would show up there even if the target never answered.
"""

import ipaddress

import pytest

from tend.lib.outgoing import AllowList, Outcome, check_url, send
from tend.lib.outgoing.tests.conftest import LOOPBACK
from tend.lib.outgoing.tests.servers import HttpServer

NOTHING_ALLOWED = AllowList()

# URL forms that must never reach anything: loopback spelled every way the C library (or a
# browser) accepts, metadata services, private ranges, odd schemes, credentials, tricks.
REFUSED_URLS = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.0.0.1:8000/admin", "loopback"),
    ("https://127.0.0.1:443/", "loopback"),
    ("http://127.1/", "loopback"),  # short form
    ("http://2130706433/", "loopback"),  # decimal
    ("http://017700000001/", "loopback"),  # octal
    ("http://0177.0.0.1/", "loopback"),  # dotted octal
    ("http://0x7f000001/", "loopback"),  # hex
    ("http://0x7f.0x0.0x0.0x1/", "loopback"),  # dotted hex
    ("http://127.127.127.127/", "loopback"),
    ("http://localhost/", "loopback"),
    ("HTTP://LOCALHOST:80/", "loopback"),
    ("http://localhost./", "loopback"),  # trailing dot
    ("http://api.localhost/", "loopback"),  # RFC 6761: every *.localhost is loopback
    ("http://①②⑦.0.0.1/", "loopback"),  # IDNA folds these digits to 127.0.0.1
    ("http://[::1]/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[64:ff9b::127.0.0.1]/", "loopback"),  # NAT64
    ("http://[2002:7f00:1::1]/", "loopback"),  # 6to4
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # AWS, GCP, Azure metadata
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://[fd00:ec2::254]/", "unique local"),  # AWS metadata over IPv6
    ("http://100.100.100.200/", "carrier-grade NAT"),  # Alibaba Cloud metadata
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://224.0.0.251/", "multicast"),
    ("http://255.255.255.255/", "reserved"),
    ("http://240.0.0.1/", "reserved"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://192.0.2.10/", "documentation"),
    ("http://[fe80::1%25lo]/", "zone identifiers"),
    ("http://%31%32%37.0.0.1/", "percent-encoded"),
    ("file:///etc/passwd", "only http and https"),
    ("ftp://127.0.0.1/", "only http and https"),
    ("gopher://127.0.0.1:6379/_INFO", "only http and https"),
    ("dict://127.0.0.1:11211/stats", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("data:text/plain,hello", "only http and https"),
    ("//127.0.0.1/", "only http and https"),
    ("http://example.com@127.0.0.1/", "credentials"),
    ("http://user:secret@hooks.example.com/", "credentials"),
    ("http://127.0.0.1\\@example.com/", "backslash"),
    ("http://127.0.0.1:0/", "port"),
    ("http://127.0.0.1:65536/", "port"),
    ("http://127.0.0.1:80:80/", "port"),
    ("http://127.0.0.1 /", "spaces or control"),
    ("http://127.0.0.1/\r\nX-Injected: 1", "spaces or control"),
    ("http://[::1/", "cannot be read"),
    ("http:///path-only", "no host"),
    ("", "empty"),
]


@pytest.mark.parametrize(("url", "why"), REFUSED_URLS)
def test_each_url_form_is_refused_before_any_connection(url, why, connects):
    result = send("POST", url, body=b"{}", allow=NOTHING_ALLOWED)
    assert result.outcome is Outcome.PERMANENT
    assert result.refused
    assert result.reason.startswith("refused before connecting: ")
    assert why in result.reason
    assert result.status_code is None
    assert connects == []


def test_the_corpus_covers_at_least_thirty_forms():
    assert len(REFUSED_URLS) >= 30


# Host names whose DNS answer is an internal address (the resolver is faked; these names
# stand for any public name an attacker points at our network).
ADDRESS_CLASSES = [
    ("10.1.2.3", "private"),
    ("172.31.255.255", "private"),
    ("192.168.0.10", "private"),
    ("127.0.0.53", "loopback"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an answer to refuse, not a bind
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("192.0.0.8", "IETF protocol"),
    ("203.0.113.9", "documentation"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fd12:3456::1", "unique local"),
    ("fe80::abcd", "link-local"),
    ("ff05::2", "multicast"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
    ("::10.0.0.1", "IPv4-compatible"),
    ("2001::1", "IETF protocol"),  # Teredo
    ("2001:db8::1", "documentation"),
]


@pytest.mark.parametrize(("address", "why"), ADDRESS_CLASSES)
def test_a_name_resolving_to_an_internal_address_is_refused_with_the_reason(
    address, why, resolver, connects
):
    resolver.answer("hooks.attacker.example", [address])
    result = send("POST", "https://hooks.attacker.example/in", body=b"{}", allow=NOTHING_ALLOWED)
    assert result.outcome is Outcome.PERMANENT and result.refused
    shown = ipaddress.ip_address(address)  # as Python writes it: ::ffff:a00:1 for ::ffff:10.0.0.1
    assert f"hooks.attacker.example resolves to {shown}, " in result.reason
    assert why in result.reason
    assert "TEND_OUTGOING_ALLOW" in result.reason
    assert connects == []


def test_one_internal_address_among_public_ones_refuses_the_whole_name(resolver, connects):
    resolver.answer("mixed.example", ["93.184.215.14", "10.0.0.7"])
    result = send("POST", "https://mixed.example/", body=b"{}", allow=NOTHING_ALLOWED)
    assert result.refused
    assert "10.0.0.7" in result.reason
    assert connects == []


def test_a_refused_target_never_sees_a_connection(silent_listener):
    result = send("POST", silent_listener.url("/hook"), body=b"{}", allow=NOTHING_ALLOWED)
    assert result.refused
    assert not silent_listener.was_contacted()


def test_ipv6_loopback_is_refused_before_connecting(silent_listener_v6):
    result = send("POST", silent_listener_v6.url(), body=b"{}", allow=NOTHING_ALLOWED)
    assert result.refused
    assert "::1 is a loopback address" in result.reason
    assert not silent_listener_v6.was_contacted()


def test_a_listener_that_is_contacted_is_noticed(silent_listener):
    """The probe above can fail: an allowed send does reach the listener's backlog."""
    send("POST", silent_listener.url(), body=b"{}", allow=LOOPBACK, deadline_seconds=0.5)
    assert silent_listener.was_contacted()


def test_nothing_extra_is_allowed_by_default(settings, monkeypatch, silent_listener):
    settings.TEND_OUTGOING_ALLOW = ""
    monkeypatch.delenv("TEND_OUTGOING_ALLOW", raising=False)
    result = send("POST", silent_listener.url(), body=b"{}")
    assert result.refused
    assert not silent_listener.was_contacted()


def test_the_allow_list_setting_lets_a_self_hoster_reach_a_private_network(settings):
    settings.TEND_OUTGOING_ALLOW = "10.0.0.0/8, 127.0.0.0/8"
    with HttpServer() as server:
        result = send("POST", server.url(), body=b"{}")
    assert result.delivered
    assert len(server.requests) == 1


def test_the_environment_variable_is_read_when_django_has_no_setting(settings, monkeypatch):
    del settings.TEND_OUTGOING_ALLOW
    monkeypatch.setenv("TEND_OUTGOING_ALLOW", "127.0.0.1")
    with HttpServer() as server:
        assert send("POST", server.url(), body=b"{}").delivered


def test_an_allowed_host_name_may_resolve_to_a_private_address(resolver, connects):
    resolver.answer("hooks.internal", ["127.0.0.1"])
    with HttpServer() as server:
        result = send(
            "POST",
            server.url(host="hooks.internal"),
            body=b"{}",
            allow=AllowList.parse("hooks.internal"),
        )
    assert result.delivered
    assert server.requests[0].headers["host"] == f"hooks.internal:{server.port}"
    assert connects == [("127.0.0.1", server.port)]


def test_a_domain_entry_allows_names_under_it_and_no_look_alikes(resolver, connects):
    allow = AllowList.parse(".corp.test")
    resolver.answer("crm.eu.corp.test", ["127.0.0.1"])
    resolver.answer("corp.test.attacker.example", ["127.0.0.1"])
    resolver.answer("evilcorp.test", ["127.0.0.1"])
    with HttpServer() as server:
        assert send("POST", server.url(host="crm.eu.corp.test"), body=b"", allow=allow).delivered
        assert send(
            "POST", server.url(host="corp.test.attacker.example"), body=b"", allow=allow
        ).refused
        assert send("POST", server.url(host="evilcorp.test"), body=b"", allow=allow).refused
    assert len(server.requests) == 1


def test_an_allowed_network_does_not_open_its_neighbours(resolver):
    allow = AllowList.parse("10.20.0.0/16")
    resolver.answer("in.example", ["10.20.1.1"])
    resolver.answer("out.example", ["10.21.1.1"])
    assert check_url("http://in.example/", allow=allow) is None
    assert "10.21.1.1" in check_url("http://out.example/", allow=allow)


@pytest.mark.parametrize(
    "entry", ["10.0.0.0/33", "http://hooks.internal", "hooks internal!", "1.2.3", "hooks:8080"]
)
def test_a_malformed_allow_list_entry_is_an_error_naming_it(entry):
    with pytest.raises(ValueError, match="TEND_OUTGOING_ALLOW"):
        AllowList.parse(entry)


def test_dns_rebinding_cannot_swap_the_address_after_the_check(resolver, connects):
    """The first answer is checked and connected to; a later, different answer is never asked for."""
    resolver.answer("rebind.example", ["127.0.0.1"], ["10.9.9.9"])
    with HttpServer() as server:
        result = send("POST", server.url(host="rebind.example"), body=b"{}", allow=LOOPBACK)
    assert result.delivered
    assert resolver.calls == ["rebind.example"]  # resolved exactly once
    assert connects == [("127.0.0.1", server.port)]  # to the checked address, not the name
    assert server.requests[0].headers["host"] == f"rebind.example:{server.port}"


def test_dns_rebinding_towards_an_allowed_address_after_a_refusal_gets_nowhere(resolver, connects):
    resolver.answer("rebind.example", ["169.254.169.254"], ["127.0.0.1"])
    with HttpServer() as server:
        result = send("POST", server.url(host="rebind.example"), body=b"{}", allow=LOOPBACK)
    assert result.refused
    assert resolver.calls == ["rebind.example"]
    assert connects == [] and server.requests == []


def test_ipv6_loopback_can_be_allowed_and_is_then_reached():
    with HttpServer(host="::1") as server:
        result = send("POST", server.url(), body=b"{}", allow=AllowList.parse("::1/128"))
    assert result.delivered
    assert result.address == "::1"
    assert server.requests[0].headers["host"] == f"[::1]:{server.port}"


def test_check_url_answers_forms_before_anything_is_saved(resolver):
    resolver.answer("hooks.example.com", ["93.184.215.14"])
    assert check_url("https://hooks.example.com/in", allow=NOTHING_ALLOWED) is None
    assert "loopback" in check_url("http://[::1]/", allow=NOTHING_ALLOWED)
    assert "only http and https" in check_url("ftp://hooks.example.com/", allow=NOTHING_ALLOWED)
    resolver.answer("not-yet.example", [])
    assert check_url("https://not-yet.example/", allow=NOTHING_ALLOWED) is None
