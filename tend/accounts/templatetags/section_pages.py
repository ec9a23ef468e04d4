"""``{% page_query "users_page" 3 %}``: this page's query string with one section's page changed.

A profile pages several sections independently and other apps add their own parameters
(usage's ``scope``); a pager link keeps them all and changes only its own.
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, param: str, number) -> str:
    query = context["request"].GET.copy()
    query[param] = str(number)
    return "?" + query.urlencode()
