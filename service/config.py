"""Settings read from the environment, with defaults that need no server at all.

The embedded default (SQLite + kombu's SQLAlchemy transport) lets `make run` work on a
fresh laptop; production points the same variables at PostgreSQL and Redis.
"""

from __future__ import annotations

import contextlib
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
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'mixgrade.sqlite'}"
        broker_url = env.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{instance / 'broker.sqlite'}"
        result_backend = (
            env.get("CELERY_RESULT_BACKEND") or f"db+sqlite:///{instance / 'celery-results.sqlite'}"
        )
        private_instance(instance, [database_url, broker_url, result_backend])
        return cls(
            instance_dir=instance,
            database_url=database_url,
            broker_url=broker_url,
            result_backend=result_backend,
            secret_key=env.get("SECRET_KEY") or _instance_secret(instance),
            stuck_after_seconds=int(env.get("MIXGRADE_STUCK_AFTER", "120")),
            trusted_proxies=int(env.get("MIXGRADE_TRUSTED_PROXIES", "0")),
        )


#: instance/ and everything in it are the owner's alone: the databases hold password
#: hashes, answer keys and API token digests; secret_key signs every session.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_instance(instance: Path, urls: list[str]) -> None:
    """Make ``instance`` a 0700 folder whose files are 0600, before anything opens them.

    The SQLite files that ``urls`` put inside it are created empty with mode 0600 here
    (an empty file is an empty database): SQLite gives its -wal, -shm and -journal files
    the mode of the database file, so they are private too, whatever the umask. Files
    left readable by an older version are narrowed to 0600.
    """
    instance.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _narrow(instance, PRIVATE_DIR_MODE)
    for url in urls:
        path = _sqlite_file(url)
        if path is not None and path.parent == instance:
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for entry in instance.iterdir():
        if entry.is_file() and not entry.is_symlink():
            _narrow(entry, PRIVATE_FILE_MODE)


def restrict_new_files() -> None:
    """umask 077 for this process and its children: every file made later is private.

    Covers what the libraries create on their own under instance/ (the beat schedule,
    the run lock, demo-logins.txt before its chmod).
    """
    os.umask(0o077)


def _narrow(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` if it grants more; a file we do not own is left alone."""
    try:
        if path.stat().st_mode & 0o777 & ~mode:
            path.chmod(mode)
    except PermissionError:
        pass


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (also kombu's sqla+ and Celery's db+ forms)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    for prefix in ("sqla+", "db+"):
        url = url.removeprefix(prefix)
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # reported with the variable's name when the URL is used
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


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
