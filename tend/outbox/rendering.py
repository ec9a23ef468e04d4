"""Rendering templates that members write (email subjects and bodies in plays, digests …).

``render_template`` runs Django's template language on an engine of its own: only the tags
and filters in :mod:`tend.outbox.template_library`, autoescaped for HTML, over plain data
(dicts, lists, strings, numbers, dates) that the caller built. A template therefore cannot
load libraries, include files, call methods of model objects or switch escaping off.
``render_markdown_email`` turns one Markdown body template into the text part and a
sanitised HTML part.
"""

import datetime
import functools
import re
import threading
from dataclasses import dataclass
from decimal import Decimal

import markdown
import nh3
from django.template import Context, Engine, TemplateSyntaxError

from tend.lib.errors import InvalidInput
from tend.outbox.template_library import SAFE_TAGS, UNSAFE_FILTERS

MAX_TEMPLATE_CHARS = 100_000
MAX_OUTPUT_CHARS = 1_000_000
PLAIN_SCALARS = (
    str,
    int,
    float,
    bool,
    Decimal,
    datetime.date,
    datetime.datetime,
    datetime.time,
    type(None),
)
# Markdown → HTML keeps the elements a letter needs; nh3 drops scripts, styles, event
# handlers and javascript: links whatever the template or the data contained.
ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}
HTML_LAYOUT = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
    '<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; font-size: 15px; '
    'line-height: 1.5; color: #1f2328;">{body}</body></html>'
)


class TemplateError(InvalidInput):
    """A template that cannot be used, with the line and the problem: raised as
    ``InvalidInput`` for ``field``, so forms and the API show it beside the template."""

    def __init__(self, field: str, message: str, line: int | None = None):
        super().__init__(field, message)
        self.line = line


class _SandboxEngine(Engine):
    # Engine adds its default builtins (every tag, including load/include) to any given;
    # none of them here, only our own library.
    default_builtins = []


_engine = _SandboxEngine(
    builtins=["tend.outbox.template_library"],
    libraries={},
    autoescape=True,
    debug=True,
    dirs=[],
    app_dirs=False,
)

_INVALID_TAG = re.compile(r"Invalid block tag on line (\d+): '([^']+)'")
_INVALID_FILTER = re.compile(r"Invalid filter: '([^']+)'")
_UNCLOSED_TAG = re.compile(r"Unclosed tag on line (\d+): '([^']+)'")


def _explain(exc: TemplateSyntaxError) -> tuple[str, int | None]:
    info = getattr(exc, "template_debug", None) or {}
    line = info.get("line")
    text = str(exc)
    tag = _INVALID_TAG.search(text)
    if tag:
        line = int(tag.group(1))
        name = tag.group(2)
        if name.startswith("end") or name in ("else", "elif", "empty"):
            message = f"{{% {name} %}} has no opening tag it could close"
        else:
            message = f"the tag {{% {name} %}} is not available in email templates (use {', '.join(SAFE_TAGS)})"
    elif unclosed := _UNCLOSED_TAG.search(text):
        line = int(unclosed.group(1))
        message = f"{{% {unclosed.group(2)} %}} is never closed; add {{% end{unclosed.group(2)} %}}"
    elif filter_ := _INVALID_FILTER.search(text):
        name = filter_.group(1)
        why = " (values are always escaped)" if name in UNSAFE_FILTERS else ""
        message = f"the filter |{name} is not available in email templates{why}"
    else:
        message = re.sub(r"\s*Did you forget to register or load this tag\?", "", text)
        message = re.sub(r" on line \d+", "", message)
    if line and not message.startswith("line "):
        message = f"line {line}: {message}"
    return message, line


def plain_data(value, path: str = "context"):
    """A copy of ``value`` made of dicts, lists and scalars, or TypeError naming the path.

    A copy, so a template calling a dict's methods (``{{ account.clear }}``) changes nothing
    of the caller's.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a key {key!r} that is not a string")
            out[key] = plain_data(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [plain_data(item, f"{path}.{i}") for i, item in enumerate(value)]
    if isinstance(value, PLAIN_SCALARS):
        return value
    raise TypeError(
        f"{path} is a {type(value).__name__}; templates get plain data only (dicts, lists, text, numbers, dates)"
    )


def compile_template(template_text: str, field: str = "template"):
    if not isinstance(template_text, str):
        raise TemplateError(field, "must be text")
    if len(template_text) > MAX_TEMPLATE_CHARS:
        raise TemplateError(
            field, f"has {len(template_text):,} characters; at most {MAX_TEMPLATE_CHARS:,}"
        )
    try:
        return _compiled(template_text)
    except TemplateSyntaxError as exc:
        message, line = _explain(exc)
        raise TemplateError(field, message, line) from None


@functools.lru_cache(maxsize=256)
def _compiled(template_text: str):
    """A compiled template is immutable and renders any context: a play rendering the same
    template for thousands of accounts compiles it once."""
    return _engine.from_string(template_text)


def check_template(template_text: str, field: str = "template") -> None:
    """Raise :class:`TemplateError` if the template would not compile (for forms, on save)."""
    compile_template(template_text, field)


def render_template(
    template_text: str, context: dict, *, autoescape: bool = True, field: str = "template"
) -> str:
    """Render a member's template over plain data. ``autoescape=False`` for plain text parts
    (subjects, text bodies), where HTML escaping would show ``&amp;`` to the reader."""
    template = compile_template(template_text, field)
    data = plain_data(context)
    try:
        output = template.render(Context(data, autoescape=autoescape))
    except TemplateSyntaxError as exc:
        message, line = _explain(exc)
        raise TemplateError(field, message, line) from None
    if len(output) > MAX_OUTPUT_CHARS:
        raise TemplateError(
            field, f"renders {len(output):,} characters; at most {MAX_OUTPUT_CHARS:,}"
        )
    return output


_markdown = threading.local()


def markdown_to_html(text: str) -> str:
    """Markdown to HTML, sanitised: safe whatever the Markdown held."""
    converter = getattr(_markdown, "converter", None)
    if converter is None:
        # Building the parser and its extensions costs more than most conversions; one per
        # thread (a Markdown instance is not thread-safe), reset before each use.
        converter = _markdown.converter = markdown.Markdown(
            extensions=["extra", "sane_lists"], output_format="html"
        )
    html = converter.reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_markdown_email(
    subject_template: str, body_template: str, context: dict
) -> RenderedEmail:
    """Subject and Markdown body templates → what :func:`~tend.outbox.actions.queue_email` takes.

    The text part is the rendered Markdown itself (readable as it is); the HTML part renders
    the body again with values escaped, converts it and sanitises the result.
    """
    subject = " ".join(
        render_template(subject_template, context, autoescape=False, field="subject").split()
    )
    text = render_template(body_template, context, autoescape=False, field="body").strip()
    escaped = render_template(body_template, context, autoescape=True, field="body")
    html = HTML_LAYOUT.format(body=markdown_to_html(escaped))
    return RenderedEmail(subject=subject, text=text + "\n", html=html)
