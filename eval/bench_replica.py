"""Replica cold start: `policyqa serve` spawned → its first answer, with and without the lexical artifact.

A replica that did not build the index opens the generation from Chroma; with the artifact
(index/lexical_cache.py) it reads the fitted BM25/idf/boilerplate instead of running jieba over
every chunk. `python -m eval.bench_replica --sizes 20000` runs the SYNTHETIC scale run alone
(eval/bench_scale.py, which measures this at its largest size) and writes its JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.bench_cold import QUESTION, env_for
from eval.bench_timing import spread
from eval.procs import free_port
from index.settings import Settings

# what `policyqa serve` runs (ui/boot.py: the index opens while Gradio imports); it logs the index's open line
SERVE = [sys.executable, "-m", "ui.boot"]
_OPENED = re.compile(r"opened: \d+ chunks, lexical state (\w+), ([\d.]+) s")


def replica_cold_start(settings: Settings, data_dir: Path, timeout: float = 300.0) -> dict[str, Any]:
    """Seconds from spawning the server to its first answer of POST /api/ask, and how it opened the index."""
    import httpx

    port = free_port()
    env = env_for(data_dir, POLICYQA_CORPUS_DIR=str(settings.corpus_dir), POLICYQA_FAQ="false",
                  POLICYQA_COLLECTION_PREFIX=settings.collection_prefix,
                  **({"POLICYQA_CHROMA_URL": settings.chroma_url} if settings.chroma_url else {}))
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        proc = subprocess.Popen([*SERVE, "--host", "127.0.0.1", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=log, text=True)
        try:
            while True:
                if proc.poll() is not None or time.perf_counter() - started > timeout:
                    log.seek(0)
                    raise RuntimeError(f"policyqa serve gave no answer: {log.read()[-600:]}")
                try:
                    reply = httpx.post(f"http://127.0.0.1:{port}/api/ask", json={"question": QUESTION}, timeout=60)
                    if reply.status_code == 200 and reply.json().get("answer"):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            seconds = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        log.seek(0)
        opened = _OPENED.search(log.read())
    return {"seconds": seconds, "lexical": opened[1] if opened else "?",
            "open_seconds": float(opened[2]) if opened else float("nan")}


def replica_cold_starts(settings: Settings, work: Path, reps: int) -> dict[str, Any]:
    """Cold starts with the generation's lexical artifact and without it (removed, then put back), interleaved.

    On a Chroma server the replica gets an empty data dir of its own, as on another machine.
    """
    from index.store import Store

    store = Store(settings)
    name = store.active_name() or ""
    blob = store.artifact(name)
    runs: dict[str, list[dict[str, Any]]] = {"with": [], "without": []}
    load_before = os.getloadavg()[0]  # the machine is shared: the report prints the load beside the figures
    try:
        for rep in range(reps):
            for variant in ("with", "without"):
                data_dir = work / f"replica-{rep}-{variant}" if settings.chroma_url else settings.data_dir
                if variant == "without":
                    store.drop_artifact(name)
                runs[variant].append(replica_cold_start(settings, data_dir))
                if variant == "without" and blob is not None:
                    store.put_artifact(name, blob)
    finally:
        if blob is not None and store.artifact(name) != blob:
            store.put_artifact(name, blob)
    out: dict[str, Any] = {variant: {"seconds": spread([r["seconds"] for r in rs]),
                                     "open_seconds": spread([r["open_seconds"] for r in rs]),
                                     "lexical": sorted({r["lexical"] for r in rs})} for variant, rs in runs.items()}
    return out | {"load_before": load_before, "load_after": os.getloadavg()[0], "cpus": os.cpu_count()}


def main() -> None:
    """`--sizes 1000,20000`: the SYNTHETIC scale run alone (no real-corpus figures), its JSON to --out.

    `--existing`: only the replica cold starts, against the index the POLICYQA_* settings point to.
    """
    from eval import bench_scale
    from eval.bench import EVAL_DIR, pick
    from eval.gold import load_gold

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--sizes", default="20000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--existing", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("scale.json"))
    args = parser.parse_args()
    base = Settings()
    with tempfile.TemporaryDirectory(prefix="policyqa-scale-") as work:
        if args.existing:
            from index.store import Store

            name = Store(base).active_name() or ""
            result: dict[str, Any] = {"collection": name, "chunks": len(Store(base).chunks(name)),
                                      "chroma": "server" if base.chroma_url else "embedded",
                                      "replica_cold_start": replica_cold_starts(base, Path(work), args.reps)}
        else:
            items = pick(load_gold(EVAL_DIR / "gold.jsonl"), args.questions)
            sizes = sorted(int(s) for s in args.sizes.split(","))
            result = bench_scale.scale_run(base, items, sizes, args.reps, Path(work), base.data_dir / "bench-cache",
                                           sample=48)
            result["questions"] = len(items)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
