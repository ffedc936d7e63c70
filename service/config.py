"""Settings read from the environment, with defaults that need no server at all.

The embedded default (SQLite + kombu's SQLAlchemy transport) lets `make run` work on a
fresh laptop; production points the same variables at PostgreSQL and Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def default_instance_dir() -> Path:
    """`instance/` in the working directory unless MIXGRADE_INSTANCE says otherwise."""
    return Path(os.environ.get("MIXGRADE_INSTANCE", "instance")).resolve()


#: What the seed key is derived for; a new version here would issue every new variant anew.
SEED_KEY_PURPOSE = b"mixgrade seed v1"


@dataclass(frozen=True)
class Settings:
    """Everything the web server and the workers need to find each other."""

    instance_dir: Path
    database_url: str
    broker_url: str
    result_backend: str
    secret_key: str
    #: A submission queued or grading for longer than this is re-queued by the sweep.
    stuck_after_seconds: int = 120
    #: Uploaded specs and answers larger than this are refused with 413.
    max_upload_bytes: int = 256 * 1024
    #: How many reverse proxies in front of the app to trust for X-Forwarded-* headers.
    trusted_proxies: int = 0

    @property
    def seed_key(self) -> bytes:
        """The key students' seeds are derived with (see services.variants.seed_for).

        Derived from SECRET_KEY for this one purpose, so the seed key is never the key that
        signs session cookies, and knowing one seed tells nothing about the cookie key.
        """
        return hmac.new(self.secret_key.encode(), SEED_KEY_PURPOSE, hashlib.sha256).digest()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read the documented variables; create instance/ and a secret key if absent."""
        env = dict(os.environ if env is None else env)
        instance = Path(env.get("MIXGRADE_INSTANCE", "instance")).resolve()
        instance.mkdir(parents=True, exist_ok=True)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'mixgrade.sqlite'}"
        broker_url = env.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{instance / 'broker.sqlite'}"
        result_backend = (
            env.get("CELERY_RESULT_BACKEND") or f"db+sqlite:///{instance / 'celery-results.sqlite'}"
        )
        return cls(
            instance_dir=instance,
            database_url=database_url,
            broker_url=broker_url,
            result_backend=result_backend,
            secret_key=env.get("SECRET_KEY") or _instance_secret(instance),
            stuck_after_seconds=int(env.get("MIXGRADE_STUCK_AFTER", "120")),
            trusted_proxies=int(env.get("MIXGRADE_TRUSTED_PROXIES", "0")),
        )


def _instance_secret(instance: Path) -> str:
    """A random key kept in instance/secret_key, so sessions survive restarts.

    The file is created with mode 0600 and lives under instance/, which git ignores.
    """
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, safe to print in an error line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
