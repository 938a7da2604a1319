"""Throwaway PostgreSQL and nginx from the Debian packages, and `policyqa serve` replicas, on 127.0.0.1.

Used by the deploy test (eval/deploy_test.py) and the tests (tests/test_db_*.py, tests/test_deploy*.py).
Everything listens on free loopback ports, lives in a temporary directory and is stopped and removed
when its block ends. PostgreSQL refuses to run as root, so as root the servers run as an unprivileged
system user (`postgres` when the Debian package created it, else `nobody`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eval.procs import free_port

PASSWORD = "policyqa-test"  # a throwaway cluster on loopback, deleted with its directory


class MissingBinary(RuntimeError):
    """A Debian package the deploy setup needs is not installed (`apt-get install postgresql nginx`)."""


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin holding initdb and postgres (Debian's layout), or None."""
    found = [d for d in Path("/usr/lib/postgresql").glob("*/bin")
             if (d / "initdb").is_file() and (d / "postgres").is_file()]
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0) if found else None


def nginx_bin() -> Path | None:
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
    return Path(exe) if exe else None


def _runner() -> pwd.struct_passwd | None:
    """The unprivileged user servers run as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _workdir(prefix: str) -> tuple[Path, dict[str, Any]]:
    """A fresh directory in the system temp dir, owned by the runner; Popen kwargs that run as it."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    user = _runner()
    if user is None:
        return base, {}
    os.chown(base, user.pw_uid, user.pw_gid)
    return base, {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _chown_tree(path: Path, as_user: Mapping[str, Any]) -> None:
    if as_user:
        for p in [path, *path.rglob("*")]:
            os.chown(p, as_user["user"], as_user["group"])


def _stop(proc: subprocess.Popen[bytes], sig: int, timeout: float = 30.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start on 127.0.0.1:{port}")
        time.sleep(0.1)


class Postgres:
    """One throwaway cluster: `start`, `stop`, `kill` (SIGKILL, as a crash), URLs and databases."""

    def __init__(self, bindir: Path, directory: Path, as_user: Mapping[str, Any]) -> None:
        self.bindir, self.directory, self.as_user = bindir, directory, dict(as_user)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(directory), "LC_ALL": "C"}

    def url(self, dbname: str = "policyqa") -> str:
        return f"postgresql://policyqa:{PASSWORD}@127.0.0.1:{self.port}/{dbname}"

    def initdb(self, timeout: float) -> None:
        (self.directory / "pw").write_text(PASSWORD + "\n", encoding="utf-8")
        _chown_tree(self.directory, self.as_user)
        subprocess.run([str(self.bindir / "initdb"), "-D", str(self.directory / "data"), "-U", "policyqa", "-E",
                        "UTF8", "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256",
                        f"--pwfile={self.directory / 'pw'}"],
                       cwd=self.directory, env=self.env, check=True, capture_output=True, timeout=timeout,
                       **self.as_user)

    def start(self, timeout: float = 90.0) -> None:
        """The server in the foreground on the cluster's port; returns once it accepts connections."""
        import psycopg

        deadline = time.monotonic() + timeout
        while True:  # after a kill, the old backends may hold shared memory for a moment: try again
            with open(self.directory / "postgres.log", "ab") as log:
                self.proc = subprocess.Popen(
                    [str(self.bindir / "postgres"), "-D", str(self.directory / "data"), "-c",
                     "listen_addresses=127.0.0.1", "-c", f"port={self.port}", "-c",
                     f"unix_socket_directories={self.directory}"],
                    cwd=self.directory, env=self.env, stdout=log, stderr=subprocess.STDOUT, **self.as_user)
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    with psycopg.connect(self.url("postgres"), connect_timeout=2):
                        return
                except psycopg.OperationalError:
                    time.sleep(0.2)
            if time.monotonic() >= deadline:
                self.stop()
                tail = (self.directory / "postgres.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{self.port}:\n{tail}")
            time.sleep(0.5)

    def stop(self) -> None:
        """Fast shutdown: clients disconnected, a clean checkpoint."""
        if self.proc is not None:
            _stop(self.proc, signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL the postmaster (a crash): what was committed must be there after `start`."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def create_database(self, name: str) -> str:
        """A new empty database in the cluster; returns its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_cluster(timeout: float = 90.0) -> Iterator[Postgres]:
    """initdb + postgres (foreground) on a free loopback port; SCRAM password auth over TCP, fsync on.

    The database `policyqa` exists; `Postgres.create_database` makes more.
    """
    bindir = postgres_bin()
    if bindir is None:
        raise MissingBinary("PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb "
                            "(apt-get install postgresql)")
    base, as_user = _workdir("policyqa-pg-")
    cluster = Postgres(bindir, base, as_user)
    try:
        cluster.initdb(timeout)
        cluster.start(timeout)
        cluster.create_database("policyqa")
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


NGINX_MAIN = """worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {base}/access.log;
    client_body_temp_path {base}/tmp/body;
    proxy_temp_path {base}/tmp/proxy;
    fastcgi_temp_path {base}/tmp/fastcgi;
    uwsgi_temp_path {base}/tmp/uwsgi;
    scgi_temp_path {base}/tmp/scgi;
    include {base}/site.conf;
}}
"""


def render_site(text: str, listen: int, replicas: Sequence[int]) -> str:
    """deploy/nginx.conf with its `listen` on 127.0.0.1:`listen` and each upstream's servers on `replicas`."""
    out: list[str] = []
    in_upstream = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("upstream ") and stripped.endswith("{"):
            in_upstream = True
        elif in_upstream and stripped == "}":
            in_upstream = False
        if stripped.startswith("listen "):
            line = line[: len(line) - len(line.lstrip())] + f"listen 127.0.0.1:{listen};"
        elif in_upstream and stripped.startswith("server 127.0.0.1:"):
            if stripped.startswith(f"server 127.0.0.1:{_first_port(text)} "):
                indent = line[: len(line) - len(line.lstrip())]
                params = stripped.split(" ", 2)[2] if stripped.count(" ") >= 2 else ";"
                out += [f"{indent}server 127.0.0.1:{port} {params}" for port in replicas]
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _first_port(text: str) -> str:
    for line in text.splitlines():
        if line.strip().startswith("server 127.0.0.1:"):
            return line.strip().split(":")[1].split()[0].rstrip(";")
    raise ValueError("the site config has no upstream server on 127.0.0.1")


@contextmanager
def nginx(site: str, port: int, timeout: float = 30.0) -> Iterator[Path]:
    """nginx (foreground master + 1 worker) serving `site` (an http-context config); yields its directory."""
    exe = nginx_bin()
    if exe is None:
        raise MissingBinary("nginx is not installed (apt-get install nginx)")
    base, as_user = _workdir("policyqa-nginx-")
    proc: subprocess.Popen[bytes] | None = None
    try:
        (base / "tmp").mkdir()
        (base / "site.conf").write_text(site, encoding="utf-8")
        (base / "nginx.conf").write_text(NGINX_MAIN.format(base=base), encoding="utf-8")
        _chown_tree(base, as_user)
        check = subprocess.run([str(exe), "-t", "-p", str(base), "-c", str(base / "nginx.conf"), "-e",
                                str(base / "error.log")], capture_output=True, text=True, **as_user)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected the configuration:\n{check.stderr}")
        proc = subprocess.Popen([str(exe), "-p", str(base), "-c", str(base / "nginx.conf"), "-e",
                                 str(base / "error.log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                **as_user)
        wait_port(port, proc, "nginx", timeout)
        yield base
    finally:
        if proc is not None:
            _stop(proc, signal.SIGQUIT)  # graceful: finish the requests in flight
        shutil.rmtree(base, ignore_errors=True)
