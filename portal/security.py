"""Security checks that must be made the same way everywhere: one module, so there is one answer.

- `validate_fetch_url`: a URL the server itself will fetch (an MLflow registry, an alert webhook) is http(s),
  carries no credentials and does not point at loopback, private, link-local or other non-public addresses,
  unless its host is allow-listed in MODELHOUSE_FETCH_ALLOWED_HOSTS. Checked when the URL is saved, and
  again by `GuardedTransport` on every request against the address actually connected to, so a DNS name
  that later re-binds to 127.0.0.1 or 169.254.169.254 is still refused.
- `artifact_uri_problem`: artifact/source URIs from registries and the API never name the local disk
  (`file:`, bare paths) or climb out of their location (`..`).
- `http_url`: the only URLs pages render as links are http(s) (no `javascript:`, `data:`, `file:`).
- `lockout_response`: what a client locked out by django-axes sees (HTML page or JSON, HTTP 429).
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

FETCH_SCHEMES = ("http", "https")
ALLOW_LIST_SETTING = "MODELHOUSE_FETCH_ALLOWED_HOSTS"


class FetchRefused(Exception):
    """The server refused to fetch a URL (scheme, credentials or a non-public address). Never transient."""


# -- addresses --------------------------------------------------------------------------------------------
def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(value.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 2002:7f00:1::/48 reach the IPv4 address inside them; judge that one.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return embedded
    return ip


def address_is_public(value: str) -> bool:
    """True only for a globally routable unicast address (IPv4 or IPv6)."""
    ip = _ip(value)
    if ip is None:
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def _host_of(host: str) -> str:
    return (host or "").strip().strip("[]").rstrip(".").lower()


def _allow_list() -> tuple[set[str], tuple[str, ...], list]:
    names, suffixes, networks = set(), [], []
    for entry in getattr(settings, ALLOW_LIST_SETTING, None) or []:
        entry = _host_of(str(entry))
        if not entry:
            continue
        if "/" in entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
        if entry.startswith("."):
            suffixes.append(entry)
        else:
            names.add(entry)
    return names, tuple(suffixes), networks


def host_is_allowed(host: str) -> bool:
    """The host is named in MODELHOUSE_FETCH_ALLOWED_HOSTS (exactly, or under a ".suffix" entry)."""
    names, suffixes, _ = _allow_list()
    host = _host_of(host)
    return host in names or (bool(suffixes) and host.endswith(suffixes))


def _address_allowed(value: str) -> bool:
    _, _, networks = _allow_list()
    ip = _ip(value)
    return ip is not None and any(ip.version == n.version and ip in n for n in networks)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(_host_of(host), port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.append(sockaddr[0])
    return seen


def _refused_address(host: str, address: str) -> str:
    return (
        f"{host} is a loopback, private, link-local or otherwise non-public address ({address}); the server "
        f"does not fetch from there. An admin can allow the host in {ALLOW_LIST_SETTING}."
    )


def check_addresses(host: str, addresses: list[str]) -> None:
    """Raise FetchRefused unless every address is public or allow-listed."""
    for address in addresses:
        if not address_is_public(address) and not _address_allowed(address):
            raise FetchRefused(_refused_address(host, address))


# -- URLs the server fetches ------------------------------------------------------------------------------
def _split_fetch_url(url: str):
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("Give an http:// or https:// URL.")
    if any(ord(c) < 33 or ord(c) == 127 for c in url.strip()):
        raise ValidationError("A URL cannot contain spaces or control characters.")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in FETCH_SCHEMES:
        raise ValidationError(f"Only http:// and https:// URLs are fetched, not {parts.scheme or 'this'}:.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            "Do not put credentials in the URL: name a secret environment variable that holds them."
        )
    if not parts.hostname:
        raise ValidationError("The URL needs a host name, e.g. http://mlflow.internal:5000.")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise ValidationError("The URL's port is not a number between 0 and 65535.") from None
    return parts, port


def validate_fetch_url(url: str, *, allow_private: bool = False) -> str:
    """The URL, stripped, if the server may fetch it; else ValidationError with a readable message.

    `allow_private` skips the address check (for a caller that has its own allow-list); the host allow-list
    MODELHOUSE_FETCH_ALLOWED_HOSTS always skips it. A name that does not resolve now is accepted: it is
    checked again, against the address actually used, on every request (GuardedTransport).
    """
    parts, port = _split_fetch_url(url)
    if allow_private or host_is_allowed(parts.hostname):
        return url.strip()
    literal = _ip(_host_of(parts.hostname))
    try:
        addresses = [str(literal)] if literal is not None else resolve(parts.hostname, port)
    except (OSError, UnicodeError):
        return url.strip()
    try:
        check_addresses(parts.hostname, addresses)
    except FetchRefused as exc:
        raise ValidationError(str(exc)) from None
    return url.strip()


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport that checks, for every request, the address it is about to connect to.

    The host is resolved here, every address is checked (any non-public one refuses the request, so a name
    with one public and one private record cannot be used to reach the private one), and the connection is
    made to a checked address: the Host header and TLS server name stay the original host name, so
    certificates are verified as usual. Allow-listed hosts are connected to directly.
    Raises FetchRefused (not an httpx error: refusing is never worth a retry).
    """

    def __init__(self, *, allow_private: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.allow_private = allow_private

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in FETCH_SCHEMES:
            raise FetchRefused(f"Only http:// and https:// URLs are fetched, not {url.scheme}:.")
        if url.userinfo:
            raise FetchRefused("Credentials in the URL are not sent.")
        host = url.host
        if self.allow_private or host_is_allowed(host):
            return super().handle_request(request)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpx.ConnectError(f"Cannot resolve {host}: {exc}", request=request) from exc
        check_addresses(host, addresses)
        last_error: Exception | None = None
        for address in addresses:
            pinned = httpx.Request(
                request.method,
                url.copy_with(host=address),
                headers=request.headers,  # Host: keeps the original name
                stream=request.stream,
                extensions={**request.extensions, "sni_hostname": host},
            )
            try:
                return super().handle_request(pinned)
            except httpx.ConnectError as exc:
                last_error = exc
        raise last_error or httpx.ConnectError(f"Cannot reach {host}.", request=request)


def guarded_client(**kwargs) -> httpx.Client:
    """An httpx.Client whose every request goes through GuardedTransport (never environment proxies)."""
    kwargs.setdefault("follow_redirects", False)
    return httpx.Client(transport=GuardedTransport(), **kwargs)


# -- artifact and source URIs -----------------------------------------------------------------------------
_DRIVE_PATH = re.compile(r"^[A-Za-z]:[\\/]")


def artifact_uri_problem(uri: str) -> str | None:
    """Why an artifact/source URI is refused, or None. Empty is fine (not every version has one).

    Refused: `file:` URIs and bare local paths (they name a disk, not a registry or object store), `..`
    segments (also percent-encoded), and control characters.
    """
    if not uri:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in uri):
        return "contains control characters"
    text = uri.strip()
    for _ in range(3):  # %252e%252e -> %2e%2e -> ..
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    scheme = urlsplit(text).scheme.lower()
    if scheme == "file" or _DRIVE_PATH.match(text) or (not scheme and text.startswith(("/", "\\", "~"))):
        return (
            "file: URIs and local paths are not accepted; give the registry or object-store URI "
            "(runs:/, models:/, mlflow-artifacts:/, s3://, gs://, https://)"
        )
    if ".." in re.split(r"[\\/]", text):
        return "'..' path segments are not accepted"
    return None


def validate_artifact_uri(uri: str) -> str:
    problem = artifact_uri_problem(uri)
    if problem:
        raise ValidationError(f"This URI is refused: {problem}.")
    return uri


def http_url(value) -> str:
    """The value if it is an absolute http(s) URL that is safe to put in href=, else ''."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if not text or any(ord(c) < 33 or ord(c) == 127 for c in text):
        return ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in FETCH_SCHEMES or not parts.netloc:
        return ""
    return text


# -- login lockout (django-axes) --------------------------------------------------------------------------
def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429 with when to try again; JSON under /api/, the lockout page elsewhere."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request) or timedelta(0)
    seconds = max(1, math.ceil(cool_off.total_seconds()))
    retry_at = timezone.now() + cool_off
    minutes = max(1, math.ceil(seconds / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": f"Too many failed sign-ins for this user from this address. Try again in {wait}.",
                "retry_after_seconds": seconds,
                "retry_at": retry_at.isoformat(),
            },
            status=429,
        )
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {
                "retry_at": retry_at,
                "wait": wait,
                "failure_limit": settings.AXES_FAILURE_LIMIT,
            },
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response


class PermissionsPolicyMiddleware:
    """Adds settings.PERMISSIONS_POLICY as the Permissions-Policy header (one line; no dependency needed)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        return response
