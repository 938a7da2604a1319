"""The extractive answerer: quote the sentences that answer, or refuse with related clauses.

Pure functions over a `Retrieval`: score each sentence of the best clauses by the weighted share of
question terms it contains, require enough evidence, check that the kind of detail asked for (an
amount of money, a date, a phone number…) is actually stated, and quote verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.chunk import split_sentences
from index.models import Chunk
from rag.models import Citation, Hit, Related
from rag.normalize import tokenize
from rag.retrieve import IndexView, Retrieval


@dataclass(frozen=True)
class ExtractConfig:
    """Thresholds, calibrated on eval/gold.jsonl only (never on the held-out split)."""

    min_coverage: float = 0.5  # share of question-term weight a quoted sentence must hold
    min_coverage_with_dense: float = 0.34  # …enough when the dense score also vouches
    dense_zh: float = 0.865  # top-hit cosine that vouches for a Chinese question
    dense_en: float = 0.80  # English questions score lower (no BM25 overlap either)
    clauses_considered: int = 4
    max_citations: int = 3
    max_sentences_per_clause: int = 3
    secondary_ratio: float = 0.85  # another clause is cited when this close to the best


# The kinds of detail a question can ask for, and what a sentence must contain to state it.
DETAIL_KINDS: tuple[tuple[str, re.Pattern[str], re.Pattern[str], str], ...] = (
    ("money", re.compile(r"奖金|多少钱|金额|资金|经费多少|补贴多少|补助多少|奖励多少|万元|几万|费用|收费|"
                         r"reward money|how much money|funding amount"),
     re.compile(r"\d+(\.\d+)?\s*(万|亿)?元"), "具体金额"),
    ("date", re.compile(r"什么时候|何时|截止|哪天|几号|日期|期限|多久|哪一年|哪年|deadline|when"),
     re.compile(r"\d{4}年|\d+月|\d+日|\d+个月"), "具体时间"),
    ("phone", re.compile(r"电话|热线|phone"), re.compile(r"\d{7,}"), "联系电话"),
    ("email", re.compile(r"邮箱|email|e-mail"), re.compile(r"@"), "邮箱"),
    ("address", re.compile(r"地址|在哪里办|去哪里办|哪个窗口|address"), re.compile(r"地址|路\d+号|窗口"), "办理地址"),
    ("procedure", re.compile(r"怎么申请|如何申请|申报流程|申请流程|需要什么材料|哪些材料|申报条件|申请条件|"
                             r"how to apply"),
     re.compile(r"申报|申请|材料|流程"), "申请条件和办理流程"),
)

INJECTION = re.compile(
    r"忽略(以上|上面|之前|前面|所有|你的)|无视(以上|之前|规则)|系统提示|提示词|你现在是|扮演|越狱|"
    r"ignore (all |the |any )?(previous|above|prior|earlier)|system prompt|disregard|jailbreak|"
    r"pretend (you|to)|you are now|developer mode|the deadline is now|reveal your",
    re.IGNORECASE,
)
_NUMERIC_Q = re.compile(r"多少|几[个项名家年条]|几$|比例|比率|百分之|数量|目标值|how many|how much|what percent")
_LIST_Q = re.compile(r"哪些|有什么|包括|包含|列举|都有|which|what are")
_LOOKUP_REST = re.compile(r"^[\s讲了说是什么的内容条款原文具体请问查一下看看查阅全文?!。,:;]*$")


@dataclass(frozen=True)
class Evidence:
    chunk: Chunk
    rank: int
    sentence: str
    coverage: float


def sentence_evidence(retrieval: Retrieval, view: IndexView, cfg: ExtractConfig) -> list[Evidence]:
    """Every sentence of the top clauses, scored by weighted question-term coverage."""
    terms = set(tokenize(retrieval.query))
    total = sum(view.idf_of(t) for t in terms)
    numeric = bool(_NUMERIC_Q.search(retrieval.query))
    detail = asked_detail(retrieval.query)
    out = []
    for rank, hit in enumerate(retrieval.hits[: cfg.clauses_considered]):
        for sentence in split_sentences(hit.chunk.text):
            quote = sentence.strip()
            if len(quote) < 2:
                continue
            cover = sum(view.idf_of(t) for t in terms if t in quote) / total if total else 0.0
            if numeric and re.search(r"\d", quote):
                cover += 0.05
            if detail is not None and detail.search(quote):
                cover += 0.1
            out.append(Evidence(hit.chunk, rank, quote, cover))
    return out


def is_injection(question: str) -> bool:
    return bool(INJECTION.search(question))


def missing_detail(question: str, quotes: Sequence[str]) -> str | None:
    """The kind of detail asked for that none of the quotes states (e.g. 具体金额), if any."""
    joined = "".join(quotes)
    for _name, asks, states, label in DETAIL_KINDS:
        if asks.search(question) and not states.search(joined):
            return label
    return None


def related_of(hits: Sequence[Hit], limit: int = 3) -> tuple[Related, ...]:
    seen: dict[str, Related] = {}
    for hit in hits:
        key = hit.chunk.clause_key
        if key not in seen:
            seen[key] = Related(hit.chunk.doc_id, hit.chunk.clause_id, hit.chunk.label)
    return tuple(seen.values())[:limit]


@dataclass(frozen=True)
class Extraction:
    """Chosen citations, or the reason there are none."""

    citations: tuple[Citation, ...]
    reason: str = ""
    detail: str | None = None


def lookup_citations(retrieval: Retrieval, view: IndexView) -> tuple[Citation, ...]:
    """A question that names a clause gets the whole clause quoted."""
    cites: dict[str, Citation] = {}
    for hit in retrieval.hits:
        c = hit.chunk
        if c.clause_key not in cites:
            cites[c.clause_key] = Citation(c.doc_id, c.clause_id, c.label, view.clause_text(c.clause_key))
    return tuple(cites.values())


def is_pure_lookup(query: str, ref_text_removed: str) -> bool:
    return bool(_LOOKUP_REST.match(ref_text_removed))


def extract(retrieval: Retrieval, view: IndexView, cfg: ExtractConfig, *, english: bool = False) -> Extraction:
    """Pick the sentences that answer the question, or say why nothing does."""
    if not retrieval.hits:
        return Extraction((), reason="no_hits")
    if retrieval.ref and retrieval.hits[0].via == "lookup":
        return Extraction(lookup_citations(retrieval, view))
    evidence = sentence_evidence(retrieval, view, cfg)
    top_dense = max((h.dense or 0.0) for h in retrieval.hits[: cfg.clauses_considered])
    best = max(evidence, key=lambda e: (e.coverage, -e.rank), default=None)
    if best is None:
        return Extraction((), reason="no_hits")
    if english:
        if top_dense < cfg.dense_en:
            return Extraction((), reason="weak_evidence")
        chunk = retrieval.hits[0].chunk
        first = split_sentences(chunk.text)
        quote = "".join(first[1:3]).strip() or chunk.text.strip()
        return Extraction((Citation(chunk.doc_id, chunk.clause_id, chunk.label, quote),))
    strong = best.coverage >= cfg.min_coverage or (
        best.coverage >= cfg.min_coverage_with_dense and top_dense >= cfg.dense_zh
    )
    if not strong:
        return Extraction((), reason="weak_evidence")
    chosen = _choose(evidence, best, cfg, set(tokenize(retrieval.query)), asked_detail(retrieval.query))
    if detail := missing_detail(retrieval.query, [c.quote for c in chosen]):
        return Extraction((), reason="detail_not_stated", detail=detail)
    return Extraction(chosen)


def asked_detail(question: str) -> re.Pattern[str] | None:
    """The pattern of the detail a question asks for (a date, an amount…), if it asks for one."""
    return next((states for _n, asks, states, _l in DETAIL_KINDS if asks.search(question)), None)


def _choose(evidence: list[Evidence], best: Evidence, cfg: ExtractConfig,
            terms: set[str], detail: re.Pattern[str] | None) -> tuple[Citation, ...]:
    """The best sentence's clause first, then clauses nearly as good; sentences in text order."""
    floor = max(cfg.min_coverage_with_dense, best.coverage * cfg.secondary_ratio)
    by_clause: dict[str, list[Evidence]] = {}
    for ev in evidence:
        if ev.coverage >= floor or ev is best:
            by_clause.setdefault(ev.chunk.clause_key, []).append(ev)
    ordered = sorted(by_clause.values(), key=lambda evs: (best not in evs, -max(e.coverage for e in evs)))
    citations = []
    for evs in ordered[: cfg.max_citations]:
        top = sorted(evs, key=lambda e: -e.coverage)[: cfg.max_sentences_per_clause]
        chunk = evs[0].chunk
        sentences = [trim_sentence(e.sentence, terms, detail) for e in top]
        citations.append(Citation(chunk.doc_id, chunk.clause_id, chunk.label, _join_quotes(chunk.text, sentences)))
    return tuple(citations)


_SEGMENT_END = re.compile(r"(?<=[,，:：;；])")


def trim_sentence(sentence: str, terms: set[str], detail: re.Pattern[str] | None,
                  max_chars: int = 120) -> str:
    """A long sentence shrinks to the comma-segments around its best-matching one (verbatim)."""
    if len(sentence) <= max_chars:
        return sentence
    segments = [s for s in _SEGMENT_END.split(sentence) if s]

    def score(seg: str) -> float:
        return sum(t in seg for t in terms) + (2.0 if detail and detail.search(seg) else 0.0)

    scores = [score(seg) for seg in segments]
    best = max(range(len(segments)), key=lambda i: scores[i])
    lo = hi = best
    length = len(segments[best])
    while True:
        grow = [i for i in (lo - 1, hi + 1) if 0 <= i < len(segments) and scores[i] > 0]
        grow = [i for i in grow if length + len(segments[i]) <= max_chars]
        if not grow:
            break
        i = max(grow, key=lambda j: scores[j])
        lo, hi, length = min(lo, i), max(hi, i), length + len(segments[i])
    return "".join(segments[lo : hi + 1]).strip(" ,，:：")


def _join_quotes(text: str, sentences: list[str]) -> str:
    """One verbatim quote: the contiguous span from the first chosen sentence to the last."""
    starts = [text.find(s) for s in sentences]
    ends = [start + len(s) for start, s in zip(starts, sentences, strict=True)]
    return text[min(starts) : max(ends)].strip()
