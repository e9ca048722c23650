"""OpenID Connect with a configured provider (ProConnect, the académie's own): the authorization request (PKCE,
nonce), then the code exchanged and the ID token checked (signature, issuer, audience, expiry, nonce); the e-mail
it gives, or that the userinfo endpoint gives (plain JSON, or a signed JWT as ProConnect answers)."""

import time
import warnings
from dataclasses import dataclass
from typing import Any

import httpx

from settings.env import OidcSettings, oidc_settings, portal_url

ALGORITHMS = ["RS256", "ES256", "PS256"]
METADATA_SECONDS = 300  # the provider's discovery document, kept a while: a sign-in flood does not hammer it
_metadata_cache: dict[str, tuple[float, dict[str, Any]]] = {}


class OidcRefused(Exception):
    """The provider's answer cannot be trusted (the message says why, for the refusal)."""


@dataclass(frozen=True)
class Started:
    url: str  # where to send the browser


def settings() -> OidcSettings:
    configured = oidc_settings()
    assert configured is not None
    return configured


def _client() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # authlib's notice about its httpx module; the client itself is unchanged
        from authlib.integrations.httpx_client import OAuth2Client
    configured = settings()
    return OAuth2Client(client_id=configured.client_id, client_secret=configured.client_secret,
                        scope=configured.scope, redirect_uri=f"{portal_url()}/connexion/oidc/retour",
                        code_challenge_method="S256",
                        token_endpoint_auth_method="client_secret_post" if configured.client_secret else "none")


def metadata() -> dict[str, Any]:
    """The discovery document, whose issuer must be the configured one (a trailing slash aside)."""
    issuer = settings().issuer
    cached = _metadata_cache.get(issuer)
    if cached and time.monotonic() - cached[0] < METADATA_SECONDS:
        return cached[1]
    try:
        answer = httpx.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=10)
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError) as error:
        raise OidcRefused("le fournisseur d'identité ne répond pas ; réessayez ou demandez un lien par courriel") \
            from error
    if str(found.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise OidcRefused("le fournisseur d'identité ne se présente pas sous l'adresse configurée")
    _metadata_cache[issuer] = (time.monotonic(), found)
    return found


def authorization_url(state: str, nonce: str, verifier: str) -> str:
    url, _ = _client().create_authorization_url(metadata()["authorization_endpoint"], state=state, nonce=nonce,
                                                code_verifier=verifier)
    return str(url)


def verified_email(code: str, nonce: str, verifier: str) -> str | None:
    """The e-mail the provider vouches for, lower-cased; None when it says it is not verified or gives none."""
    from authlib.integrations.base_client import OAuthError
    from joserfc.errors import JoseError

    try:
        return _verified_email(code, nonce, verifier)
    except (httpx.HTTPError, ValueError, KeyError, JoseError, OAuthError) as error:
        why = next((text for kind, text in WHY if kind == type(error).__name__), "réponse non conforme")
        raise OidcRefused(f"la réponse du fournisseur d'identité n'a pas pu être vérifiée ({why})") from error


# Why an answer was refused, in words a person can pass on to their administrator.
WHY = (("ExpiredTokenError", "jeton expiré"), ("InvalidClaimError", "jeton destiné à un autre service ou rejoué"),
       ("MissingClaimError", "jeton incomplet"), ("BadSignatureError", "signature invalide"),
       ("InvalidKeyIdError", "signature par une clé inconnue"), ("OAuthError", "code refusé par le fournisseur"),
       ("UserinfoMismatch", "informations d'une autre personne"))


class UserinfoMismatch(ValueError):
    """The userinfo endpoint answered about another subject than the ID token's."""


def _verified_email(code: str, nonce: str, verifier: str) -> str | None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    found_metadata = metadata()
    configured = settings()
    client = _client()
    token = client.fetch_token(found_metadata["token_endpoint"], code=code, code_verifier=verifier)
    keys = KeySet.import_key_set(httpx.get(found_metadata["jwks_uri"], timeout=10).json())
    issuer = str(found_metadata["issuer"])  # exactly as the provider writes it, trailing slash or not
    decoded = jwt.decode(token["id_token"], keys, algorithms=ALGORITHMS)
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer},
                          aud={"essential": True, "value": configured.client_id},
                          nonce={"essential": True, "value": nonce},
                          exp={"essential": True}, sub={"essential": True}, leeway=60).validate(decoded.claims)
    claims = dict(decoded.claims)
    if "email" not in claims and found_metadata.get("userinfo_endpoint"):
        answer = client.get(found_metadata["userinfo_endpoint"])
        answer.raise_for_status()
        if answer.headers.get("content-type", "").split(";")[0].strip() == "application/jwt":
            signed = jwt.decode(answer.text, keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer},
                                  aud={"essential": True, "value": configured.client_id}).validate(signed.claims)
            info = dict(signed.claims)
        else:
            info = answer.json()
        if info.get("sub") != claims["sub"]:
            raise UserinfoMismatch
        claims.update(info)
    email = claims.get("email")
    # Absent, the claim counts only if the provider is known to verify every address it gives (ProConnect's do).
    verified = claims.get("email_verified", True if configured.trust_email else None)
    if not email or not (verified is True or verified == "true"):
        return None
    return str(email).strip().lower()
