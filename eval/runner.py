"""Run every system on every gold question and score it: the in-memory result the report renders."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from eval.baselines import NaiveRag, Policyqa, RetrieverOnly, System
from eval.gold import GoldItem
from eval.metrics import Outcome, aggregate, score
from index.build import build_index, load_corpus
from index.embed import make_embeddings
from index.settings import Settings

Progress = Callable[[str, int, int], None]  # system name, questions done, total
MODES = ("extractive", "llm")


class EvalSetupError(Exception):
    """The run cannot start (e.g. LLM mode without an LLM); the message says what to do."""


@dataclass(frozen=True)
class QuestionResult:
    item: GoldItem
    outcome: Outcome
    values: dict[str, float | None]
    offsets: tuple[tuple[int, int], ...] = ()  # policyqa: (start, end) of each of outcome.citations


class Offsets:
    """The assistant as `Policyqa` calls it, keeping the start/end offsets of the latest answer's citations.

    `Outcome` holds a citation as (clause key, quote) only, shared with baselines that have no offsets;
    the report shows where each of policyqa's quotes lies in its document, read off the Answer here.
    """

    def __init__(self, assistant: Any) -> None:
        self.assistant, self.retriever = assistant, assistant.retriever
        self.latest: tuple[tuple[int, int], ...] = ()

    def answer(self, *args: Any, **kwargs: Any) -> Any:
        answer = self.assistant.answer(*args, **kwargs)
        self.latest = tuple((c.start, c.end) for c in answer.citations)
        return answer


@dataclass(frozen=True)
class SystemResult:
    name: str
    description: str
    overall: dict[str, float | None]
    by_tag: dict[str, dict[str, float | None]]
    questions: tuple[QuestionResult, ...]


@dataclass(frozen=True)
class EvalRun:
    """Everything one `policyqa eval` computed; `meta` says where the numbers come from."""

    meta: dict[str, Any]
    systems: tuple[SystemResult, ...]

    @property
    def policyqa(self) -> SystemResult:
        return self.systems[0]


def split_name(path: Path) -> str:
    """Which split a file is, so that every number in a report names its source."""
    return {"gold.jsonl": "development split (weights are fitted on it)",
            "gold_blind_dev.jsonl": "blind colloquial set, development half (weights are fitted on it)",
            "gold_blind_dev2.jsonl": "blind development set of near misses and out-of-scope questions (fitted on)",
            "gold_blind_dev3.jsonl": "third blind development set, callers' and enterprises' words (fitted on; "
                                     "scored once before, eval/reports/blind-dev3-unseen)",
            "gold_test.jsonl": "held-out test split (never used for tuning)",
            "gold_blind_test.jsonl": "blind colloquial set, test half (never used for tuning)"}.get(
        path.name, "custom gold file")


def groups_of(item: GoldItem) -> list[str]:
    """The per-tag table's rows this question falls into."""
    base = ["answerable" if item.answerable else "unanswerable"]
    return base + (list(item.tags) or ["(untagged)"])


def summarise(system: System, results: Sequence[QuestionResult], k: int) -> SystemResult:
    def agg(rows: Sequence[QuestionResult]) -> dict[str, float | None]:
        return aggregate([r.values for r in rows], [r.outcome.latency_ms for r in rows], k)

    present = {g for r in results for g in groups_of(r.item)}
    tags: list[str] = [g for g in ("answerable", "unanswerable") if g in present]
    tags += sorted(present - {"answerable", "unanswerable", "(untagged)"})
    tags += ["(untagged)"] if "(untagged)" in present else []
    by_tag = {tag: agg([r for r in results if tag in groups_of(r.item)]) for tag in tags}
    return SystemResult(system.name, system.description, agg(results), by_tag, tuple(results))


def evaluate_system(system: System, items: Sequence[GoldItem], k: int, clause_texts: dict[str, str],
                    progress: Progress | None = None, offsets: Offsets | None = None) -> SystemResult:
    results = []
    depth = max(k, 5)  # hit@5 is always reported
    if items:
        system.run(items[0], depth)  # warm-up (lazy model and index loads), not scored or timed
    for done, item in enumerate(items, start=1):
        outcome = system.run(item, depth)
        values = score(item.answerable, item.clauses, item.must_include, outcome, k, clause_texts)
        results.append(QuestionResult(item, outcome, values, offsets.latest if offsets else ()))
        if progress:
            progress(system.name, done, len(items))
    return summarise(system, results, k)


def prepare(settings: Settings, mode: str) -> Settings:
    """Extractive runs drop any LLM settings so the answerer cannot use one; LLM runs need one.

    Curated FAQ answers are switched off in both: the harness measures the retrieval chain, not
    entries the office (or we) wrote for known questions.
    """
    if mode not in MODES:
        raise EvalSetupError(f"unknown mode {mode!r}: use extractive or llm")
    if mode == "llm":
        if not settings.llm_configured:
            raise EvalSetupError("--mode llm needs an LLM: set POLICYQA_LLM_BASE_URL and "
                                 "POLICYQA_LLM_MODEL (and POLICYQA_LLM_API_KEY if required)")
        return settings.model_copy(update={"faq": False})
    return settings.model_copy(update={"llm_base_url": None, "llm_model": None, "llm_api_key": None, "faq": False})


def _display(path: Path) -> str:
    """The path as a reader of the report would type it (relative to the working directory)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def run_eval(settings: Settings, gold_path: Path, items: Sequence[GoldItem], *, mode: str = "extractive",
             k: int = 5, baselines: bool = True, progress: Progress | None = None) -> EvalRun:
    """Build (or reuse) the index, then answer and score every question with every system."""
    from rag.chain import Assistant

    started = time.perf_counter()
    settings = prepare(settings, mode)
    build = build_index(settings)
    _, clauses = load_corpus(settings)
    clause_texts = {c.key: c.text for c in clauses}
    assistant = Assistant(settings)
    offsets = Offsets(assistant)
    systems: list[System] = [Policyqa(offsets, mode)]
    if baselines:
        systems += [RetrieverOnly(assistant.retriever, clause_texts, "dense"),
                    RetrieverOnly(assistant.retriever, clause_texts, "bm25"), NaiveRag(settings)]
    results = tuple(evaluate_system(s, items, k, clause_texts, progress, offsets if i == 0 else None)
                    for i, s in enumerate(systems))
    modes = Counter(q.outcome.mode for q in results[0].questions)
    meta = {
        "gold": _display(gold_path), "gold_sha256": _sha(gold_path), "split": split_name(gold_path),
        "questions": len(items), "answerable": sum(i.answerable for i in items),
        "unanswerable": sum(not i.answerable for i in items),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": mode, "answer_modes": dict(modes), "k": k,
        "embedder": make_embeddings(settings.embedding).model_id,
        "index": build.collection, "clauses": build.clauses, "chunks": build.chunks,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return EvalRun(meta, results)
