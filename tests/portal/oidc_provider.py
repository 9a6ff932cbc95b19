"""A small, real OpenID Connect provider for tests: an HTTP server in a thread on 127.0.0.1.

It implements what an authorization-code sign-in touches, strictly enough that a client that skips a check
fails: discovery, /authorize (a login form, or automatic approval of one user), /token (client secret,
single-use code bound to client and redirect_uri, PKCE S256), /userinfo (Bearer token) and /jwks. ID tokens
are RS256-signed with an RSA key generated when the provider starts. `tamper` makes the next ID tokens
wrong in one way, to prove the portal refuses them.
"""

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "modelhouse-portal"
CLIENT_SECRET = "test-client-secret-0123456789"
TAMPERINGS = ("signature", "audience", "issuer", "expired", "nonce", "algorithm")


@dataclass
class ProviderUser:
    username: str
    password: str
    sub: str
    claims: dict = field(default_factory=dict)


class OIDCProvider:
    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET):
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self._lock = threading.Lock()
        self.reset()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)

    # --- lifecycle and test controls -------------------------------------------------------------------
    def start(self) -> "OIDCProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.users: dict[str, ProviderUser] = {}
        self.redirect_uris: set[str] = set()
        self.auto_approve: str | None = None  # sign this user in without showing the form
        self.tamper: str | None = None
        self.groups_in_id_token = False  # Azure AD style: groups only in the ID token, not in userinfo
        self.userinfo_sub: str | None = None  # answer userinfo about someone else
        self._codes: dict[str, dict] = {}
        self._tokens: dict[str, str] = {}
        self.token_requests = 0

    def add_user(self, username: str, *, password: str = "idp-password", groups=(), **claims) -> ProviderUser:
        claims.setdefault("preferred_username", username)
        claims.setdefault("email", f"{username}@example.com")
        claims.setdefault("email_verified", True)
        claims["groups"] = list(groups)
        user = ProviderUser(username=username, password=password, sub=f"sub-{username}", claims=claims)
        self.users[username] = user
        return user

    def set_groups(self, username: str, groups) -> None:
        self.users[username].claims["groups"] = list(groups)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }

    def jwks(self) -> dict:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    # --- protocol -----------------------------------------------------------------------------------------
    def issue_code(self, params: dict, username: str) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "nonce": params.get("nonce"),
                "code_challenge": params.get("code_challenge"),
                "code_challenge_method": params.get("code_challenge_method"),
                "username": username,
                "expires": time.time() + 60,
            }
        return code

    def exchange(self, form: dict, basic: tuple[str, str] | None) -> tuple[int, dict]:
        self.token_requests += 1
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use
        if not grant or grant["expires"] < time.time() or grant["client_id"] != client_id:
            return 400, {"error": "invalid_grant"}
        if grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        if grant["code_challenge"]:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            digest = digest.rstrip(b"=").decode()
            if grant["code_challenge_method"] != "S256" or digest != grant["code_challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        user = self.users[grant["username"]]
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[access_token] = user.username
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(user, grant["nonce"]),
        }

    def id_token(self, user: ProviderUser, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user.sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "preferred_username": user.claims.get("preferred_username"),
        }
        if self.groups_in_id_token:
            claims["groups"] = user.claims["groups"]
        key, algorithm = self.key, "RS256"
        match self.tamper:
            case "signature":  # signed by someone else's key under our kid
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            case "audience":
                claims["aud"] = "another-application"
            case "issuer":
                claims["iss"] = "http://127.0.0.1:9/impostor"
            case "expired":
                claims.update(iat=now - 7200, exp=now - 3600)
            case "nonce":
                claims["nonce"] = "not-the-nonce-you-sent"
            case "algorithm":  # HS256 keyed with the public key: the classic algorithm-confusion attack
                return _hs256_with_public_key(claims, self)
        return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": self.kid})

    def userinfo(self, authorization: str) -> tuple[int, dict]:
        scheme, _, token = (authorization or "").partition(" ")
        username = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if not username:
            return 401, {"error": "invalid_token"}
        user = self.users[username]
        claims = dict(user.claims)
        if self.groups_in_id_token:
            claims.pop("groups", None)
        return 200, {"sub": self.userinfo_sub or user.sub, **claims}


def _hs256_with_public_key(claims: dict, provider: OIDCProvider) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": provider.kid}

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(claims).encode())
    secret = provider.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()


LOGIN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Test IdP sign-in</title>
<link rel="icon" href="data:,"></head>
<body><h1>Test identity provider</h1>{error}
<form method="post" action="/authorize">{hidden}
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in to the IdP</button></form></body></html>"""


def _handler_for(provider: OIDCProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # keep test output quiet
            pass

        def _send(self, status: int, body: str | dict, content_type: str = "application/json", headers=None):
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _form(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

        def do_GET(self):
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            if url.path == "/.well-known/openid-configuration":
                return self._send(200, provider.discovery())
            if url.path == "/jwks":
                return self._send(200, provider.jwks())
            if url.path == "/userinfo":
                status, body = provider.userinfo(self.headers.get("Authorization", ""))
                return self._send(status, body)
            if url.path == "/authorize":
                return self._authorize(query, None)
            return self._send(404, {"error": "not_found"})

        def do_POST(self):
            url = urlsplit(self.path)
            form = self._form()
            if url.path == "/token":
                basic = None
                auth = self.headers.get("Authorization", "")
                if auth.lower().startswith("basic "):
                    user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    basic = (user, password)
                status, body = provider.exchange(form, basic)
                return self._send(status, body)
            if url.path == "/authorize":
                return self._authorize(form, (form.get("username", ""), form.get("password", "")))
            return self._send(404, {"error": "not_found"})

        def _authorize(self, params: dict, credentials: tuple[str, str] | None):
            if params.get("client_id") != provider.client_id:
                return self._send(400, "unknown client_id", "text/plain")
            # Never redirect to an unregistered address (that is how codes get stolen).
            if params.get("redirect_uri") not in provider.redirect_uris:
                return self._send(400, "redirect_uri is not registered", "text/plain")
            if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
                return self._back(params, {"error": "invalid_request"})
            username = provider.auto_approve
            error = ""
            if credentials is not None:
                user = provider.users.get(credentials[0])
                if user and secrets.compare_digest(user.password, credentials[1]):
                    username = user.username
                else:
                    username, error = None, "<p role='alert'>Wrong username or password.</p>"
            if not username:
                keep = ("client_id", "redirect_uri", "state", "nonce", "scope", "response_type")
                keep += ("code_challenge", "code_challenge_method")
                hidden = "".join(
                    f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
                    for k in keep
                    if k in params
                )
                page = LOGIN_PAGE.format(error=error, hidden=hidden)
                return self._send(200, page, "text/html; charset=utf-8")
            return self._back(params, {"code": provider.issue_code(params, username)})

        def _back(self, params: dict, result: dict):
            query = urlencode({**result, "state": params.get("state", "")})
            return self._send(302, "", "text/plain", {"Location": f"{params['redirect_uri']}?{query}"})

    return Handler


def sso_settings(provider: OIDCProvider, **overrides) -> dict:
    """Django settings that switch single sign-on on against `provider` (for override_settings)."""
    values = {
        "OIDC_RP_CLIENT_ID": provider.client_id,
        "OIDC_RP_CLIENT_SECRET": provider.client_secret,
        "OIDC_OP_DISCOVERY_URL": provider.discovery_url,
        "OIDC_PROVIDER_NAME": "Acme SSO",
        "OIDC_ROLE_CONTACT": "the data platform team (#modelhouse)",
        "OIDC_ROLE_MAP": {
            "ds-scientists": ["scientist"],
            "ds-leads": ["scientist"],
            "ml-engineers": ["engineer"],
            "risk-office": ["compliance"],
            "portal-admins": ["admin"],
        },
        # What portal/settings/sso.py appends when OIDC_RP_CLIENT_ID is set.
        "AUTHENTICATION_BACKENDS": [*settings.AUTHENTICATION_BACKENDS, "portal.oidc.ModelhouseOIDCBackend"],
    }
    values.update(overrides)
    return values
