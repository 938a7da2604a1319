"""Clause-level retrieval and answer metrics (pure functions over clause keys and texts).

A clause key is `doc_id:clause_id`. A gold *element* is a tuple of alternative keys (the gold
file's `a|b`); it is satisfied by any key that matches any of its alternatives. A key C matches a
gold key G when both name the same document and C == G or C starts with G + "-" (design.md), so
`一(二)-2` satisfies gold `一(二)` but `二(一)` does not satisfy gold `二(一)1`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from index.stats import percentile as percentile  # the project's one percentile, re-exported

Element = tuple[str, ...]


def key_matches(key: str, gold: str) -> bool:
    """The design's rule: equal, or a sub-item (`-n`) of the gold clause, in the same document."""
    doc, _, clause = key.partition(":")
    gold_doc, _, gold_clause = gold.partition(":")
    return doc == gold_doc and (clause == gold_clause or clause.startswith(gold_clause + "-"))


def satisfies(key: str, element: Element) -> bool:
    return any(key_matches(key, alternative) for alternative in element)


def relevant(key: str, gold: Sequence[Element]) -> bool:
    return any(satisfies(key, element) for element in gold)


def dedupe(keys: Iterable[str]) -> list[str]:
    """Keys in first-seen order: a clause split into several chunks counts once, at its best rank."""
    return list(dict.fromkeys(keys))


# --- retrieval (ranked clause keys against gold elements) ---


def hit_at(ranked: Sequence[str], gold: Sequence[Element], k: int) -> float:
    return float(any(relevant(key, gold) for key in ranked[:k]))


def recall_at(ranked: Sequence[str], gold: Sequence[Element], k: int) -> float:
    """Share of gold elements satisfied by some key in the top k."""
    if not gold:
        return 0.0
    top = ranked[:k]
    return sum(any(satisfies(key, element) for key in top) for element in gold) / len(gold)


def reciprocal_rank(ranked: Sequence[str], gold: Sequence[Element], k: int) -> float:
    """1/rank of the first relevant key within the top k (0 when none)."""
    for rank, key in enumerate(ranked[:k], start=1):
        if relevant(key, gold):
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], gold: Sequence[Element], k: int) -> float:
    """Binary nDCG where each gold element earns credit once, from the first key that satisfies it.

    So three sub-items of one gold clause do not outscore finding the other gold clause, and the
    ideal ranking puts one key per gold element first: IDCG = sum of 1/log2(i+2), i < min(|gold|, k).
    """
    if not gold:
        return 0.0
    open_elements = list(gold)
    dcg = 0.0
    for rank, key in enumerate(ranked[:k]):
        hit = next((e for e in open_elements if satisfies(key, e)), None)
        if hit is not None:
            open_elements.remove(hit)
            dcg += 1.0 / math.log2(rank + 2)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), k)))
    return dcg / ideal


# --- answers ---


def citation_hit(cited: Sequence[str], gold: Sequence[Element]) -> float:
    return float(any(relevant(key, gold) for key in cited))


def clause_recall(cited: Sequence[str], gold: Sequence[Element]) -> float:
    return recall_at(cited, gold, len(cited))


def citation_precision(cited: Sequence[str], gold: Sequence[Element]) -> float | None:
    """Share of citations that match some gold element; None when nothing was cited."""
    if not cited:
        return None
    return sum(relevant(key, gold) for key in cited) / len(cited)


def quotes_verbatim(quotes: Sequence[tuple[str, str]], clause_texts: Mapping[str, str]) -> float | None:
    """1.0 when every (key, quote) is a non-empty substring of that clause's text; None if none."""
    if not quotes:
        return None
    return float(all(q and q in clause_texts.get(key, "") for key, q in quotes))


def fold(text: str) -> str:
    """The design's comparison form: NFKC, all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def facts_present(answer: str, must_include: Sequence[Element]) -> float | None:
    """1.0 when every element has an alternative in the answer; None when nothing is required."""
    if not must_include:
        return None
    folded = fold(answer)
    return float(all(any(fold(alt) in folded for alt in element) for element in must_include))


# --- aggregation ---


def mean(values: Iterable[float | None]) -> float | None:
    """Mean over defined values; None when a metric applies to no question."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


# --- one question, one system ---


@dataclass(frozen=True)
class Outcome:
    """What a system did with one question, reduced to what the metrics need."""

    ranked: tuple[str, ...]  # retrieved clause keys, deduplicated, best first
    answer: str
    refused: bool
    citations: tuple[tuple[str, str], ...]  # (clause key, quote)
    latency_ms: float
    mode: str = ""
    reason: str = ""  # why it refused, when the system says


def metric_names(k: int) -> tuple[str, ...]:
    """Every per-question metric, in report order (`@k` ones follow --k)."""
    return ("hit@1", "hit@3", "hit@5", f"recall@{k}", "mrr", f"ndcg@{k}", "citation_hit",
            "clause_recall", "citation_precision", "quote_verbatim", "fact_accuracy",
            "refusal_accuracy", "false_refusal_rate")


def _retrieval(ranked: Sequence[str], gold: Sequence[Element], k: int) -> dict[str, float | None]:
    if not gold:
        return {}
    return {"hit@1": hit_at(ranked, gold, 1), "hit@3": hit_at(ranked, gold, 3),
            "hit@5": hit_at(ranked, gold, 5), f"recall@{k}": recall_at(ranked, gold, k),
            "mrr": reciprocal_rank(ranked, gold, k), f"ndcg@{k}": ndcg_at(ranked, gold, k)}


def score(answerable: bool, gold: Sequence[Element], must_include: Sequence[Element],
          outcome: Outcome, k: int, clause_texts: Mapping[str, str]) -> dict[str, float | None]:
    """Per-question values; None (or absent) where a metric does not apply to this question.

    Answer metrics count only answerable questions; a refused answerable question scores 0 on
    citation hit, clause recall and fact accuracy (its refusal text is not an answer). The
    quote check applies to every answer that cites, answerable or not: a bad quote is bad anywhere.
    """
    values: dict[str, float | None] = dict.fromkeys(metric_names(k))
    cited = dedupe(key for key, _ in outcome.citations)
    values["quote_verbatim"] = quotes_verbatim(outcome.citations, clause_texts)
    if not answerable:
        values["refusal_accuracy"] = float(outcome.refused)
        return values
    values["false_refusal_rate"] = float(outcome.refused)
    values.update(_retrieval(outcome.ranked, gold, k))
    if gold:
        values["citation_hit"] = citation_hit(cited, gold)
        values["clause_recall"] = clause_recall(cited, gold)
        values["citation_precision"] = citation_precision(cited, gold)
    if must_include:
        values["fact_accuracy"] = 0.0 if outcome.refused else facts_present(outcome.answer, must_include)
    return values


def aggregate(rows: Sequence[Mapping[str, float | None]], latencies: Sequence[float],
              k: int) -> dict[str, float | None]:
    """Means over the questions each metric applies to, plus latency p50/p95 and counts."""
    result: dict[str, float | None] = {name: mean(r.get(name) for r in rows) for name in metric_names(k)}
    result["latency_p50_ms"] = percentile(latencies, 50)
    result["latency_p95_ms"] = percentile(latencies, 95)
    result["n"] = float(len(rows))
    return result
