"""Settings read from the environment at call time, so that a test or a command can point elsewhere."""

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PARTIES_FILE = PROJECT_ROOT / "examples" / "parties.nancy-metz.yaml"


def var_dir() -> Path:
    """Where embedded defaults keep their state: the SQLite store, mail files, Prefect's home."""
    path = Path(os.environ.get("INCIDENTS_VAR_DIR", PROJECT_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return os.environ.get("INCIDENTS_DATABASE_URL") or f"sqlite:///{var_dir() / 'incidents.db'}"


def parties_file() -> Path:
    return Path(os.environ.get("INCIDENTS_CONFIG") or DEFAULT_PARTIES_FILE)


def templates_override_dir() -> Path | None:
    """An académie may override any message template; missing ones fall back to the defaults."""
    value = os.environ.get("INCIDENTS_TEMPLATES_DIR")
    return Path(value) if value else None


class SettingsError(Exception):
    """An environment setting the engine cannot use; the message names it, in French."""


def _number(name: str, default: float, low: float, high: float, integer: bool = False) -> float:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        kind = "un nombre entier" if integer else "un nombre"
        raise SettingsError(f"Réglage « {name} » invalide : {kind} entre {low:g} et {high:g} est attendu "
                            f"(reçu « {value[:40]} »).")
    return number


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    use_tls: bool
    timeout: float


def smtp_settings(prefix: str = "INCIDENTS_SMTP_") -> SmtpSettings | None:
    """SMTP relay from the environment; None means mail is written to files under var/."""
    host = os.environ.get(f"{prefix}HOST")
    if not host:
        return None
    return SmtpSettings(
        host=host,
        port=int(_number(f"{prefix}PORT", 25, 1, 65535, integer=True)),
        username=os.environ.get(f"{prefix}USERNAME") or None,
        password=os.environ.get(f"{prefix}PASSWORD") or None,
        starttls=os.environ.get(f"{prefix}STARTTLS", "false").lower() == "true",
        use_tls=os.environ.get(f"{prefix}TLS", "false").lower() == "true",
        timeout=_number(f"{prefix}TIMEOUT", 30, 1, 600),
    )


def fallback_smtp_settings() -> SmtpSettings | None:
    """A second relay, used for the notices that the first one is failing (they must not depend on it)."""
    return smtp_settings("INCIDENTS_SMTP_FALLBACK_")


def claim_lease_seconds() -> float:
    """How long a delivery claim holds without renewal: a pass renews its claims while it runs, so this only
    bounds how long the messages of a pass that died wait before another pass takes them over."""
    settings = smtp_settings()
    default = max(120.0, 5 * (settings.timeout if settings else 30.0))
    return _number("INCIDENTS_CLAIM_LEASE_SECONDS", default, 1, 86400)


def smtp_connections() -> int:
    """How many SMTP connections a delivery pass keeps open at once: alerts leave side by side, not one after
    the other, when a burst queues hundreds (a relay may cap connections per client: lower it then)."""
    return int(_number("INCIDENTS_SMTP_CONNECTIONS", 4, 1, 32, integer=True))


def mail_dir() -> Path:
    return var_dir() / "mail"


def check_settings() -> None:
    """Read every delivery setting once, so that a bad one is refused, by name, before any work starts."""
    smtp_settings()
    fallback_smtp_settings()
    claim_lease_seconds()
    smtp_connections()


DEFAULT_PORTAL_PORT = 8080


def portal_port() -> int:
    return int(_number("INCIDENTS_PORTAL_PORT", DEFAULT_PORTAL_PORT, 1, 65535, integer=True))


def portal_url(port: int | None = None) -> str:
    """The portal's public address, written into sign-in links: set it in production (never taken from a request's
    Host header, which a client chooses)."""
    value = os.environ.get("INCIDENTS_PORTAL_URL", "").strip().rstrip("/")
    if value and not value.startswith(("http://", "https://")):
        raise SettingsError(f"Réglage « INCIDENTS_PORTAL_URL » invalide : une adresse http:// ou https:// est "
                            f"attendue (reçu « {value[:60]} »).")
    return value or f"http://127.0.0.1:{port or portal_port()}"


def max_attachment_bytes() -> int:
    return int(_number("INCIDENTS_MAX_ATTACHMENT_MEGABYTES", 10, 1, 100)) * 1024 * 1024


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str | None
    scope: str
    trust_email: bool  # the provider verifies every address it gives, and says nothing of it


def oidc_settings() -> OidcSettings | None:
    """An OpenID Connect provider (ProConnect, the académie's own), when configured; else sign-in by mailed link."""
    issuer = os.environ.get("INCIDENTS_OIDC_ISSUER", "").strip()
    if not issuer:
        return None
    client_id = os.environ.get("INCIDENTS_OIDC_CLIENT_ID", "").strip()
    if not client_id:
        raise SettingsError("Réglage « INCIDENTS_OIDC_CLIENT_ID » manquant : il accompagne INCIDENTS_OIDC_ISSUER.")
    return OidcSettings(issuer=issuer, client_id=client_id,
                        client_secret=os.environ.get("INCIDENTS_OIDC_CLIENT_SECRET") or None,
                        scope=os.environ.get("INCIDENTS_OIDC_SCOPE", "openid email"),
                        trust_email=os.environ.get("INCIDENTS_OIDC_TRUST_EMAIL", "false").lower() == "true")


def trusted_proxies() -> str:
    """The TLS front's addresses (comma-separated), whose X-Forwarded-For names the real client: the sign-in limits
    then count per person's machine, not for the whole académie behind the front."""
    value = os.environ.get("INCIDENTS_PORTAL_TRUSTED_PROXIES", "").strip()
    if "*" in value:
        raise SettingsError("Réglage « INCIDENTS_PORTAL_TRUSTED_PROXIES » invalide : nommez les adresses du frontal ; "
                            "« * » laisserait n'importe qui choisir l'adresse vue par le portail.")
    return value
