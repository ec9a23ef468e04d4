"""Template context for the layout: the actor and the navigation."""

from django.urls import NoReverseMatch, reverse

# (label, url name, right needed). Sections of later issues join this list as they land.
NAVIGATION = [
    ("Home", "web:home", "read"),
    ("Accounts", "accounts:list", "read"),
    ("Health", "health:dashboard", "read"),
    ("Segments", "segments:list", "read"),
    ("Saved views", "views:list", "read"),
    ("Scorecards", "scorecards:list", "read"),
    ("Tasks", "work:inbox", "read"),
    ("Plays", "plays:list", "read"),
    ("Alerts", "alerts:list", "read"),
    ("Data model", "data_model:index", "read"),
    ("Ingestion", "usage:ingestion", "read"),
    ("Imports", "hub:list", "read"),
    ("Exports", "hub_exports:list", "read"),
    ("Settings", "workspaces:settings", "read"),
]


def navigation(request):
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"actor": None, "nav": []}
    path = request.path
    items = []
    for label, name, right in NAVIGATION:
        if not actor.can(right):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {"actor": actor, "member": actor.member, "workspace": actor.workspace, "nav": items}
