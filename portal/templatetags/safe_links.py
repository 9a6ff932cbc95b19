"""`{{ value|http_url }}`: the value when it is an absolute http(s) URL, else ''. Pages put only such values
in href= (never javascript:, data: or file:); anything else is shown as text."""

from django import template

from portal.security import http_url as _http_url

register = template.Library()


@register.filter
def http_url(value) -> str:
    return _http_url(value)
