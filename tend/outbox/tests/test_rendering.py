"""Members' templates: variables from plain data, escaped for HTML, nothing that reaches
outside the template, and errors that say which line and what is wrong."""

import datetime

import pytest

from tend.lib.errors import InvalidInput
from tend.outbox.rendering import (
    TemplateError,
    check_template,
    markdown_to_html,
    render_markdown_email,
    render_template,
)

ACCOUNT = {
    "account": {
        "name": "Acme & <Sons>",
        "mrr": 1200,
        "owner": {"name": "Maya"},
        "tags": ["vip", "emea"],
    }
}


def test_variables_come_from_nested_dicts_and_are_escaped_for_html():
    out = render_template(
        "Hi {{ account.owner.name }}, {{ account.name }} pays {{ account.mrr }}.", ACCOUNT
    )
    assert out == "Hi Maya, Acme &amp; &lt;Sons&gt; pays 1200."


def test_plain_text_parts_are_not_escaped():
    assert render_template("{{ account.name }}", ACCOUNT, autoescape=False) == "Acme & <Sons>"


def test_loops_conditions_and_filters_work():
    template = (
        "{% for t in account.tags %}{{ t|upper }}{% if not forloop.last %}, {% endif %}{% endfor %}"
        "{% if account.mrr > 1000 %} (big){% endif %} {{ account.missing|default:'n/a' }}"
    )
    assert render_template(template, ACCOUNT) == "VIP, EMEA (big) n/a"


def test_dates_render_with_the_date_filter():
    out = render_template("{{ renewal|date:'j M Y' }}", {"renewal": datetime.date(2027, 3, 1)})
    assert out == "1 Mar 2027"


def test_a_missing_variable_renders_empty():
    assert render_template("[{{ account.nope }}]", ACCOUNT) == "[]"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{% load static %}", "line 1: the tag {% load %} is not available in email templates"),
        ("Hi\n{% include 'web/base.html' %}", "line 2: the tag {% include %} is not available"),
        ("{% extends 'web/base.html' %}", "line 1: the tag {% extends %} is not available"),
        (
            "{% autoescape off %}{{ x }}{% endautoescape %}",
            "line 1: the tag {% autoescape %} is not available",
        ),
        ("{% debug %}", "line 1: the tag {% debug %} is not available"),
        ("{% url 'web:home' %}", "line 1: the tag {% url %} is not available"),
        (
            "{{ account.name|safe }}",
            "line 1: the filter |safe is not available in email templates (values are always escaped)",
        ),
        ("{{ account.name|nosuch }}", "line 1: the filter |nosuch is not available"),
        ("one\ntwo\n{% if x %}open", "line 3: {% if %} is never closed; add {% endif %}"),
        ("{% endfor %}", "line 1: {% endfor %} has no opening tag it could close"),
        (
            "{{ account.__class__ }}",
            "line 1: Variables and attributes may not begin with underscores",
        ),
    ],
)
def test_template_errors_name_the_line_and_the_problem(template, expected):
    with pytest.raises(TemplateError) as caught:
        render_template(template, ACCOUNT, field="body")
    assert str(caught.value.message).startswith(expected)
    assert caught.value.field == "body"
    assert isinstance(caught.value, InvalidInput)


def test_check_template_reports_the_line_number():
    with pytest.raises(TemplateError) as caught:
        check_template("a\nb\n{{ x|bogus }}")
    assert caught.value.line == 3


def test_model_objects_and_other_non_plain_values_are_refused():
    class Account:
        name = "Acme"

    with pytest.raises(
        TypeError, match=r"context.account is a Account; templates get plain data only"
    ):
        render_template("{{ account.name }}", {"account": Account()})


def test_calling_a_dicts_methods_cannot_change_the_callers_data():
    data = {"account": {"name": "Acme"}}
    render_template("{{ account.clear }}{{ account.name }}", data)
    assert data == {"account": {"name": "Acme"}}


def test_markdown_is_converted_and_sanitised():
    html = markdown_to_html(
        "# Hi\n\n**bold** [ok](https://tend.example.com) [bad](javascript:alert(1))\n\n"
        "<script>alert(1)</script><img src=x onerror=alert(1)>"
    )
    assert "<h1>Hi</h1>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://tend.example.com"' in html
    assert "javascript:" not in html
    assert "<script" not in html
    assert "onerror" not in html


def test_a_markdown_email_has_a_text_part_and_a_sanitised_html_part():
    email = render_markdown_email(
        "Welcome,\n{{ account.name }}",
        "Hello **{{ account.owner.name }}**,\n\nWelcome, {{ account.name }}.",
        ACCOUNT,
    )
    assert email.subject == "Welcome, Acme & <Sons>"
    assert email.text == "Hello **Maya**,\n\nWelcome, Acme & <Sons>.\n"
    assert "<strong>Maya</strong>" in email.html
    assert "Acme &amp; &lt;Sons&gt;" in email.html
    assert "<Sons>" not in email.html


def test_values_cannot_inject_html_into_a_markdown_email():
    email = render_markdown_email("s", "Hi {{ name }}", {"name": "<script>alert(1)</script>"})
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html


def test_loops_share_a_budget_so_a_template_cannot_spin_a_worker():
    long = "x" * 1000
    template = (
        "{% for a in s %}{% for b in s %}{% for c in s %}.{% endfor %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(TemplateError) as caught:
        render_template(template, {"s": long}, field="body")
    assert "would run more than 100,000 times" in caught.value.message


def test_a_loop_over_a_few_thousand_items_is_fine():
    rows = [{"name": f"Account {n}"} for n in range(3000)]
    out = render_template("{% for a in rows %}{{ a.name }};{% endfor %}", {"rows": rows})
    assert out.count(";") == 3000


def test_padding_and_formatting_filters_cannot_ask_for_huge_strings():
    out = render_template(
        '{{ v|ljust:"999999999" }}|{{ v|center:"-999999999" }}|{{ v|stringformat:"999999999s" }}|'
        '{{ n|floatformat:"999999999" }}|{{ v|rjust:"6" }}',
        {"v": "ab", "n": 1.5},
    )
    assert out == "ab|ab|ab|1.5|    ab"
