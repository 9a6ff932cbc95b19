"""What the login page offers: the single sign-on button and/or the local password form."""

from django import template
from django.conf import settings

from portal.oidc import sso_enabled

register = template.Library()


@register.simple_tag
def sso_login_options() -> dict:
    enabled = sso_enabled()
    return {
        "enabled": enabled,
        "provider_name": getattr(settings, "OIDC_PROVIDER_NAME", "single sign-on"),
        # Without SSO the password form is the only way in, whatever OIDC_LOCAL_LOGIN says.
        "local_login": not enabled or getattr(settings, "OIDC_LOCAL_LOGIN", True),
    }
