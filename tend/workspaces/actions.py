"""Every change to workspaces, members, teams and API tokens.

Each function runs in one transaction and raises :class:`InvalidInput` naming the field
before writing anything. Everything here is for admins (or the system actor of the CLI).
"""

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scope, scopes_disabled

from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, Actor, system_actor
from tend.workspaces.middleware import forget_token
from tend.workspaces.models import ApiToken, Member, Scope, Seat, Team, User, Workspace, hash_token

# Sent inside create_workspace's transaction with ``workspace`` and ``actor`` (the system
# actor, scope active). Apps above this one (accounts: default stages and roles) set up
# their part of a new workspace here, since this app may not import them.
workspace_created = Signal()

SLUG_MAX = 60


def _name(value, field: str = "name", max_length: int = 120) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "is required")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(field, f"is longer than {max_length} characters")
    return value


def _email(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("email", "is required")
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput("email", f"{value!r} is not an email address") from exc
    return email


def _check_password(password, user: User) -> str:
    if not isinstance(password, str) or not password:
        raise InvalidInput("password", "is required for a new user")
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput("password", " ".join(exc.messages)) from exc
    return password


def _seat(value) -> str:
    if value not in Seat.values:
        raise InvalidInput("seat", f"must be one of {', '.join(Seat.values)}")
    return value


def _unique_slug(name: str) -> str:
    base = slugify(name)[: SLUG_MAX - 4].strip("-") or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_workspace(
    name: str,
    *,
    owner_email: str,
    owner_password: str,
    owner_name: str = "",
    slug: str | None = None,
) -> tuple[Workspace, Member]:
    """Create a workspace with its first admin and its starting data model.

    The owner may already have a login (another workspace): they join with their existing
    password, which is left untouched.
    """
    name = _name(name)
    email = _email(owner_email)
    if slug:
        clean = slugify(slug)
        if clean != slug or len(slug) > SLUG_MAX:
            raise InvalidInput("slug", "use lower-case letters, digits and hyphens (at most 60)")
        if Workspace.objects.filter(slug=slug).exists():
            raise InvalidInput("slug", f"a workspace with slug {slug!r} already exists")
    with scopes_disabled():
        user = User.objects.filter(email=email).first()
    if user is None:
        full_name = (owner_name or "").strip()[:200]
        _check_password(owner_password, User(email=email, full_name=full_name))
        user = User.objects.create_user(email=email, password=owner_password, full_name=full_name)
    workspace = Workspace.objects.create(name=name, slug=slug or _unique_slug(name))
    with scope(workspace=workspace.pk):
        member = Member.objects.create(workspace=workspace, user=user, seat=Seat.ADMIN)
        workspace_created.send(sender=Workspace, workspace=workspace, actor=system_actor(workspace))
    return workspace, member


def _require_own(actor: Actor, obj) -> None:
    # Objects reach actions through get_for; this guards callers that skipped it.
    if obj.workspace_id != actor.workspace.pk:
        raise InvalidInput("id", "belongs to another workspace")


@transaction.atomic
def create_member(
    actor: Actor, *, email: str, full_name: str = "", password: str | None = None, seat: str
) -> Member:
    """Give someone a seat. An existing login joins as is (their password is not changed);
    a new person gets a login with ``password``."""
    actor.require(ADMIN)
    email = _email(email)
    seat = _seat(seat)
    full_name = (full_name or "").strip()
    if len(full_name) > 200:
        raise InvalidInput("full_name", "is longer than 200 characters")
    with scopes_disabled():
        user = User.objects.filter(email=email).first()
    if user is not None:
        existing = Member.objects.filter(workspace=actor.workspace, user=user).first()
        if existing is not None and existing.is_active:
            raise InvalidInput("email", f"{email} is already a member of this workspace")
        if existing is not None:
            existing.is_active = True
            existing.seat = seat
            existing.save(update_fields=["is_active", "seat"])
            return existing
    else:
        _check_password(password, User(email=email, full_name=full_name))
        user = User.objects.create_user(email=email, password=password, full_name=full_name)
    return Member.objects.create(workspace=actor.workspace, user=user, seat=seat)


def _other_active_admins(member: Member) -> int:
    return (
        Member.objects.filter(workspace=member.workspace, seat=Seat.ADMIN, is_active=True)
        .exclude(pk=member.pk)
        .count()
    )


@transaction.atomic
def change_seat(actor: Actor, member: Member, seat: str) -> Member:
    actor.require(ADMIN)
    _require_own(actor, member)
    seat = _seat(seat)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if (
        member.seat == Seat.ADMIN
        and seat != Seat.ADMIN
        and member.is_active
        and not _other_active_admins(member)
    ):
        raise InvalidInput(
            "seat", "this is the last active admin: make someone else an admin first"
        )
    member.seat = seat
    member.save(update_fields=["seat"])
    return member


@transaction.atomic
def deactivate_member(actor: Actor, member: Member) -> Member:
    """Take away the seat (the login, assignments and history stay)."""
    actor.require(ADMIN)
    _require_own(actor, member)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.seat == Seat.ADMIN and member.is_active and not _other_active_admins(member):
        raise InvalidInput(
            "member", "this is the last active admin: make someone else an admin first"
        )
    member.is_active = False
    member.save(update_fields=["is_active"])
    return member


@transaction.atomic
def reactivate_member(actor: Actor, member: Member) -> Member:
    actor.require(ADMIN)
    _require_own(actor, member)
    member.is_active = True
    member.save(update_fields=["is_active"])
    return member


# --- Teams ---------------------------------------------------------------------------------------


def _team_name(actor: Actor, name, exclude_pk=None) -> str:
    name = _name(name)
    if (
        Team.objects.filter(workspace=actor.workspace, name__iexact=name)
        .exclude(pk=exclude_pk)
        .exists()
    ):
        raise InvalidInput("name", f"a team named {name!r} already exists")
    return name


def _members(actor: Actor, members: Iterable) -> list[Member]:
    ids = {m.pk if isinstance(m, Member) else m for m in members}
    found = list(Member.objects.filter(workspace=actor.workspace, pk__in=ids))
    if len(found) != len(ids):
        raise InvalidInput("members", "every member must belong to this workspace")
    return found


@transaction.atomic
def create_team(actor: Actor, *, name: str, members: Iterable = ()) -> Team:
    actor.require(ADMIN)
    team = Team.objects.create(workspace=actor.workspace, name=_team_name(actor, name))
    chosen = _members(actor, members)
    if chosen:
        team.members.set(chosen)
    return team


@transaction.atomic
def rename_team(actor: Actor, team: Team, name: str) -> Team:
    actor.require(ADMIN)
    _require_own(actor, team)
    team.name = _team_name(actor, name, exclude_pk=team.pk)
    team.save(update_fields=["name"])
    return team


@transaction.atomic
def set_team_members(actor: Actor, team: Team, members: Iterable) -> Team:
    actor.require(ADMIN)
    _require_own(actor, team)
    team.members.set(_members(actor, members))
    return team


@transaction.atomic
def delete_team(actor: Actor, team: Team) -> None:
    actor.require(ADMIN)
    _require_own(actor, team)
    team.delete()


# --- API tokens --------------------------------------------------------------------------------


def clean_scopes(scopes) -> list[str]:
    if isinstance(scopes, str):
        scopes = [s.strip() for s in scopes.split(",") if s.strip()]
    if not isinstance(scopes, list | tuple | set) or not scopes:
        raise InvalidInput("scopes", f"choose at least one of {', '.join(Scope.values)}")
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown:
        raise InvalidInput("scopes", f"unknown scope {unknown[0]!r}: use {', '.join(Scope.values)}")
    return [s for s in Scope.values if s in set(scopes)]


@transaction.atomic
def create_api_token(actor: Actor, *, name: str, scopes) -> tuple[ApiToken, str]:
    """Create a token; return it with the raw secret, which is never stored or shown again."""
    actor.require(ADMIN)
    name = _name(name)
    scopes = clean_scopes(scopes)
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        workspace=actor.workspace,
        name=name,
        prefix=raw[:12],
        token_hash=hash_token(raw),
        scopes=scopes,
        created_by=actor.member,
    )
    return token, raw


@transaction.atomic
def revoke_api_token(actor: Actor, token: ApiToken) -> ApiToken:
    actor.require(ADMIN)
    _require_own(actor, token)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        forget_token(token.token_hash)
    return token
