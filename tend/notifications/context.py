"""The bell in the layout: the unread count, counted only if a template shows it."""

from django.utils.functional import SimpleLazyObject

from tend.notifications.queries import BELL_CAP, unread_count


def bell(request):
    def label():
        n = unread_count(request)
        return f"{BELL_CAP}+" if n > BELL_CAP else str(n) if n else ""

    return {"unread_notifications": SimpleLazyObject(label)}
