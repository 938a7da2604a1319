"""The extractive answerer for one asked part: quote the sentences that answer, or say why not.

Pure functions over a `Retrieval`: score the sentences of the best clauses (rag.evidence), ask the
refusal model whether the best one answers (rag.decide), quote it with its close neighbours, and
check that every kind of detail the part asks for (an amount, a date…) is stated by the quote —
for a goal's sub-item the year may come from its parent clause (一(二)-4 → 一(二)).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from index.models import Chunk
from rag.config import AnswererConfig
from rag.decide import Decision, decide
from rag.detail_kinds import DetailKind
from rag.evidence import Evidence, SentenceScorer, names_other_body, sentence_evidence, states, terms_of
from rag.lexicon import Lexicon
from rag.models import Citation, Hit, Related
from rag.retrieve import Retrieval
from rag.view import IndexView


@dataclass(frozen=True)
class PartResult:
    """What one asked part got: citations, or the reason there are none."""

    part: str
    citations: tuple[Citation, ...]
    reason: str = ""  # "" | no_hits | weak_evidence | detail_not_stated | lookup
    detail: DetailKind | None = None
    decision: Decision | None = None
    evidence: tuple[Evidence, ...] = ()  # every sentence considered, best first
    mentioned: Evidence | None = None  # where the document mentions a rare term of a refused part


def related_of(hits: Sequence[Hit], limit: int = 3) -> tuple[Related, ...]:
    seen: dict[str, Related] = {}
    for hit in hits:
        seen.setdefault(hit.chunk.clause_key, Related(hit.chunk.doc_id, hit.chunk.clause_id, hit.chunk.label))
    return tuple(seen.values())[:limit]


def _whole(chunks: Sequence[Chunk], view: IndexView) -> tuple[Citation, ...]:
    cites: dict[str, Citation] = {}
    for c in chunks:
        cites.setdefault(c.clause_key, Citation(c.doc_id, c.clause_id, c.label, view.clause_text(c.clause_key)))
    return tuple(cites.values())


def _asks_within(retrieval: Retrieval, view: IndexView, lexicon: Lexicon) -> set[str]:
    """Terms of a clause-reference question beyond the reference itself (“二(七)2里二维码怎么说”).

    Words of the named clause's own label and headings (“指导思想”) belong to the reference.
    """
    names = [*view.sections, *view.items, *(h.chunk.label for h in retrieval.hits),
             *(p for h in retrieval.hits for p in h.chunk.heading_path)]
    refs = lexicon.references.lookup_words
    return {t for t in terms_of(retrieval.query, lexicon)
            if t in view.idf and t not in lexicon.generic and not refs.search(t) and not any(t in n for n in names)
            and not re.fullmatch(r"[一二三四五六七八九十\d()-]+", t)}


def answer_lookup(retrieval: Retrieval, view: IndexView, lexicon: Lexicon, config: AnswererConfig,
                  scorer: SentenceScorer | None, details: Sequence[DetailKind] = ()) -> PartResult:
    """A named clause is quoted whole, unless the question also asks something within it; a kind of detail
    asked of it (“发展目标的起始年份”) that none of its sentences states is refused as not stated."""
    chunks = [h.chunk for h in retrieval.hits]
    checked = [k for k in details if not k.corpus and not k.near]  # a name “next to” a term: the whole clause is quoted
    sentences = [s for c in chunks for s in view.sentences(c)] if checked else []
    unstated = [k for k in checked if not any(states(k, s, lexicon) for s in sentences)]
    missing = [*absent(details, view, lexicon), *unstated]
    if missing:
        return PartResult(retrieval.query, (), "detail_not_stated", missing[0])
    asked = _asks_within(retrieval, view, lexicon)
    if not asked:
        return PartResult(retrieval.query, _whole(chunks, view), "lookup")
    focused = replace(retrieval, lexical=" ".join(asked), hits=retrieval.hits[: config.limits.max_citations * 3])
    evidence = [e for e in sentence_evidence(focused, view, lexicon, config.sentence, config.lexical,
                                             clauses=len(chunks), scorer=scorer) if e.lexical > 0]
    if not evidence:
        return PartResult(retrieval.query, _whole(chunks, view), "lookup")
    best = max(evidence, key=lambda e: (e.score, -e.rank))
    quote = _quote(_group(evidence, best, config), asked, False, config, view.idf)
    return PartResult(retrieval.query, (quote,), "lookup")


def absent(details: Sequence[DetailKind], view: IndexView, lexicon: Lexicon) -> list[DetailKind]:
    """A year or sum the question names (“2030年的目标”) must be in the corpus at all, whether the clause is
    named or retrieved; it does not choose the sentence."""
    return [k for k in details if k.corpus and not states(k, view.corpus_text, lexicon)]


def answer_occurrences(part: str, found: dict[str, list[str]], view: IndexView,
                       config: AnswererConfig) -> PartResult | None:
    """Every clause where the asked term stands (“‘浙江标准’提了几处?”), in document order, each quoted at its
    sentence with the term; None when the part names no term of the corpus."""
    if not found:
        return None
    term = max(found, key=len)
    citations = []
    for key in sorted(found[term], key=lambda k: view.by_clause[k][0].order if view.by_clause.get(k) else 0):
        for chunk in view.by_clause.get(key, []):
            sentence = next((s for s in view.sentences(chunk)
                             if term.lower() in s.lower() and not view.is_boilerplate(s, chunk)), None)
            if sentence:
                quote = trim_sentence(sentence, {term}, False, config.limits.trim_chars)
                citations.append(Citation(chunk.doc_id, chunk.clause_id, chunk.label, quote))
                break
    return PartResult(part, tuple(citations), "lookup") if citations else None


def _group(evidence: Sequence[Evidence], best: Evidence, config: AnswererConfig) -> list[Evidence]:
    same = sorted((e for e in evidence if e.chunk.chunk_id == best.chunk.chunk_id), key=lambda e: -e.score)
    keep = [e for e in same if e.score >= best.score * config.limits.keep_ratio]
    return keep[: config.limits.max_sentences_per_clause] or [best]


def answer_part(part: str, retrieval: Retrieval, view: IndexView, lexicon: Lexicon, config: AnswererConfig, *,
                scorer: SentenceScorer | None, english: bool, details: Sequence[DetailKind],
                focus: str = "") -> PartResult:
    """Citations that answer `part`, or the reason (weak evidence, a detail not stated).

    `details` are the kinds of detail the part asks for (for a follow-up: its own words only).
    """
    if not retrieval.hits:
        return PartResult(part, (), "no_hits")
    if retrieval.ref and retrieval.hits[0].via == "lookup":
        return answer_lookup(retrieval, view, lexicon, config, scorer, details)
    unknown = absent(details, view, lexicon)
    details = [k for k in details if not k.corpus]
    evidence = sentence_evidence(retrieval, view, lexicon, config.sentence, config.lexical,
                                 clauses=config.limits.clauses_considered,
                                 scorer=scorer, details=details, focus=focus)
    ranked = tuple(sorted(evidence, key=lambda e: (-e.score, e.rank)))
    # a question asked within a named clause (“先进制造业那部分…”) is answered there when the clause has sentences
    ranked = tuple(e for e in ranked if e.chunk.clause_key in retrieval.scope) or ranked
    if not ranked:
        return PartResult(part, (), "no_hits")
    terms = terms_of(retrieval.lexical or retrieval.query, lexicon)
    best, citations, missing = select(ranked, details, terms, anchors_of(retrieval, view, lexicon), view, lexicon,
                                      config, part)
    missing = [*unknown, *missing]
    if any(k.of_named for k in details) and names_other_body(part, view.clause_text(best.chunk.clause_key), lexicon):
        missing += [k for k in details if k.of_named and k not in missing]
    decision = decide(retrieval, best, view, lexicon, (config.refusal, config.refusal_plain), english,
                      detail_stated=bool(details) and not missing)
    if missing:  # a fact, not a score: the evidence does not state what was asked
        return PartResult(part, (), "detail_not_stated", missing[0], decision, ranked)
    if not decision.answers:
        reason = "rare_mentioned" if decision.reason == "rare_mentioned" else "weak_evidence"
        return PartResult(part, (), reason, decision=decision, evidence=ranked, mentioned=best)
    return PartResult(part, citations, decision=decision, evidence=ranked)


def anchors_of(retrieval: Retrieval, view: IndexView, lexicon: Lexicon) -> set[str]:
    """What a `near` detail must stand beside: the part's terms and the general phrases it writes (“重点领域”
    anchors the list “幼有所育、…等9大重点领域”); unlike terms, the phrases never steer trimming."""
    return terms_of(retrieval.lexical or retrieval.query, lexicon) | set(view.generic_phrases(retrieval.query))


def select(ranked: Sequence[Evidence], details: Sequence[DetailKind], terms: set[str], anchors: set[str],
           view: IndexView, lexicon: Lexicon, config: AnswererConfig,
           part: str) -> tuple[Evidence, tuple[Citation, ...], list[DetailKind]]:
    """The sentence that answers, the citations quoting it, and the asked details they leave unstated.

    A sentence holding a rare term of the question comes first; a nearly as good one that states
    what is asked beats one that does not; `anchors` (terms and general phrases) are what a `near`
    detail must stand beside. (eval/fit.py replays this to fit how much to quote.)
    """
    rare = [e for e in ranked if e.features.get("rare")]
    best = ranked[0] if ranked[0].features.get("rare") or not rare else rare[0]
    best = _stating(best, ranked, details, anchors, lexicon, config)
    citations, missing = _citations(best, ranked, details, terms, anchors, view, lexicon, config, part)
    return best, citations, missing


def _stating(best: Evidence, ranked: Sequence[Evidence], details: Sequence[DetailKind], terms: set[str],
             lexicon: Lexicon, config: AnswererConfig) -> Evidence:
    """When the best sentence does not state what the part asks for (a number, a date), a nearly as good
    sentence that does is the better answer (“…要培养多少?” → the target, not the programme)."""
    if not details or all(states(k, best.sentence, lexicon, terms) for k in details):
        return best
    floor = best.score * config.limits.keep_ratio
    return next((e for e in ranked if e.score >= floor and e.features.get("rare", 0.0) >= best.features.get("rare", 0.0)
                 and all(states(k, e.sentence, lexicon, terms) for k in details)), best)


def _citations(best: Evidence, ranked: Sequence[Evidence], details: Sequence[DetailKind], terms: set[str],
               anchors: set[str], view: IndexView, lexicon: Lexicon, config: AnswererConfig,
               part: str) -> tuple[tuple[Citation, ...], list[DetailKind]]:
    """The quote of the best sentence (and its close neighbours), and the asked details it leaves unstated.

    A contact kind pulls in the line that states it (the phone number's line); a goal's sub-item
    takes the year from its parent clause.
    """
    group = _group(ranked, best, config)
    missing = [k for k in details if not any(states(k, e.sentence, lexicon, anchors)
                                             for e in ([best] if k.own_sentence else group))]
    for kind in [k for k in details if k.line and (k in missing or k.prefer_line)]:
        same = [e for e in ranked if e.chunk.chunk_id == best.chunk.chunk_id and states(kind, e.sentence, lexicon)]
        stating = sorted(same, key=lambda e: len(e.sentence))[:1] if kind.prefer_line else same[:1]
        if stating and stating[0] not in group:
            group.append(stating[0])
        if stating and kind in missing:
            missing.remove(kind)
    numeric = bool(lexicon.numeric_question.search(part))
    states_asked = (lambda seg: any(states(k, seg, lexicon, terms) for k in details)) if details else None
    citations = [_quote(group, terms, numeric, config, view.idf, states_asked)]
    for kind in list(missing):
        parent = _parent_stating(best.chunk, kind, view, lexicon)
        if parent is not None:
            citations.append(parent)
            missing.remove(kind)
    return tuple(citations), missing


def _parent_stating(chunk: Chunk, kind: DetailKind, view: IndexView, lexicon: Lexicon) -> Citation | None:
    """The sentence of a sub-item's parent clause (一(二)-4 → 一(二)) that states the asked detail."""
    if "-" not in chunk.clause_id:
        return None
    key = f"{chunk.doc_id}:{chunk.clause_id.rsplit('-', 1)[0]}"
    for parent in view.by_clause.get(key, []):
        for sentence in view.sentences(parent):
            if states(kind, sentence, lexicon) and not view.is_boilerplate(sentence, parent):
                return Citation(parent.doc_id, parent.clause_id, parent.label, sentence)
    return None


def _quote(group: Sequence[Evidence], terms: set[str], numeric: bool, config: AnswererConfig,
           idf: Mapping[str, float] | None = None, stating: Callable[[str], bool] | None = None) -> Citation:
    chunk = group[0].chunk
    sentences = [trim_sentence(e.sentence, terms, numeric, config.limits.trim_chars, idf, stating) for e in group]
    starts = [chunk.text.find(s) for s in sentences]
    ends = [start + len(s) for start, s in zip(starts, sentences, strict=True)]
    quote = chunk.text[min(starts) : max(ends)].strip()  # contiguous: from the first chosen sentence to the last
    return Citation(chunk.doc_id, chunk.clause_id, chunk.label, quote)


_SEGMENT_END = re.compile(r"(?<=[,，:：;；])")


def trim_sentence(sentence: str, terms: set[str], numeric: bool = False, max_chars: int = 120,
                  idf: Mapping[str, float] | None = None, stating: Callable[[str], bool] | None = None) -> str:
    """A long sentence shrinks to the comma-segments around its best-matching one (verbatim).

    A segment with a number (for a numeric question) or stating the asked kind of detail (`stating`: the
    body that 牵头起草, not the cited documents' numbers) is favoured. Segments matching as many terms are
    told apart by the terms' IDF: “…名义印发” beats the segment that only shares the everyday 实施意见."""
    if len(sentence) <= max_chars:
        return sentence
    segments = [s for s in _SEGMENT_END.split(sentence) if s]
    scores = [sum(t in seg for t in terms)
              + (2.0 if (numeric and re.search(r"\d", seg)) or (stating is not None and stating(seg)) else 0.0)
              for seg in segments]
    rarity = [sum((idf or {}).get(t, 0.0) for t in terms if t in seg) for seg in segments]
    best = max(range(len(segments)), key=lambda i: (scores[i], rarity[i]))
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
