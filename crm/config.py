"""Settings: defaults, then the environment, then instance/config.py, then a test mapping."""

import os
import secrets
from pathlib import Path

from crm.database import read_json_column


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL so that two processes starting together agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def defaults(instance_path: str) -> dict:
    sqlite_path = Path(instance_path) / "crm.sqlite3"
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{sqlite_path}",
        "CRM_REQUIRE_TASK_PARENT": _bool(os.environ.get("CRM_REQUIRE_TASK_PARENT")),
        "CRM_RATE_LIMIT": os.environ.get("CRM_RATE_LIMIT", "600/minute"),
        "CRM_RATELIMIT_STORAGE_URL": os.environ.get("CRM_RATELIMIT_STORAGE_URL", "memory://"),
        "CRM_LOGIN_RATE_LIMIT": os.environ.get("CRM_LOGIN_RATE_LIMIT", "10/minute"),
        "CRM_PROXY_HOPS": int(os.environ.get("CRM_PROXY_HOPS", "0")),
        "CRM_AUTO_MIGRATE": _bool(os.environ.get("CRM_AUTO_MIGRATE"), default=True),
        "CRM_SMTP_URL": os.environ.get("CRM_SMTP_URL", ""),
        "CRM_MAIL_FROM": os.environ.get("CRM_MAIL_FROM", "Followup <followup@localhost>"),
        "CRM_BASE_URL": os.environ.get("CRM_BASE_URL", "http://localhost:5000"),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "json_deserializer": read_json_column},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "JSON_SORT_KEYS": False,
    }
