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


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    use_tls: bool
    timeout: float


def smtp_settings() -> SmtpSettings | None:
    """SMTP relay from the environment; None means mail is written to files under var/."""
    host = os.environ.get("INCIDENTS_SMTP_HOST")
    if not host:
        return None
    return SmtpSettings(
        host=host,
        port=int(os.environ.get("INCIDENTS_SMTP_PORT", "25")),
        username=os.environ.get("INCIDENTS_SMTP_USERNAME") or None,
        password=os.environ.get("INCIDENTS_SMTP_PASSWORD") or None,
        starttls=os.environ.get("INCIDENTS_SMTP_STARTTLS", "false").lower() == "true",
        use_tls=os.environ.get("INCIDENTS_SMTP_TLS", "false").lower() == "true",
        timeout=float(os.environ.get("INCIDENTS_SMTP_TIMEOUT", "30")),
    )


def mail_dir() -> Path:
    return var_dir() / "mail"
