"""Login and the workspace settings pages: members, teams, API tokens.

Settings are for admins: other seats get 403 (the password page is everyone's). Objects are
fetched through ``get_for`` so another workspace's ids answer 404.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tend.lib.errors import InvalidInput
from tend.workspaces import actions
from tend.workspaces.access import ADMIN, get_for
from tend.workspaces.forms import (
    SCOPE_HELP,
    MemberForm,
    SeatForm,
    TeamForm,
    TeamMembersForm,
    TokenForm,
    show_error,
)
from tend.workspaces.models import SEAT_HELP, ApiToken, Member, Seat, Team

PAGE_SIZE = 50
NEW_TOKEN_SESSION_KEY = "tend_new_token"


class LoginView(auth_views.LoginView):
    template_name = "workspaces/login.html"
    redirect_authenticated_user = True


def member_page(view):
    """Logged in, with a seat in a workspace (a bearer token is not a person)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        actor = getattr(request, "actor", None)
        if actor is None or actor.member is None:
            raise PermissionDenied("You are not a member of any workspace.")
        return view(request, *args, **kwargs)

    return wrapped


def admin_page(view):
    @member_page
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.actor.require(ADMIN)
        return view(request, *args, **kwargs)

    return wrapped


def paginate(request, queryset, per_page: int = PAGE_SIZE, param: str = "page"):
    return Paginator(queryset, per_page).get_page(request.GET.get(param))


@member_page
def settings_index(request):
    if request.actor.can(ADMIN):
        return redirect("workspaces:members")
    # The only setting a non-admin has is their own password.
    return redirect("workspaces:password_change")


# --- Members -----------------------------------------------------------------------------------


@admin_page
@require_http_methods(["GET", "POST"])
def members(request):
    actor = request.actor
    form = MemberForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            member = actions.create_member(actor, **form.cleaned_data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            messages.success(
                request, f"{member.user.email} now has a {member.get_seat_display()} seat."
            )
            return redirect("workspaces:members")
    if request.method == "POST":
        status = 422
    queryset = (
        Member.objects.filter(workspace=actor.workspace)
        .select_related("user")
        .prefetch_related(
            Prefetch("teams", queryset=Team.objects.filter(workspace=actor.workspace))
        )
        .order_by("-is_active", "user__full_name", "user__email")
    )
    context = {
        "page": paginate(request, queryset),
        "form": form,
        "seats": Seat.choices,
        "seat_help": [(Seat(s).label, h) for s, h in SEAT_HELP.items()],
        "settings_tab": "members",
    }
    return render(request, "workspaces/members.html", context, status=status)


def _member_action(request, member_id: int, change, success: str):
    member = get_for(request.actor, Member.objects.select_related("user"), ADMIN, pk=member_id)
    try:
        change(member)
    except InvalidInput as error:
        messages.error(request, f"{member.user.email}: {error.message}")
    else:
        messages.success(request, success.format(email=member.user.email))
    return redirect("workspaces:members")


@admin_page
@require_POST
def member_seat(request, member_id: int):
    form = SeatForm(request.POST)
    seat = form.cleaned_data["seat"] if form.is_valid() else request.POST.get("seat", "")
    return _member_action(
        request,
        member_id,
        lambda m: actions.change_seat(request.actor, m, seat),
        "{email}'s seat is now " + str(dict(Seat.choices).get(seat, seat)) + ".",
    )


@admin_page
@require_POST
def member_deactivate(request, member_id: int):
    return _member_action(
        request,
        member_id,
        lambda m: actions.deactivate_member(request.actor, m),
        "{email} can no longer sign in here.",
    )


@admin_page
@require_POST
def member_reactivate(request, member_id: int):
    return _member_action(
        request,
        member_id,
        lambda m: actions.reactivate_member(request.actor, m),
        "{email} is active again.",
    )


# --- Teams -----------------------------------------------------------------------------------------


@admin_page
@require_http_methods(["GET", "POST"])
def teams(request):
    actor = request.actor
    form = TeamForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            team = actions.create_team(actor, name=form.cleaned_data["name"])
        except InvalidInput as error:
            show_error(form, error)
        else:
            messages.success(request, f"Team “{team.name}” created: now add its members.")
            return redirect("workspaces:team", team_id=team.pk)
    if request.method == "POST":
        status = 422
    queryset = (
        Team.objects.filter(workspace=actor.workspace)
        .annotate(member_count=Count("members"))
        .order_by("name", "id")
        .prefetch_related(Prefetch("members", queryset=Member.objects.select_related("user")))
    )
    context = {"page": paginate(request, queryset), "form": form, "settings_tab": "teams"}
    return render(request, "workspaces/teams.html", context, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def team(request, team_id: int):
    actor = request.actor
    team = get_for(actor, Team, ADMIN, pk=team_id)
    rename = TeamForm(initial={"name": team.name}, prefix="rename")
    people = TeamMembersForm(
        initial={"members": list(team.members.all())}, workspace=actor.workspace, prefix="people"
    )
    status = 200
    if request.method == "POST":
        if "rename-name" in request.POST:
            rename = TeamForm(request.POST, prefix="rename")
            form, change = rename, lambda data: actions.rename_team(actor, team, data["name"])
        else:
            people = TeamMembersForm(request.POST, workspace=actor.workspace, prefix="people")
            form, change = (
                people,
                lambda data: actions.set_team_members(actor, team, data["members"]),
            )
        if form.is_valid():
            try:
                change(form.cleaned_data)
            except InvalidInput as error:
                show_error(form, error)
            else:
                messages.success(request, f"Team “{team.name}” saved.")
                return redirect("workspaces:team", team_id=team.pk)
        status = 422
    context = {"team": team, "rename": rename, "people": people, "settings_tab": "teams"}
    return render(request, "workspaces/team.html", context, status=status)


@admin_page
@require_POST
def team_delete(request, team_id: int):
    team = get_for(request.actor, Team, ADMIN, pk=team_id)
    actions.delete_team(request.actor, team)
    messages.success(request, f"Team “{team.name}” deleted; its members keep their seats.")
    return redirect("workspaces:teams")


# --- API tokens ----------------------------------------------------------------------------------


@admin_page
@require_http_methods(["GET", "POST"])
def tokens(request):
    actor = request.actor
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = actions.create_api_token(actor, **form.cleaned_data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            # Handed to the next page through the session and removed when shown: the raw
            # token is never stored anywhere else, so a reload cannot show it again.
            request.session[NEW_TOKEN_SESSION_KEY] = {"id": token.pk, "raw": raw}
            return redirect("workspaces:token_created", token_id=token.pk)
    if request.method == "POST":
        status = 422
    queryset = ApiToken.objects.filter(workspace=actor.workspace).select_related("created_by__user")
    context = {
        "page": paginate(request, queryset),
        "form": form,
        "scope_help": SCOPE_HELP,
        "settings_tab": "tokens",
    }
    return render(request, "workspaces/tokens.html", context, status=status)


@admin_page
def token_created(request, token_id: int):
    token = get_for(request.actor, ApiToken, ADMIN, pk=token_id)
    shown = request.session.get(NEW_TOKEN_SESSION_KEY) or {}
    raw = None
    if shown.get("id") == token.pk:
        raw = shown["raw"]
        del request.session[NEW_TOKEN_SESSION_KEY]
    response = render(
        request,
        "workspaces/token_created.html",
        {"token": token, "raw": raw, "settings_tab": "tokens"},
    )
    response["Cache-Control"] = "no-store"
    return response


@admin_page
@require_POST
def token_revoke(request, token_id: int):
    token = get_for(request.actor, ApiToken, ADMIN, pk=token_id)
    actions.revoke_api_token(request.actor, token)
    messages.success(request, f"Token “{token.name}” revoked: programs using it now get 401.")
    return redirect("workspaces:tokens")
