"""Settings: defaults, then the environment, then instance/config.py, then a test mapping."""

import os
import secrets
import tempfile
from pathlib import Path

from crm.database import read_json_column


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


MIN_SECRET_KEY_LENGTH = 32
NEW_KEY_HINT = ("generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))', "
                "or leave SECRET_KEY unset to have one generated into instance/secret_key")


class ConfigError(RuntimeError):
    """A setting the app refuses to start with."""


def check_secret_key(key: str | bytes | None, where: str = "SECRET_KEY") -> None:
    """An empty or short key would make sessions, CSRF tokens and cursors forgeable."""
    if not key or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(f"{where} is empty or shorter than {MIN_SECRET_KEY_LENGTH} characters; "
                          f"refusing to start. Set a long random one ({NEW_KEY_HINT}).")


def load_secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else the one generated once and kept in instance/.

    The file is written whole under a temporary name, then linked into place: the link either
    makes it appear complete or fails because another process starting at the same moment got
    there first, whose key is then read. No process ever reads a half-written or empty key."""
    if "SECRET_KEY" in os.environ:
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key_file(path)
        return key
    finally:
        os.unlink(temporary)


def _read_key_file(path: Path) -> str:
    key = path.read_text().strip()
    check_secret_key(key, where=str(path))
    return key


def defaults(instance_path: str) -> dict:
    sqlite_path = Path(instance_path) / "crm.sqlite3"
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{sqlite_path}",
        "CRM_REQUIRE_TASK_PARENT": _bool(os.environ.get("CRM_REQUIRE_TASK_PARENT")),
        "CRM_RATE_LIMIT": os.environ.get("CRM_RATE_LIMIT", "600/minute"),
        "CRM_RATELIMIT_STORAGE_URL": os.environ.get("CRM_RATELIMIT_STORAGE_URL", "memory://"),
        "CRM_LOGIN_RATE_LIMIT": os.environ.get("CRM_LOGIN_RATE_LIMIT", "10/minute"),
        "CRM_CORS_ORIGINS": os.environ.get("CRM_CORS_ORIGINS", ""),
        # Webhooks (docs/webhooks.md): receivers on private addresses or plain http, and retries.
        "CRM_WEBHOOK_ALLOW_PRIVATE": _bool(os.environ.get("CRM_WEBHOOK_ALLOW_PRIVATE")),
        "CRM_WEBHOOK_ALLOW_HTTP": _bool(os.environ.get("CRM_WEBHOOK_ALLOW_HTTP")),
        "CRM_WEBHOOK_RETRY_SECONDS": float(os.environ.get("CRM_WEBHOOK_RETRY_SECONDS", "30")),
        "CRM_WEBHOOK_RETRY_HOURS": float(os.environ.get("CRM_WEBHOOK_RETRY_HOURS", "72")),
        "CRM_LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("CRM_LOGIN_ACCOUNT_RATE_LIMIT", "10/minute;50/hour"),
        "CRM_PROXY_HOPS": int(os.environ.get("CRM_PROXY_HOPS", "0")),
        "CRM_TRUSTED_PROXIES": os.environ.get("CRM_TRUSTED_PROXIES", "127.0.0.1,::1"),
        "CRM_PROXY_TRUST_PREFIX": _bool(os.environ.get("CRM_PROXY_TRUST_PREFIX")),
        "CRM_PROXY_TRUST_PORT": _bool(os.environ.get("CRM_PROXY_TRUST_PORT")),
        "CRM_AUTO_MIGRATE": _bool(os.environ.get("CRM_AUTO_MIGRATE"), default=True),
        "CRM_SMTP_URL": os.environ.get("CRM_SMTP_URL", ""),
        "CRM_MAIL_FROM": os.environ.get("CRM_MAIL_FROM", "Followup <followup@localhost>"),
        "CRM_BASE_URL": os.environ.get("CRM_BASE_URL", ""),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "json_deserializer": read_json_column},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
    }
