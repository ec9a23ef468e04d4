"""Personas for tests: an owner, teammates with lesser seats, and an outsider.

Every test that touches access uses these so that "outsider gets 404" and "viewer cannot
write" read the same everywhere. Plain functions (usable from benchmarks and scripts) plus
the fixtures in ``tend/conftest.py``.
"""

import functools
import itertools
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.test import Client
from django_scopes import scopes_disabled

from tend.workspaces.access import Actor
from tend.workspaces.models import ApiToken, Member, Seat, User, Workspace, hash_token

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@functools.cache
def password_hash() -> str:
    """PASSWORD hashed once per process with the production hasher.

    Hashing costs ~0.4 s by design (PBKDF2, a million rounds); personas are made thousands
    of times across the suite, so hashing each one took a third of its run. Every test user
    shares this one hash, which still verifies with the real hasher (logins in tests and in
    subprocesses keep working), so nothing about sign-in is faked.
    """
    return make_password(PASSWORD)


def make_workspace(name: str = "Acme CS", slug: str | None = None) -> Workspace:
    n = next(_counter)
    with scopes_disabled():
        return Workspace.objects.create(name=name, slug=slug or f"ws-{n}")


def make_member(workspace: Workspace, seat: str = Seat.ADMIN, email: str | None = None, name: str = "") -> Member:
    n = next(_counter)
    email = email or f"person{n}@example.com"
    with scopes_disabled():
        user = User.objects.filter(email=email).first() or _make_user(email, name or f"Person {n}")
        return Member.objects.create(workspace=workspace, user=user, seat=seat)


def _make_user(email: str, full_name: str) -> User:
    user = User.objects.create_user(email=email, password=None, full_name=full_name)
    user.password = password_hash()
    user.save(update_fields=["password"])
    return user


def make_token(workspace: Workspace, scopes=("read", "write", "admin", "ingest"), name: str = "test") -> str:
    raw = ApiToken.generate()
    with scopes_disabled():
        ApiToken.objects.create(
            workspace=workspace, name=name, prefix=raw[:12], token_hash=hash_token(raw), scopes=list(scopes)
        )
    return raw


def actor_for(member: Member) -> Actor:
    return Actor(workspace=member.workspace, member=member)


def browser_client(member: Member, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(member.user)
    return client


def token_client(raw_token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}")


@dataclass
class Persona:
    member: Member
    token: str = ""
    _clients: dict = field(default_factory=dict)

    @property
    def workspace(self) -> Workspace:
        return self.member.workspace

    @property
    def actor(self) -> Actor:
        return actor_for(self.member)

    @property
    def browser(self) -> Client:
        if "browser" not in self._clients:
            self._clients["browser"] = browser_client(self.member)
        return self._clients["browser"]

    @property
    def api(self) -> Client:
        """A client authenticated with a bearer token carrying this persona's rights."""
        if "api" not in self._clients:
            self._clients["api"] = token_client(self.token)
        return self._clients["api"]


SEAT_SCOPES = {
    Seat.ADMIN: ("read", "write", "admin", "ingest"),
    Seat.PRACTITIONER: ("read", "write"),
    Seat.CONTRIBUTOR: ("read",),
    Seat.VIEWER: ("read",),
}


def make_persona(workspace: Workspace, seat: str = Seat.ADMIN, email: str | None = None) -> Persona:
    member = make_member(workspace, seat, email)
    return Persona(member=member, token=make_token(workspace, SEAT_SCOPES[seat], name=f"{seat} token"))
