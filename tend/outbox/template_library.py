"""The only tags and filters user-authored email templates may use.

Django's defaults minus everything that reaches outside the template (``load``, ``include``,
``extends``, ``url``, ``debug``, ``csrf_token``) or turns escaping off (``autoescape``,
``safe``, ``safeseq``), or shows Python internals (``pprint``). A template is written by a
member but rendered by the web process and by workers, so what it may cost is bounded too:
loops share a budget of iterations per render, and filters that pad or format to a width
the template chooses are capped.
"""

import re
from functools import wraps

from django.template import Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.defaulttags import ForNode

SAFE_TAGS = (
    "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "now", "regroup",
    "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio", "with",
)  # fmt: skip
UNSAFE_FILTERS = {"safe", "safeseq", "pprint"}
# Iterations of every {% for %} of one render together: a digest over a few thousand
# accounts fits; three nested loops over long literals do not.
LOOP_BUDGET = 100_000
MAX_WIDTH = 200
_BUDGET_KEY = "tend.outbox.loop_budget"


class LoopBudgetExceeded(TemplateSyntaxError):
    pass


class BoundedForNode(ForNode):
    def render(self, context):
        values = self.sequence.resolve(context, ignore_failures=True)
        size = len(values) if hasattr(values, "__len__") else 0
        spent = context.render_context.get(_BUDGET_KEY, 0) + size
        if spent > LOOP_BUDGET:
            raise LoopBudgetExceeded(
                f"the loops of this template would run more than {LOOP_BUDGET:,} times; "
                "loop over less data or nest fewer loops"
            )
        context.render_context[_BUDGET_KEY] = spent
        return super().render(context)


def bounded_for(parser, token):
    node = defaulttags.do_for(parser, token)
    node.__class__ = BoundedForNode
    return node


def capped(filter_func, limit_arg):
    """The filter, refusing an argument that asks for more than MAX_WIDTH characters."""

    @wraps(filter_func)
    def wrapper(value, arg):
        if limit_arg(arg) > MAX_WIDTH:
            return value
        return filter_func(value, arg)

    return wrapper


def _int(arg) -> int:
    try:
        return abs(int(arg))
    except (TypeError, ValueError):
        return 0


def _widest_number(arg) -> int:
    return max((int(n) for n in re.findall(r"\d+", str(arg))), default=0)


def _floatformat_digits(arg) -> int:
    return _int(str(arg).rstrip("gu") or 0)


register = Library()
register.tags.update({name: defaulttags.register.tags[name] for name in SAFE_TAGS})
register.tags["for"] = bounded_for
register.filters.update(
    {name: f for name, f in defaultfilters.register.filters.items() if name not in UNSAFE_FILTERS}
)
for _name in ("ljust", "rjust", "center"):
    register.filters[_name] = capped(defaultfilters.register.filters[_name], _int)
register.filters["stringformat"] = capped(
    defaultfilters.register.filters["stringformat"], _widest_number
)
register.filters["floatformat"] = capped(
    defaultfilters.register.filters["floatformat"], _floatformat_digits
)
