"""The only tags and filters user-authored email templates may use.

Django's defaults minus everything that reaches outside the template (``load``, ``include``,
``extends``, ``url``, ``debug``, ``csrf_token``, ``ssi``-like loaders) or turns escaping off
(``autoescape``, ``safe``, ``safeseq``), or shows Python internals (``pprint``).
"""

from django.template import Library, defaultfilters, defaulttags

SAFE_TAGS = (
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
)
UNSAFE_FILTERS = {"safe", "safeseq", "pprint"}

register = Library()
register.tags.update({name: defaulttags.register.tags[name] for name in SAFE_TAGS})
register.filters.update(
    {name: f for name, f in defaultfilters.register.filters.items() if name not in UNSAFE_FILTERS}
)
