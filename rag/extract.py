"""The extractive answerer: quote the sentences that answer, or refuse with related clauses.

Pure functions over a `Retrieval`. Each sentence of the best clauses is scored by the IDF-weighted
share of question terms it contains (lexical) plus its embedding similarity to the question
(dense). An answer needs enough evidence of either kind; a question asking for a kind of detail
(an amount of money, a date, a place…) that the chosen sentences do not state is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from index.chunk import split_sentences
from index.models import Chunk
from index.parse import clause_title
from rag.models import Citation, Hit, Related
from rag.normalize import tokenize
from rag.retrieve import IndexView, Retrieval

SentenceScorer = Callable[[Sequence[str]], list[float]]


@dataclass(frozen=True)
class ExtractConfig:
    """Thresholds, calibrated on eval/gold.jsonl only (never on the held-out split)."""

    dense_floor: float = 0.866  # below this top-hit similarity a Chinese question needs strong words
    dense_sure: float = 0.89  # at or above it, the embedding alone vouches
    lex_strong: float = 0.5  # share of all question terms (unknown words included) in one sentence
    lex_anchor: float = 0.3  # share of known terms a sentence must hold when the dense score vouches
    dense_floor_en: float = 0.79
    sent_dense_lo: float = 0.80
    sent_dense_hi: float = 0.93
    sent_dense_weight: float = 0.6
    clauses_considered: int = 5
    max_citations: int = 3
    max_sentences_per_clause: int = 2
    keep_ratio: float = 0.85  # further sentences of the best clause kept when this close to the best
    residual_min: float = 0.3  # a second clause is cited when it covers this much of what is left


_Detail = tuple[str, re.Pattern[str], re.Pattern[str], str]
# The kinds of detail a question can ask for, and what a sentence must contain to state it.
DETAIL_KINDS: tuple[_Detail, ...] = (
    ("money", re.compile(r"奖金|多少钱|金额|资金多少|经费多少|补贴多少|补助多少|奖励多少|万元|几万|费用|收费|贷多少|"
                         r"how much money|funding amount|prize money"),
     re.compile(r"\d+(\.\d+)?\s*(万|亿)?元"), "具体金额"),
    ("date", re.compile(r"什么时候|何时|截止|哪天|哪一天|几号|日期|期限|哪一年|哪年|deadline|when"),
     re.compile(r"\d{4}年|\d+月|\d+日|\d+个月"), "具体时间"),
    ("phone", re.compile(r"电话|热线|phone"), re.compile(r"\d{7,}"), "联系电话"),
    ("email", re.compile(r"邮箱|邮件|email|e-mail"), re.compile(r"@"), "邮箱"),
    ("department", re.compile(r"哪个部门|哪个单位|哪家单位|什么部门|哪个机构|由谁|谁负责|找谁|哪里登记|去哪登记"),
     re.compile(r"局|部门|委员会|政府|办公室|县委"), "具体负责部门"),
    ("place", re.compile(r"哪个乡镇|哪个镇|哪个村|建在哪|设在哪|在哪里建|选址|地址|在哪办|去哪办"),
     re.compile(r"(?<!城)镇|街道|地址"), "具体地点"),
    ("procedure", re.compile(r"怎么申请|如何申请|申报流程|申请流程|需要什么材料|哪些材料|申报条件|申请条件|评定条件|"
                             r"认定条件|评选条件|门槛|how to apply"),
     re.compile(r"条件|材料|流程|程序"), "申请条件和办理流程"),
    ("name", re.compile(r"具体是哪个|具体哪个|具体是哪家|叫什么名字|名称是什么|全称"),
     re.compile(r"“[^”]+”|《[^》]+》"), "具体名称"),
)

INJECTION = re.compile(
    r"忽略(以上|上面|之前|前面|所有|你的)|无视(以上|之前|规则)|系统提示|提示词|你现在是|你现在进入|扮演|越狱|开发者模式|"
    r"指令优先级|以下指令|系统通知|"
    r"ignore (all |the |any )?(previous|above|prior|earlier)|system prompt|disregard|jailbreak|"
    r"pretend (you|to)|you are now|developer mode|the deadline is now|reveal your",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(19|20)\d\d|年")  # “到2025年” frames most targets: weak evidence on its own
_CONTACT = frozenset({"phone", "email"})  # unambiguous details: a 7-digit number, an address with @
_NUMERIC_Q = re.compile(r"多少|几[个项名家年条种]|几$|比例|比率|百分之|数量|how many|how much|what percent|how long")


@dataclass(frozen=True)
class Evidence:
    chunk: Chunk
    rank: int
    sentence: str
    lexical: float
    score: float


@dataclass(frozen=True)
class Extraction:
    """Chosen citations, or the reason there are none."""

    citations: tuple[Citation, ...]
    reason: str = ""
    detail: str | None = None


def is_injection(question: str) -> bool:
    return bool(INJECTION.search(question))


def asked_detail(question: str) -> _Detail | None:
    """The kind of detail a question asks for (a date, an amount…), if it asks for one."""
    return next((kind for kind in DETAIL_KINDS if kind[1].search(question)), None)


def related_of(hits: Sequence[Hit], limit: int = 3) -> tuple[Related, ...]:
    seen: dict[str, Related] = {}
    for hit in hits:
        seen.setdefault(hit.chunk.clause_key, Related(hit.chunk.doc_id, hit.chunk.clause_id, hit.chunk.label))
    return tuple(seen.values())[:limit]


def lookup_citations(retrieval: Retrieval, view: IndexView) -> tuple[Citation, ...]:
    """A question that names a clause gets the whole clause quoted."""
    cites: dict[str, Citation] = {}
    for hit in retrieval.hits:
        c = hit.chunk
        cites.setdefault(c.clause_key, Citation(c.doc_id, c.clause_id, c.label, view.clause_text(c.clause_key)))
    return tuple(cites.values())


def _coverage(view: IndexView, terms: set[str], text: str, *, known_only: bool) -> float:
    weighted = [(t, view.idf_of(t) * (0.3 if _YEAR.fullmatch(t) else 1.0))
                for t in terms if not known_only or t in view.idf]
    total = sum(w for _t, w in weighted)
    lowered = text.lower()
    return sum(w for t, w in weighted if t in lowered) / total if total else 0.0


_REF_WORDS = re.compile(r"^[一二三四五六七八九十\d()-]+$|^第|部分|破折号|那段|序言|前言|引言|开头|开篇|条款|原文")


def _lookup(retrieval: Retrieval, view: IndexView, cfg: ExtractConfig, scorer: SentenceScorer | None) -> Extraction:
    """A named clause is quoted whole, unless the question also asks something within it."""
    names = [*view.sections, *view.items]
    terms = {
        t for t in tokenize(retrieval.query)
        if t in view.idf and t not in GENERIC and not _REF_WORDS.search(t) and not any(t in n for n in names)
    }
    if not terms:
        return Extraction(lookup_citations(retrieval, view))
    focused = replace(retrieval, lexical=" ".join(terms), hits=retrieval.hits[: cfg.max_citations * 3])
    evidence = [e for e in sentence_evidence(focused, view, cfg, scorer) if e.lexical > 0]
    if not evidence:
        return Extraction(lookup_citations(retrieval, view))
    best = max(evidence, key=lambda e: (e.score, -e.rank))
    key = best.chunk.clause_key
    group = [e for e in evidence if e.chunk.clause_key == key and e.score >= best.score * cfg.keep_ratio]
    return Extraction((_citation(group[: cfg.max_sentences_per_clause], terms, False),))


def _context(chunk: Chunk) -> str:
    return " ".join((*chunk.heading_path, chunk.label))


def _lexical(view: IndexView, terms: set[str], chunk: Chunk, sentence: str) -> float:
    """Known-term coverage of the sentence; terms found only in its headings count half."""
    own = _coverage(view, terms, sentence, known_only=True)
    with_headings = _coverage(view, terms, _context(chunk) + sentence, known_only=True)
    return own + 0.5 * (with_headings - own)


_PART_SPLIT = re.compile(r"[,，;；:：]|分别")
_PAIR_SPLIT = re.compile(r"[,，;；:：]|分别|[和与及]")
# Words that cannot carry a part of a question on their own (“政策上支持吗?”).
GENERIC = frozenset("政策 支持 保护 安排 要求 措施 规定 举措 工作 方面 内容 标准 标准化 行业 情况 相应".split())


def question_parts(query: str, view: IndexView) -> list[tuple[str, set[str]]]:
    """The separately asked parts of a multi-part question (“…几项,保障措施里有什么安排?”).

    “A和B分别…” splits at 和 too. A part needs a known, specific term of its own.
    """
    splitter = _PAIR_SPLIT if "分别" in query else _PART_SPLIT
    parts = [(p, set(tokenize(p))) for p in splitter.split(query)]
    return [(p, terms) for p, terms in parts if any(t in view.idf and t not in GENERIC for t in terms)]


def sentence_evidence(retrieval: Retrieval, view: IndexView, cfg: ExtractConfig,
                      scorer: SentenceScorer | None, focus: str = "") -> list[Evidence]:
    """Every sentence of the top clauses with its lexical coverage and combined score.

    `focus` is the follow-up's own wording (“那专利标准融合发展企业呢?”): its terms count as much
    as the whole rewritten question, so the new subject wins over the carried-over one.
    """
    terms = set(tokenize(retrieval.lexical or retrieval.query))
    focus_terms = {t for t in tokenize(focus) if t in view.idf}
    numeric = bool(_NUMERIC_Q.search(retrieval.query))
    detail = asked_detail(retrieval.query)
    units = [
        (rank, hit.chunk, s.strip())
        for rank, hit in enumerate(retrieval.hits[: cfg.clauses_considered])
        for s in split_sentences(hit.chunk.text)
        if len(s.strip()) >= 2
    ]
    dense = scorer([u[2] for u in units]) if scorer and units else [0.0] * len(units)
    out = []
    for (rank, chunk, sentence), sim in zip(units, dense, strict=True):
        lexical = _lexical(view, terms, chunk, sentence)
        if focus_terms:
            lexical = 0.5 * lexical + 0.5 * _lexical(view, focus_terms, chunk, sentence)
        bonus = 0.1 if numeric and re.search(r"\d", sentence) else 0.0
        bonus += 0.5 if detail and detail[2].search(sentence) else 0.0
        span = max(cfg.sent_dense_hi - cfg.sent_dense_lo, 1e-6)
        dense_part = min(max((sim - cfg.sent_dense_lo) / span, 0.0), 1.0) * cfg.sent_dense_weight
        out.append(Evidence(chunk, rank, sentence, lexical, lexical + bonus + dense_part))
    return out


def _answerable(retrieval: Retrieval, view: IndexView, best: Evidence, cfg: ExtractConfig, english: bool) -> bool:
    top_dense = max((h.dense or 0.0) for h in retrieval.hits[: cfg.clauses_considered])
    if english:
        return bool(retrieval.lexical) and (best.lexical >= cfg.lex_strong or top_dense >= cfg.dense_floor_en)
    terms = set(tokenize(retrieval.query))
    strong_words = _coverage(view, terms, best.sentence, known_only=False) >= cfg.lex_strong
    detail = asked_detail(retrieval.query)
    detail_found = bool(detail and detail[2].search(best.sentence)) and best.lexical >= cfg.lex_anchor
    return (
        strong_words
        or detail_found
        or (top_dense >= cfg.dense_floor and best.lexical >= cfg.lex_anchor)
        or top_dense >= cfg.dense_sure
    )


def extract(retrieval: Retrieval, view: IndexView, cfg: ExtractConfig, *, english: bool = False,
            scorer: SentenceScorer | None = None, focus: str = "") -> Extraction:
    """Pick the sentences that answer the question, or say why nothing does."""
    if not retrieval.hits:
        return Extraction((), reason="no_hits")
    if retrieval.ref and retrieval.hits[0].via == "lookup":
        return _lookup(retrieval, view, cfg, scorer)
    evidence = sentence_evidence(retrieval, view, cfg, scorer, focus)
    if not evidence:
        return Extraction((), reason="no_hits")
    best = max(evidence, key=lambda e: (e.score, -e.rank))
    if not _answerable(retrieval, view, best, cfg, english):
        return Extraction((), reason="weak_evidence")
    terms = set(tokenize(retrieval.lexical or retrieval.query))
    detail = asked_detail(retrieval.query)
    numeric = bool(_NUMERIC_Q.search(retrieval.query)) or detail is not None
    chosen = _choose(evidence, best, cfg, terms, view, numeric, retrieval.lexical or retrieval.query)
    if detail and not detail[2].search(chosen[0].quote):
        return Extraction((), reason="detail_not_stated", detail=detail[3])
    return Extraction(chosen)


def _choose(evidence: list[Evidence], best: Evidence, cfg: ExtractConfig, terms: set[str],
            view: IndexView, numeric: bool, query: str) -> tuple[Citation, ...]:
    """The best clause's best sentences; for a multi-part question, a clause for each uncovered part."""
    primary = sorted((e for e in evidence if e.chunk.clause_key == best.chunk.clause_key), key=lambda e: -e.score)
    picked = [e for e in primary if e.score >= best.score * cfg.keep_ratio][: cfg.max_sentences_per_clause]
    detail = asked_detail(query)
    if detail and detail[0] in _CONTACT and not any(detail[2].search(e.sentence) for e in picked):
        picked += [e for e in primary if detail[2].search(e.sentence)][:1]  # the line with the number
    groups = [picked]
    chosen = {best.chunk.clause_key}
    parts = question_parts(query, view)
    for text, part in parts if len(parts) >= 2 else []:
        part = {t for t in part if not re.fullmatch(r"\d{4}", t)}  # the year is context, not a topic
        covered = " ".join(_context(e.chunk) + e.sentence for group in groups for e in group)
        wants_number = bool(_NUMERIC_Q.search(text))
        if _coverage(view, part, covered, known_only=True) >= 0.5 and (not wants_number or re.search(r"\d", covered)):
            continue
        candidates = [e for e in evidence if e.chunk.clause_key not in chosen]
        if not candidates or len(groups) >= cfg.max_citations:
            break
        top = max(candidates, key=lambda e: _part_score(view, part, e, wants_number))
        if _lexical(view, part, top.chunk, top.sentence) >= cfg.residual_min:
            chosen.add(top.chunk.clause_key)
            groups.append([top])
    return tuple(_citation(group, terms, numeric) for group in groups)


def _part_score(view: IndexView, part: set[str], ev: Evidence, wants_number: bool) -> float:
    digits = 0.3 if wants_number and re.search(r"\d", ev.sentence) else 0.0
    return _lexical(view, part, ev.chunk, ev.sentence) + digits + 0.5 * (ev.score - ev.lexical)


def _citation(group: list[Evidence], terms: set[str], numeric: bool) -> Citation:
    chunk = group[0].chunk
    sentences = [trim_sentence(e.sentence, terms, numeric) for e in group]
    parts = [s.strip() for s in split_sentences(chunk.text) if s.strip()]
    if len(parts) > 1 and sentences == [parts[0]] and clause_title(chunk.text):
        sentences.append(parts[1])  # a bare title (“指导思想。”) says nothing: quote what follows it
    return Citation(chunk.doc_id, chunk.clause_id, chunk.label, _join_quotes(chunk.text, sentences))


def _join_quotes(text: str, sentences: list[str]) -> str:
    """One verbatim quote: the contiguous span from the first chosen sentence to the last."""
    starts = [text.find(s) for s in sentences]
    ends = [start + len(s) for start, s in zip(starts, sentences, strict=True)]
    return text[min(starts) : max(ends)].strip()


_SEGMENT_END = re.compile(r"(?<=[,，:：;；])")


def trim_sentence(sentence: str, terms: set[str], numeric: bool = False, max_chars: int = 120) -> str:
    """A long sentence shrinks to the comma-segments around its best-matching one (verbatim)."""
    if len(sentence) <= max_chars:
        return sentence
    segments = [s for s in _SEGMENT_END.split(sentence) if s]
    scores = [sum(t in seg for t in terms) + (2.0 if numeric and re.search(r"\d", seg) else 0.0) for seg in segments]
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
