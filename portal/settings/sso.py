"""OpenID Connect single sign-on settings (filled in by the SSO work; off unless OIDC_* are set)."""
