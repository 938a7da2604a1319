"""The scale-out deployment on one machine, for the deploy test: everything on 127.0.0.1, free ports.

`stack()` starts, from the Debian packages and this checkout, what deploy/ describes: PostgreSQL (a
throwaway cluster), one `chroma run`, the index built into it by `policyqa index`, N `policyqa serve`
replicas sharing both (each with a data dir of its own holding a copy of the sentence-vector cache, as
on separate machines), and nginx running
deploy/nginx.conf with its ports rewritten. `Stack.kill` sends SIGKILL to a replica, `Stack.start`
starts it again. Everything is stopped and its temporary directory removed when the block ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from eval.procs import free_port, start_chroma
from eval.procs import stop as stop_proc
from eval.services import Postgres, nginx, postgres_cluster, render_site

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx.conf"
ACCESS_LOG = "log_format policyqa '$msec|$status|$request_method|$uri|$upstream_addr|$upstream_status';"


@dataclass
class Replica:
    port: int
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    started: list[float] = field(default_factory=list)  # monotonic times each start became healthy

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    base: Path
    env: dict[str, str]
    replicas: list[Replica]
    nginx_port: int = 0
    nginx_dir: Path | None = None
    postgres: Postgres | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def database_url(self) -> str | None:
        return self.env.get("POLICYQA_DATABASE_URL")

    def start(self, i: int, timeout: float = 240.0) -> float:
        """Start replica `i` (`policyqa serve`); returns seconds until its /api/health answered 200."""
        replica = self.replicas[i]
        env = self.env | {"POLICYQA_DATA_DIR": str(replica.data_dir)}
        log = open(self.base / f"replica-{i}.log", "ab")  # noqa: SIM115 (the child holds it)
        began = time.monotonic()
        replica.proc = subprocess.Popen([str(Path(sys.executable).with_name("policyqa")), "serve", "--host",
                                         "127.0.0.1", "--port", str(replica.port)],
                                        env=env, cwd=self.base, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        while not healthy(replica.url):
            if replica.proc.poll() is not None or time.monotonic() - began > timeout:
                tail = (self.base / f"replica-{i}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"replica {i} did not start on {replica.url}:\n{tail}")
            time.sleep(0.25)
        replica.started.append(time.monotonic())
        return time.monotonic() - began

    def kill(self, i: int) -> None:
        """kill -9: no shutdown, requests in flight are cut."""
        proc = self.replicas[i].proc
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def stop(self, i: int) -> None:
        proc = self.replicas[i].proc
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)

    def index(self, data_dir: Path | None = None) -> None:
        """`policyqa index` into the shared Chroma (run from one place, as the README says)."""
        env = self.env | {"POLICYQA_DATA_DIR": str(data_dir or self.base / "build")}
        subprocess.run([str(Path(sys.executable).with_name("policyqa")), "index"], env=env, cwd=self.base,
                       check=True, capture_output=True, timeout=600)

    def nginx_errors(self) -> list[str]:
        """The [error]/[warn] lines of nginx's error log."""
        if self.nginx_dir is None or not (self.nginx_dir / "error.log").exists():
            return []
        return [line for line in (self.nginx_dir / "error.log").read_text().splitlines() if "] " in line]

    def upstream_log(self) -> list[list[str]]:
        """nginx's access log, one list per request: msec, status, method, uri, upstream addresses, statuses."""
        if self.nginx_dir is None or not (self.nginx_dir / "access.log").exists():
            return []
        return [line.split("|") for line in (self.nginx_dir / "access.log").read_text().splitlines()]


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def stack(replicas: int = 2, *, database: bool = True, proxy: bool = True, workers: int = 4) -> Iterator[Stack]:
    """The deployment, up and healthy; stopped and removed when the block ends (also on errors)."""
    base = Path(tempfile.mkdtemp(prefix="policyqa-deploy-"))
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, base, True)
        shutil.copytree(ROOT / "corpus", base / "corpus")
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
        env |= {"POLICYQA_CORPUS_DIR": str(base / "corpus"), "POLICYQA_LEXICON_DIR": str(ROOT / "corpus" / "language"),
                "POLICYQA_EMBED_THREADS": "1", "POLICYQA_WORKERS": str(workers), "GRADIO_ANALYTICS_ENABLED": "False",
                "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "FORWARDED_ALLOW_IPS": "127.0.0.1"}
        pg: Postgres | None = None
        if database:
            pg = cleanup.enter_context(postgres_cluster())
            env["POLICYQA_DATABASE_URL"] = pg.url()
        chroma = start_chroma(base / "chroma", port := free_port())
        cleanup.callback(stop_proc, chroma)
        env["POLICYQA_CHROMA_URL"] = f"http://127.0.0.1:{port}"
        deployment = Stack(base, env, [Replica(free_port(), base / f"replica-{i}") for i in range(replicas)],
                           postgres=pg)
        deployment.index()
        for replica in deployment.replicas:  # as on another machine: the sentence-vector cache copied over
            replica.data_dir.mkdir(parents=True)
            for cache in (base / "build").glob("sentences-*.npz"):
                shutil.copy2(cache, replica.data_dir / cache.name)
        for i in range(replicas):
            cleanup.callback(deployment.stop, i)
            deployment.start(i)
        if proxy:
            deployment.nginx_port = free_port()
            site = ACCESS_LOG + "\n" + render_site(SITE.read_text(encoding="utf-8"), deployment.nginx_port,
                                                   [r.port for r in deployment.replicas])
            site = site.replace("server_tokens off;", "server_tokens off;\n    access_log {log} policyqa;", 1)
            deployment.nginx_dir = cleanup.enter_context(nginx(site.replace("{log}", "access.log"),
                                                               deployment.nginx_port))
        yield deployment
