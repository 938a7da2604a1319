"""Render an `EvalRun` as Markdown, JSON and a PNG chart; list the failures worth reading."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.gold import GoldItem
from eval.metrics import fold, mean, metric_names
from eval.runner import EvalRun, QuestionResult, SystemResult

VERSUS = ("hit@5", "citation_precision", "fact_accuracy")  # policyqa must beat every baseline here
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "latency_p50_ms", "latency_p95_ms"})
TAG_COLUMNS = ("hit@5", "mrr", "citation_hit", "citation_precision", "fact_accuracy",
               "refusal_accuracy", "false_refusal_rate")
METRIC_NOTES = {
    "hit@1": "a gold clause is the top retrieved clause",
    "mrr": "1/rank of the first gold clause within the top k",
    "citation_hit": "some citation matches some gold clause",
    "clause_recall": "share of gold clause elements the citations cover",
    "citation_precision": "share of citations that match a gold clause (answers with citations)",
    "quote_verbatim": "every quote is a substring of its clause (all answers that cite)",
    "fact_accuracy": "every must_include fact is in the answer (NFKC, whitespace removed)",
    "refusal_accuracy": "unanswerable questions refused",
    "false_refusal_rate": "answerable questions refused (lower is better)",
}


def headline(k: int) -> tuple[str, ...]:
    return (*metric_names(k), "latency_p50_ms", "latency_p95_ms")


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} ms" if name.startswith("latency") else f"{value:.3f}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


@dataclass(frozen=True)
class Verdict:
    metric: str
    baseline: str
    ours: float | None
    theirs: float | None

    @property
    def beats(self) -> bool:
        ours, theirs = self.ours, self.theirs
        return ours is not None and (theirs is None or ours > theirs)

    def sentence(self) -> str:
        word = "beats" if self.beats else "does NOT beat"
        return (f"policyqa {word} {self.baseline} on {self.metric}: "
                f"{fmt(self.metric, self.ours)} vs {fmt(self.metric, self.theirs)}")


def answered_mean(system: SystemResult, metric: str) -> tuple[float | None, int]:
    """A metric over the answerable questions the system did not refuse, and how many those are."""
    values = [q.values.get(metric) for q in system.questions
              if q.item.answerable and not q.outcome.refused]
    return mean(values), len(values)


def why_not(run: EvalRun, verdict: Verdict) -> str:
    """The usual reason policyqa loses on an answer metric: baselines never refuse, it does."""
    ours = run.policyqa
    rate = ours.overall.get("false_refusal_rate")
    if verdict.metric == "hit@5" or not rate:
        return ""
    value, n = answered_mean(ours, verdict.metric)
    return (f" — policyqa refuses {rate:.0%} of answerable questions (baselines never refuse); "
            f"on the {n} it answers, its {verdict.metric} is {fmt(verdict.metric, value)}")


def verdicts(run: EvalRun) -> list[Verdict]:
    ours = run.policyqa.overall
    return [Verdict(m, b.name, ours.get(m), b.overall.get(m))
            for b in run.systems[1:] for m in VERSUS]


@dataclass(frozen=True)
class Failure:
    id: str
    question: str
    expected: str
    got: str
    problems: tuple[str, ...]


def _problems(q: QuestionResult) -> tuple[str, ...]:
    v, out, item = q.values, q.outcome, q.item
    if not item.answerable:
        return () if out.refused else ("answered (should refuse)",)
    found: list[str] = ["refused" + (f" ({out.reason})" if out.reason else "")] if out.refused else []
    if v.get("hit@5") == 0.0:
        found.append("retrieval miss@5")
    if not out.refused and v.get("citation_hit") == 0.0:
        found.append("wrong clause cited")
    elif not out.refused and (recall := v.get("clause_recall")) is not None and recall < 1.0:
        found.append("partial clause recall")
    if not out.refused and v.get("fact_accuracy") == 0.0:
        missing = [e[0] for e in item.must_include if not any(fold(a) in fold(out.answer) for a in e)]
        found.append("missing fact: " + ", ".join(missing))
    if v.get("quote_verbatim") == 0.0:
        found.append("quote not verbatim")
    return tuple(found)


def failures(system: SystemResult) -> list[Failure]:
    """Questions the system got wrong, with enough context to act on each."""
    rows = []
    for q in system.questions:
        problems = _problems(q)
        if not problems:
            continue
        item = q.item
        rows.append(Failure(item.id, item.question, _expected(item), _got(q), problems))
    return rows


def _expected(item: GoldItem) -> str:
    if not item.answerable:
        return "refuse"
    facts = "; ".join("|".join(e) for e in item.must_include)
    return "cite " + "; ".join("|".join(e) for e in item.clauses) + (f" · facts {facts}" if facts else "")


def _got(q: QuestionResult) -> str:
    out = q.outcome
    if out.refused:
        head = f"refused ({out.reason or 'no reason given'})"
    else:
        head = "; ".join(f"{key} “{quote[:50]}”" for key, quote in out.citations) or "no citation"
    return f"{head} · retrieved {', '.join(out.ranked[:5])}"

def _metric_table(run: EvalRun) -> list[str]:
    k = int(run.meta["k"])
    names = [s.name for s in run.systems]
    lines = ["| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for m in headline(k):
        lines.append(f"| {m} | " + " | ".join(fmt(m, s.overall.get(m)) for s in run.systems) + " |")
    return lines


def _tag_table(system: SystemResult) -> list[str]:
    lines = ["| tag | n | " + " | ".join(TAG_COLUMNS) + " |", "|---" * (len(TAG_COLUMNS) + 2) + "|"]
    for tag, row in system.by_tag.items():
        values = " | ".join(fmt(m, row.get(m)) for m in TAG_COLUMNS)
        lines.append(f"| {tag} | {int(row['n'] or 0)} | {values} |")
    return lines


def _failure_lines(rows: list[Failure]) -> list[str]:
    lines = ["| id | question | expected | got | problems |", "|---|---|---|---|---|"]
    lines += [f"| {f.id} | {cell(f.question)} | {cell(f.expected)} | {cell(f.got)} | "
              f"{cell('; '.join(f.problems))} |" for f in rows]
    return lines


def render_markdown(run: EvalRun, chart_name: str) -> str:
    meta, ours = run.meta, run.policyqa
    lines = [
        f"# policyqa evaluation — {Path(str(meta['gold'])).name}", "",
        f"- gold file: `{meta['gold']}` (sha256 {meta['gold_sha256']}) — **{meta['split']}**",
        f"- questions: {meta['questions']} ({meta['answerable']} answerable, "
        f"{meta['unanswerable']} unanswerable)",
        f"- date: {meta['date']} · mode: {meta['mode']} (answers by mode: {meta['answer_modes']}) "
        f"· k = {meta['k']}",
        f"- embedder: {meta['embedder']} · index: {meta['index']} ({meta['clauses']} clauses, "
        f"{meta['chunks']} chunks) · run took {meta['seconds']} s", "",
        f"![metrics per system and per tag]({chart_name})", "",
        "## policyqa vs baselines (all numbers from the gold file above)", "", *_metric_table(run), "",
    ]
    if len(run.systems) > 1:
        lines += ["### Does policyqa beat every baseline?", ""]
        lines += [f"- {v.sentence()}" + ("" if v.beats else why_not(run, v)) for v in verdicts(run)]
        lines += ["", *[f"- **{s.name}**: {s.description}" for s in run.systems], ""]
        lines += _baseline_notes()
    lines += ["## Metrics", ""] + [f"- `{m}`: {note}" for m, note in METRIC_NOTES.items()] + [
        "- retrieval metrics use clause ids ranked by the system (a chunk part counts as its clause); "
        "a cited id matches a gold id when equal or a `-n` sub-item of it; `a|b` are alternatives", ""]
    lines += ["## policyqa per tag", "", *_tag_table(ours), ""]
    rows = failures(ours)
    lines += [f"## policyqa failures ({len(rows)})", "", *_failure_lines(rows), ""]
    return "\n".join(lines)


def _baseline_notes() -> list[str]:
    return [
        "Baseline answers: the baselines have no answerer, so their answer-level numbers are those "
        "of a user who reads the top result — dense/BM25 cite the top-1 clause and answer with its "
        "text; the naive RAG answers with its top chunk and cites every clause that chunk overlaps "
        "(its ranked clause list orders each chunk's clauses by overlap). Baselines never refuse, "
        "so their refusal accuracy is 0 and false-refusal rate 0 by construction; they search the "
        "raw question (no follow-up rewriting).", ""]


def to_json(run: EvalRun) -> dict[str, Any]:
    def question(q: QuestionResult, full: bool) -> dict[str, Any]:
        values = {name: round(value, 4) for name, value in q.values.items() if value is not None}
        row: dict[str, Any] = {"id": q.item.id, "values": values, "ranked": list(q.outcome.ranked),
                               "refused": q.outcome.refused,
                               "cited": [key for key, _ in q.outcome.citations],
                               "latency_ms": q.outcome.latency_ms}
        if full:  # offsets: [start, end] of each quote in its document's text file (text[start:end] == quote)
            row |= {"question": q.item.question, "answer": q.outcome.answer,
                    "quotes": [quote for _, quote in q.outcome.citations],
                    "offsets": [list(pair) for pair in q.offsets], "reason": q.outcome.reason}
        return row

    return {
        "meta": run.meta,
        "systems": {s.name: {"description": s.description, "overall": s.overall, "by_tag": s.by_tag,
                             "questions": [question(q, s is run.policyqa) for q in s.questions]}
                    for s in run.systems},
        "verdicts": [{"metric": v.metric, "baseline": v.baseline, "policyqa": v.ours,
                      "baseline_value": v.theirs, "beats": v.beats,
                      "note": "" if v.beats else why_not(run, v).lstrip(" —")}
                     for v in verdicts(run)],
        "failures": [f.__dict__ for f in failures(run.policyqa)],
    }


def dumps(data: dict[str, Any]) -> str:
    """Indented JSON with each per-question row on one line: small files, readable diffs."""
    rows: dict[str, str] = {}

    def mark(row: dict[str, Any]) -> str:
        token = f"@@row{len(rows)}@@"
        rows[f'"{token}"'] = json.dumps(row, ensure_ascii=False)
        return token

    systems = {name: {**system, "questions": [mark(q) for q in system["questions"]]}
               for name, system in data["systems"].items()}
    text = json.dumps({**data, "systems": systems}, ensure_ascii=False, indent=1)
    return re.sub(r'"@@row\d+@@"', lambda m: rows[m.group(0)], text)


def write_report(run: EvalRun, out_dir: Path, name: str = "latest") -> list[Path]:
    """`<name>.md`, `<name>.json` and `<name>.png` in `out_dir`; returns the paths written."""
    from eval.plot import plot

    out_dir.mkdir(parents=True, exist_ok=True)
    md, js, png = (out_dir / f"{name}.{ext}" for ext in ("md", "json", "png"))
    plot(run, png)
    md.write_text(render_markdown(run, png.name), encoding="utf-8")
    js.write_text(dumps(to_json(run)) + "\n", encoding="utf-8")
    return [md, js, png]
