"""Fixtures for the outgoing-HTTP tests: a fake resolver and a record of every connect."""

import ipaddress
import socket

import pytest

from tend.lib.outgoing import AllowList
from tend.lib.outgoing.tests.servers import SilentListener

LOOPBACK = AllowList.parse("127.0.0.1/32")


class FakeResolver:
    """Stands in for ``socket.getaddrinfo``: each host answers from a list of answers.

    ``answer("h", ["10.0.0.1"], ["127.0.0.1"])`` makes the first lookup of ``h`` return
    10.0.0.1 and every later one 127.0.0.1 — a rebinding attacker's DNS server.
    """

    def __init__(self, real):
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.calls: list[str] = []

    def answer(self, host: str, *answers: list[str]) -> None:
        self.answers[host] = [list(a) for a in answers]

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        if host not in self.answers:
            # Numeric forms (127.1, 0x7f.1, ::1) are parsed by the C library, no network.
            return self.real(host, port, family, type, proto, flags)
        self.calls.append(host)
        queue = self.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 6:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos


@pytest.fixture
def resolver(monkeypatch):
    fake = FakeResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket in this process tried to connect to during the test."""
    attempts = []
    real = socket.socket.connect

    def spy(sock, address):
        attempts.append(address[:2])
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return attempts


@pytest.fixture
def silent_listener():
    listener = SilentListener()
    yield listener
    listener.close()


@pytest.fixture
def silent_listener_v6():
    listener = SilentListener("::1")
    yield listener
    listener.close()
