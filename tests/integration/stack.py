"""Real processes for integration tests: `mixgrade serve` and `mixgrade worker` subprocesses
(and, for apps a test runs itself, a server thread: ``serve_in_thread``)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from service.config import Settings
from service.db import make_engine, make_session_factory

MIXGRADE = [sys.executable, "-m", "service.cli"]
REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"


#: Variables that would point a spawned process away from its private instance folder.
SERVICE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def process_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment for spawned processes: embedded defaults in a private instance
    folder, unless ``overrides`` name a real database or broker."""
    env = {**os.environ, "MIXGRADE_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": "test"}
    for key in SERVICE_VARIABLES:
        env.pop(key, None)
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    """A WSGI app served over real HTTP on 127.0.0.1 by a thread of the test process."""

    port: int
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def serve_in_thread(app: Any) -> Served:
    """Serve ``app`` on a free port (threaded: it may call itself or be called at once)."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return Served(port, server, thread)


def process_stats() -> Iterator[tuple[int, str, list[str]]]:
    """(pid, command name, the fields of /proc/PID/stat after the name) of live processes.

    Linux only: tests that kill a server's child process and the benchmark's CPU meter
    read the process table from /proc.
    """
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        yield int(entry.name), name, stat[stat.rindex(")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and every descendant (a prefork worker's pool processes), Linux only."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(p for c in children for p in process_tree(int(c)))]


def production_web_command(port: int, workers: int) -> list[str]:
    """docker-compose.yml's web command, bound to 127.0.0.1:``port`` with ``workers`` processes.

    Read from the compose file, so that tests and benchmarks run what production runs.
    """
    command = yaml.safe_load(COMPOSE.read_text())["services"]["web"]["command"]
    given = {"--host": "127.0.0.1", "--port": str(port), "--workers": str(workers)}
    args = [given.get(option, arg) for option, arg in zip(["", *command], command, strict=False)]
    return [sys.executable, "-m", *args]


@dataclass(frozen=True)
class ServerCertificate:
    """A throwaway CA and a server certificate it signed, as PEM files, for HTTPS tests."""

    certificate: Path  # the server's certificate chain
    key: Path  # its private key, PKCS#8 (the only form granian reads)
    ca: Path  # what a client trusts to accept it (requests' verify=, SSL_CERT_FILE)


def make_server_certificate(directory: Path, *hosts: str) -> ServerCertificate:
    """A certificate for ``hosts`` (names or IP addresses) from a fresh throwaway CA."""
    import trustme
    from cryptography.hazmat.primitives import serialization

    authority = trustme.CA()
    leaf = authority.issue_cert(*hosts)
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    files = ServerCertificate(
        certificate=directory / "server.pem", key=directory / "server.key", ca=directory / "ca.pem"
    )
    files.certificate.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    authority.cert_pem.write_to_path(str(files.ca))
    return files


def mixgrade(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MIXGRADE, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@dataclass
class Stack:
    """A migrated database with the demo loaded, a web server and worker processes."""

    env: dict[str, str]
    base_url: str = ""
    logins: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)
    log_dir: Path | None = None
    #: Serve the production web server over HTTPS with this certificate (else plain HTTP).
    tls: ServerCertificate | None = None

    @property
    def verify(self) -> str | bool:
        """What a requests client passes as ``verify=`` to trust this stack's server."""
        return str(self.tls.ca) if self.tls else True

    @property
    def database_url(self) -> str:
        return self.env.get("DATABASE_URL") or (
            f"sqlite:///{self.env['MIXGRADE_INSTANCE']}/mixgrade.sqlite"
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A database session on the stack's database, for checking what was stored."""
        engine = make_engine(self.database_url)
        try:
            with make_session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()

    def prepare(self) -> None:
        for args in (("db", "upgrade"), ("demo",)):
            result = mixgrade(self.env, *args)
            assert result.returncode == 0, result.stderr
            if args == ("demo",):
                self.logins = dict(re.findall(r"(\S+@\S+)\s+password: (\S+)", result.stdout))

    def start_web(self) -> None:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.processes.append(self._spawn("web", "serve", "--port", str(port)))
        self.wait_until_serving()

    def start_production_web(self, workers: int = 2) -> None:
        """The production web server (granian, as docker-compose.yml runs it), over HTTPS
        with granian's own TLS when the stack has a certificate."""
        port = free_port()
        command = production_web_command(port, workers)
        scheme = "http"
        if self.tls is not None:
            command += ["--ssl-certificate", str(self.tls.certificate)]
            command += ["--ssl-keyfile", str(self.tls.key)]
            scheme = "https"
        self.base_url = f"{scheme}://127.0.0.1:{port}"
        self._spawn("web", command=command)
        self.wait_until_serving()

    def wait_until_serving(self, timeout: float = 60) -> None:
        """Return once the login page answers; fail with the web log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base_url}/login", timeout=10, verify=self.verify)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError(f"web server did not start: {self.log('web')}")

    def start_worker(self, name: str = "worker", *extra: str, **env: str) -> subprocess.Popen:
        process = self._spawn(name, "worker", "--loglevel=INFO", *extra, extra_env=env)
        self.workers.append(process)
        return process

    def _spawn(
        self,
        name: str,
        *args: str,
        extra_env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ):
        """Start ``mixgrade ARGS`` (or ``command``) in its own process group, logged to NAME.log."""
        assert self.log_dir is not None
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command or [*MIXGRADE, *args],
            env={**self.env, **(extra_env or {})},
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        assert self.log_dir is not None
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def student_session(stack: Stack, email: str) -> requests.Session:
    """A logged-in browser-like session (cookies + CSRF token)."""
    session = requests.Session()
    session.verify = stack.verify
    page = session.get(f"{stack.base_url}/login", timeout=10)
    token = csrf_from(page.text)
    response = session.post(
        f"{stack.base_url}/login",
        data={"email": email, "password": stack.logins[email], "csrf_token": token},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return session


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def wait_for_status(session: requests.Session, url: str, wanted: set[str], timeout: float = 60):
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = session.get(url, timeout=10).json()
        if body["status"] in wanted:
            return body
        time.sleep(0.1)
    raise AssertionError(f"status stayed {body.get('status')!r} for {timeout}s")


def prepared_stack(tmp_path: Path) -> tuple[Stack, Settings]:
    """A migrated stack with the demo loaded in a private instance folder, and the settings
    a test process needs to send tasks to its workers."""
    env = process_env(tmp_path)
    stack = Stack(env=env, log_dir=tmp_path)
    stack.prepare()
    settings = Settings.from_env(
        {"MIXGRADE_INSTANCE": env["MIXGRADE_INSTANCE"], "SECRET_KEY": env["SECRET_KEY"]}
    )
    return stack, settings
