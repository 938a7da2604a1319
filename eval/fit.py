"""Refit the answerer's weights on the development splits: `python -m eval.fit` (or `policyqa fit`).

Three stages, each fitted by logistic regression (eval/logreg.py) with 5-fold cross-validation
grouped by question, then written to corpus/language/answerer.toml [fitted.*]:
1. fusion: which retrieved clause is relevant (features of rag.retrieve.fuse);
2. sentence: which sentence states the gold fact (features of rag.evidence);
   then quoting: how close a neighbouring sentence must score to be quoted too, and how many (grid);
3. refusal: does the best evidence answer the question (features of rag.decide); the threshold is
   the highest one whose out-of-fold false-refusal rate stays ≤ the target (3%).
Only development files are read (eval/gold.jsonl, eval/gold_blind_dev*.jsonl); never a test split.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import tomlkit

from eval.gold import GoldItem, load_gold
from eval.logreg import fit, folds
from eval.metrics import fold, relevant
from index.build import build_index
from index.settings import Settings
from rag.decide import FEATURES

ROOT = Path(__file__).resolve().parents[1]
DEV = tuple(ROOT / "eval" / name for name in ("gold.jsonl", "gold_blind_dev.jsonl", "gold_blind_dev2.jsonl",
                                                      "gold_blind_dev3.jsonl", "gold_blind_dev4.jsonl",
                                                      "gold_blind_dev5.jsonl", "gold_blind_dev6.jsonl",
                                                      "gold_blind_dev7.jsonl", "gold_blind_dev8.jsonl"))
FUSION = ("bm25", "dense", "key_bm25", "key_dense", "rare")
SENTENCE = ("lexical", "dense", "clause", "digits", "detail", "rare")
MAX_FALSE_REFUSALS = 0.03
LAYER_FEATURES = ("cover_keys", "key_top", "key_margin")  # undefined for a clause without a plain-language layer
KEEP_RATIOS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
MAX_SENTENCES = (1, 2, 3)
QUOTE_PENALTY = 0.0002  # per quoted character: of two settings that state the facts as often, the shorter wins


@dataclass
class Rows:
    x: list[list[float]]
    y: list[int]
    groups: list[str]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.x, dtype=float), np.asarray(self.y, dtype=int)


def _assistant(settings: Settings) -> Any:
    from rag import config as config_module
    from rag import lexicon_files
    from rag.chain import Assistant

    lexicon_files.load_table.cache_clear()  # each stage reads the weights the previous stage wrote
    config_module.load_config.cache_clear()
    return Assistant(settings)


def _states_fact(sentence: str, item: GoldItem) -> bool:
    text = fold(sentence)
    return any(fold(alt) in text for element in item.must_include for alt in element)


def collect(assistant: Any, items: Sequence[GoldItem]) -> dict[str, Rows]:
    """Feature rows of every part that reaches retrieval, labelled from the gold items."""
    rows = {name: Rows([], [], []) for name in ("fusion", "sentence", "refusal")}
    for item in items:
        answer = assistant.answer(item.question, history=list(item.history))
        trace = answer.trace
        if trace is None or trace.stage != "retrieve":
            continue
        for part, retrieval in zip(trace.parts, trace.retrievals, strict=True):
            # the model decides only where no guarantee does: a detail left unstated refuses, a rare term answers
            if part.decision is not None and part.reason != "detail_not_stated" \
                    and part.decision.reason in ("model", "rare_mentioned"):
                rows["refusal"].x.append([part.decision.features[f] for f in FEATURES])
                rows["refusal"].y.append(int(item.answerable))
                rows["refusal"].groups.append(item.id)
            if not item.answerable or not item.clauses:
                continue
            deep = assistant.retriever.search(part.part, k=30, rare=retrieval.rare)
            for hit in deep.hits:
                rows["fusion"].x.append([hit.features.get(f, 0.0) for f in FUSION])
                rows["fusion"].y.append(int(relevant(hit.chunk.clause_key, item.clauses)))
                rows["fusion"].groups.append(item.id)
            for ev in part.evidence:
                good = relevant(ev.chunk.clause_key, item.clauses) and (
                    not item.must_include or _states_fact(ev.sentence, item))
                rows["sentence"].x.append([ev.features.get(f, 0.0) for f in SENTENCE])
                rows["sentence"].y.append(int(good))
                rows["sentence"].groups.append(item.id)
    return rows


@dataclass(frozen=True)
class QuoteCase:
    """One answered part of a dev question with facts: what `rag.extract.select` needs to replay it."""

    item: GoldItem
    part: str
    ranked: tuple[Any, ...]
    details: tuple[Any, ...]
    terms: frozenset[str]
    anchors: frozenset[str]


def quote_cases(assistant: Any, items: Sequence[GoldItem]) -> list[QuoteCase]:
    from rag.evidence import terms_of
    from rag.extract import anchors_of

    cases = []
    for item in items:
        if not item.answerable or not item.must_include:
            continue
        answer = assistant.answer(item.question, history=list(item.history))
        trace = answer.trace
        if trace is None or trace.stage != "retrieve" or len(trace.parts) != 1 or not trace.parts[0].evidence:
            continue
        part, retrieval = trace.parts[0], trace.retrievals[0]
        details = trace.query.details if trace.query.focus else assistant.lexicon.asked_details(part.part)
        terms = frozenset(terms_of(retrieval.lexical or retrieval.query, assistant.lexicon))
        anchors = frozenset(anchors_of(retrieval, assistant.retriever.view(), assistant.lexicon))
        cases.append(QuoteCase(item, part.part, part.evidence, tuple(details), terms, anchors))
    return cases


def _quote_score(assistant: Any, cases: Sequence[QuoteCase], keep: float, most: int) -> tuple[float, float]:
    """(facts stated, mean quoted characters) when quoting with this keep ratio and sentence limit."""
    from dataclasses import replace

    from rag.extract import select

    config = assistant.config
    config = replace(config, limits=replace(config.limits, keep_ratio=keep, max_sentences_per_clause=most))
    view = assistant.retriever.view()
    facts, chars = [], []
    for case in cases:
        _best, citations, _missing = select(case.ranked, case.details, set(case.terms), set(case.anchors), view,
                                            assistant.lexicon, config, case.part)
        text = "".join(c.quote for c in citations)
        facts.append(float(_states_fact(text, case.item)))
        chars.append(len(text))
    return float(np.mean(facts)) if facts else 0.0, float(np.mean(chars)) if chars else 0.0


def fit_quoting(assistant: Any, cases: Sequence[QuoteCase]) -> tuple[dict[str, Any], dict[str, Any]]:
    """keep_ratio and max_sentences_per_clause by grid search, cross-validated over questions."""
    grid = [(k, m) for k in KEEP_RATIOS for m in MAX_SENTENCES]

    def best_on(subset: Sequence[QuoteCase]) -> tuple[float, int]:
        scored = {g: _quote_score(assistant, subset, *g) for g in grid}
        return max(grid, key=lambda g: scored[g][0] - QUOTE_PENALTY * scored[g][1])

    held = []
    for test in folds([c.item.id for c in cases], 5):
        chosen = best_on([cases[i] for i in range(len(cases)) if i not in set(test)])
        held.append(_quote_score(assistant, [cases[i] for i in test], *chosen)[0])
    keep, most = best_on(cases)
    facts, chars = _quote_score(assistant, cases, keep, most)
    return ({"keep_ratio": keep, "max_sentences_per_clause": most},
            {"cv_facts_stated": round(float(np.mean(held)), 4), "facts_stated": round(facts, 4),
             "mean_quote_chars": round(chars, 1), "questions": len(cases)})


def top1_accuracy(rows: Rows, weights: np.ndarray) -> float:
    """Share of questions (with a positive example) whose best-scored example is positive."""
    x, y = rows.arrays()
    scores = x @ weights
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(rows.groups):
        by_group.setdefault(g, []).append(i)
    hits = [y[max(idx, key=lambda i: scores[i])] for idx in by_group.values() if y[idx].any()]
    return float(np.mean(hits)) if hits else 0.0


def fit_ranker(rows: Rows, names: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Weights for a weighted sum that ranks positives first, with cross-validated top-1 accuracy."""
    x, y = rows.arrays()
    scores = []
    for test in folds(rows.groups, 5):
        train = np.setdiff1d(np.arange(len(y)), test)
        model = fit(x[train], y[train])
        held = Rows([rows.x[i] for i in test], [rows.y[i] for i in test], [rows.groups[i] for i in test])
        scores.append(top1_accuracy(held, model.raw_weights()))
    model = fit(x, y)
    raw = model.raw_weights()
    scale = float(np.abs(raw).max()) or 1.0
    weights = {name: round(float(w / scale), 4) for name, w in zip(names, raw, strict=True)}
    return weights, {"cv_top1": round(float(np.mean(scores)), 4), "examples": len(y), "positives": int(y.sum())}


def fit_refusal(rows: Rows, names: Sequence[str]) -> tuple[dict[str, Any], dict[str, float]]:
    x, y = rows.arrays()
    oof = np.zeros(len(y))
    for test in folds(rows.groups, 5):
        train = np.setdiff1d(np.arange(len(y)), test)
        oof[test] = fit(x[train], y[train]).probability(x[test])
    answerable = oof[y == 1]
    candidates = sorted(set(np.round(oof, 4)) | {0.0})
    ok = [t for t in candidates if np.mean(answerable < t) <= MAX_FALSE_REFUSALS]
    threshold = max(ok) if ok else 0.0
    model = fit(x, y)
    report = {"cv_false_refusals": round(float(np.mean(answerable < threshold)), 4),
              "cv_refusal_accuracy": round(float(np.mean(oof[y == 0] < threshold)), 4) if (y == 0).any() else 0.0,
              "examples": len(y), "unanswerable": int((y == 0).sum())}
    params = {"features": list(names), "mean": [round(float(v), 6) for v in model.mean],
              "std": [round(float(v), 6) for v in model.std], "coef": [round(float(v), 6) for v in model.coef],
              "intercept": round(model.intercept, 6), "threshold": round(float(threshold), 4)}
    return params, report


def _write(path: Path, section: str, values: dict[str, Any]) -> None:
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    fitted = doc.setdefault("fitted", tomlkit.table())
    table = tomlkit.table()
    for key, value in values.items():
        table[key] = value
    fitted[section] = table
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, nargs="*", default=list(DEV), help="development gold files")
    args = parser.parse_args(argv)
    if any("test" in p.name for p in args.gold):
        print("refusing to fit on a test split", file=sys.stderr)
        return 2
    settings = Settings().model_copy(update={"faq": False, "llm_base_url": None, "llm_model": None})
    build_index(settings)
    _assistant(settings).warm()  # sentence vectors on disk: every collection pass below reuses them
    items = [i for p in args.gold for i in load_gold(p)]
    path = Path(settings.lexicon_dir) / "answerer.toml"
    sources = [f"{p.name}:{hashlib.sha256(p.read_bytes()).hexdigest()[:12]}" for p in args.gold]
    report: dict[str, Any] = {"date": date.today().isoformat(), "questions": len(items), "gold": sources}
    rows = collect(_assistant(settings), items)
    weights, report["fusion"] = fit_ranker(rows["fusion"], FUSION)
    _write(path, "fusion", weights)
    print("fusion", weights, report["fusion"])
    rows = collect(_assistant(settings), items)
    weights, report["sentence"] = fit_ranker(rows["sentence"], SENTENCE)
    _write(path, "sentence", weights)
    print("sentence", weights, report["sentence"])
    assistant = _assistant(settings)
    quoting, report["quoting"] = fit_quoting(assistant, quote_cases(assistant, items))
    _write(path, "quoting", quoting)
    print("quoting", quoting, report["quoting"])
    rows = collect(_assistant(settings), items)
    params, report["refusal"] = fit_refusal(rows["refusal"], FEATURES)
    _write(path, "refusal", params)
    print("refusal", params, report["refusal"])
    # the same decision for documents without a plain-language layer: fitted with the layer switched off
    plain = collect(_assistant(settings.model_copy(update={"plain_layer": False})), items)
    without = [f for f in FEATURES if f not in LAYER_FEATURES]
    index = [FEATURES.index(f) for f in without]
    rows_plain = Rows([[x[i] for i in index] for x in plain["refusal"].x], plain["refusal"].y, plain["refusal"].groups)
    params, report["refusal_plain"] = fit_refusal(rows_plain, without)
    _write(path, "refusal_plain", params)
    print("refusal_plain", report["refusal_plain"])
    _write(path, "report", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
