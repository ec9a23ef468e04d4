"""``{% export_url filters "csv" %}``: the address that exports the accounts list as it is
filtered and sorted now."""

from django import template

from tend.accounts.views.accounts.export import export_url as _export_url

register = template.Library()


@register.simple_tag
def export_url(filters, format: str) -> str:
    return _export_url(filters, format)
