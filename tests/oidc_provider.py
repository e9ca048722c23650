"""A small OpenID Connect provider for the tests, served on loopback in a thread: discovery, JWKS, an authorization
endpoint that signs the configured person in at once (no login page), a token endpoint that checks the PKCE
verifier (S256) and the client's secret, and a userinfo endpoint. What it answers can be spoiled per test (wrong
audience or nonce, expired token, a signature by another key, the e-mail only in userinfo, not verified...)."""

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class Behaviour:
    """Who signs in, and how the provider answers; reset between tests."""

    email: str = "rssi@ac-nancy-metz.example.org"
    email_verified: bool | str | None = True  # None: the claim is left out; a string as some providers send it
    sub: str = "sujet-0001"
    email_only_in_userinfo: bool = False  # the ID token carries no e-mail: the client must ask userinfo
    wrong_audience: bool = False
    wrong_nonce: bool = False
    wrong_issuer: bool = False
    expired: bool = False
    foreign_key: bool = False  # signed by a key the JWKS does not publish (under the published key's kid)
    unknown_kid: bool = False  # signed by another key, under a kid the JWKS does not hold
    refuse_token: bool = False  # the token endpoint answers 400 invalid_grant whatever it is sent
    userinfo_sub: str | None = None  # another subject in userinfo than in the ID token
    userinfo_as_jwt: bool = False  # userinfo answers a signed JWT (application/jwt), as ProConnect does
    trailing_slash_issuer: bool = False  # the issuer identifier ends with "/" (as some providers publish it)


@dataclass
class Issued:
    """An authorization code handed out, and what was asked with it."""

    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    used: bool = False


@dataclass
class Record:
    """What the provider saw, for the tests' assertions."""

    authorizations: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    token_refusals: list[str] = field(default_factory=list)
    userinfo_requests: int = 0


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class OidcProvider:
    def __init__(self, client_id: str = "portail-ent", client_secret: str | None = "secret-du-portail") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, auto_kid=True)
        self.other_key = RSAKey.generate_key(2048, auto_kid=True)
        self.behaviour = Behaviour()
        self.record = Record()
        self._codes: dict[str, Issued] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "OidcProvider":
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def reset(self, **behaviour: Any) -> None:
        with self._lock:
            self.behaviour = Behaviour(**behaviour)
            self.record = Record()
            self._codes.clear()
            self._access_tokens.clear()

    def __enter__(self) -> "OidcProvider":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- what it serves ------------------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": self.issuer_claim() + ("/autre" if self.behaviour.wrong_issuer else ""),
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
        }

    def issuer_claim(self) -> str:
        """The issuer identifier as the provider states it (discovery and `iss`)."""
        return self.issuer + ("/" if self.behaviour.trailing_slash_issuer else "")

    def jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "use": "sig", "alg": "RS256"}]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Signs the configured person in at once: back to redirect_uri with a code and the state."""
        with self._lock:
            self.record.authorizations.append(dict(query))
            redirect_uri = query.get("redirect_uri", "")
            if query.get("client_id") != self.client_id or not redirect_uri.startswith(("http://", "https://")):
                return 400, {"content-type": "text/plain"}, "client_id ou redirect_uri invalide"
            if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
                return 400, {"content-type": "text/plain"}, "response_type ou scope invalide"
            code = secrets.token_urlsafe(24)
            self._codes[code] = Issued(client_id=query["client_id"], redirect_uri=redirect_uri,
                                       nonce=query.get("nonce"), code_challenge=query.get("code_challenge"),
                                       code_challenge_method=query.get("code_challenge_method"))
        answer = {"code": code}
        if "state" in query:
            answer["state"] = query["state"]
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return 302, {"location": redirect_uri + separator + urlencode(answer)}, ""

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.record.token_requests.append(dict(form))
            refusal = self._token_refusal(form)
            if refusal:
                self.record.token_refusals.append(refusal)
                return 400, {"error": "invalid_grant", "error_description": refusal}
            issued = self._codes[form["code"]]
            issued.used = True
            behaviour = self.behaviour
            access_token = secrets.token_urlsafe(24)
            self._access_tokens[access_token] = {"sub": behaviour.userinfo_sub or behaviour.sub,
                                                 **self._email_claims()}
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer_claim(),
            "aud": "un-autre-client" if behaviour.wrong_audience else self.client_id,
            "sub": behaviour.sub,
            "iat": now - (7200 if behaviour.expired else 0),
            "exp": now - 3600 if behaviour.expired else now + 300,
            "nonce": "une-autre-valeur" if behaviour.wrong_nonce else issued.nonce,
        }
        if not behaviour.email_only_in_userinfo:
            claims.update(self._email_claims())
        key = self.other_key if behaviour.foreign_key or behaviour.unknown_kid else self.key
        kid = key.kid if behaviour.unknown_kid else self.key.kid
        id_token = jwt.encode({"alg": "RS256", "kid": kid}, claims, key)
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token,
                     "scope": "openid email"}

    def _token_refusal(self, form: dict[str, str]) -> str | None:
        if self.behaviour.refuse_token:
            return "refus configuré"
        if form.get("grant_type") != "authorization_code":
            return "grant_type"
        issued = self._codes.get(form.get("code", ""))
        if issued is None or issued.used:
            return "code inconnu ou déjà utilisé"
        if form.get("client_id") != issued.client_id:
            return "client_id"
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return "client_secret"
        if form.get("redirect_uri") != issued.redirect_uri:
            return "redirect_uri"
        if issued.code_challenge_method != "S256" or not issued.code_challenge:
            return "PKCE S256 absent de la demande d'autorisation"
        verifier = form.get("code_verifier", "")
        if not verifier or not secrets.compare_digest(s256(verifier), issued.code_challenge):
            return "code_verifier"
        return None

    def _email_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"email": self.behaviour.email}
        if self.behaviour.email_verified is not None:
            claims["email_verified"] = self.behaviour.email_verified
        return claims

    def userinfo(self, authorization: str) -> tuple[int, dict[str, Any] | str]:
        with self._lock:
            self.record.userinfo_requests += 1
            scheme, _, token = authorization.partition(" ")
            found = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if found is None:
            return 401, {"error": "invalid_token"}
        if self.behaviour.userinfo_as_jwt:
            now = int(time.time())
            claims = {**found, "iss": self.issuer_claim(), "aud": self.client_id, "iat": now, "exp": now + 60}
            return 200, jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        return 200, found


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's API
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/authorize":
                status, headers, body = provider.authorize(query)
                self._send(status, headers, body.encode())
            elif url.path == "/userinfo":
                self._userinfo()
            else:
                self._send(404, {"content-type": "text/plain"}, b"not found")

        def do_POST(self) -> None:  # noqa: N802 - http.server's API
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            url = urlsplit(self.path)
            if url.path == "/token":
                form = {key: values[0] for key, values in parse_qs(body).items()}
                self._json(*provider.token(form))
            elif url.path == "/userinfo":
                self._userinfo()
            else:
                self._send(404, {"content-type": "text/plain"}, b"not found")

        def _userinfo(self) -> None:
            status, answer = provider.userinfo(self.headers.get("authorization", ""))
            if isinstance(answer, str):
                self._send(status, {"content-type": "application/jwt"}, answer.encode())
            else:
                self._json(status, answer)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, {"content-type": "application/json", "cache-control": "no-store"},
                       json.dumps(payload).encode())

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
