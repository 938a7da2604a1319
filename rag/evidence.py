"""Sentence evidence: every sentence of the best clauses with the features that say whether it answers.

Pure functions. Features are scaled per question so that fitted weights (answerer.toml
[fitted.sentence]) mean the same thing for every question: lexical coverage of the question's
terms (IDF-weighted), embedding similarity (min-max over the sentences considered), the clause's
retrieval score relative to the best, digits for a numeric question, the asked kinds of detail
stated, and rare question terms contained.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from index.models import Chunk
from rag.config import LexicalShares
from rag.detail_kinds import DetailKind
from rag.lexicon import Lexicon
from rag.models import Hit
from rag.retrieve import Retrieval, lexical_text
from rag.support import claims, evidence, supported
from rag.view import IndexView

SentenceScorer = Callable[[Sequence[str]], list[float]]


@dataclass(frozen=True)
class Evidence:
    chunk: Chunk
    rank: int
    sentence: str
    score: float
    features: dict[str, float] = field(default_factory=dict)

    @property
    def lexical(self) -> float:
        return self.features.get("lexical", 0.0)


def terms_of(text: str, lexicon: Lexicon) -> set[str]:
    return set(lexicon.tokenize(text))


def topic_terms(text: str, lexicon: Lexicon) -> set[str]:
    """The question's terms without generic words (企业, 标准…) and years (context of every target, not a topic:
    patterns.toml terms.not_rare), unless these are all it has."""
    terms = terms_of(text, lexicon)
    return {t for t in lexicon.without_years(terms) if t not in lexicon.generic} or terms


def coverage(view: IndexView, terms: Iterable[str], text: str, *, known_only: bool) -> float:
    """IDF-weighted share of `terms` found in `text`; unknown terms weigh most unless `known_only`."""
    weighted = [(t, view.idf_of(t)) for t in terms if not known_only or t in view.idf]
    total = sum(w for _t, w in weighted)
    lowered = text.lower()
    return sum(w for t, w in weighted if t in lowered) / total if total else 0.0


def context(chunk: Chunk) -> str:
    return " ".join((*chunk.heading_path, chunk.label))


def lexical(view: IndexView, terms: set[str], chunk: Chunk, sentence: str, heading_share: float) -> float:
    """Known-term coverage of the sentence; terms found only in its headings count `heading_share` of one."""
    own = coverage(view, terms, sentence, known_only=True)
    with_headings = coverage(view, terms, context(chunk) + sentence, known_only=True)
    return own + heading_share * (with_headings - own)


def blend(base: float, other: float, share: float) -> float:
    """`other` weighted `share` against `base` (answerer.toml [lexical])."""
    return (1.0 - share) * base + share * other


def states(kind: DetailKind, text: str, lexicon: Lexicon, terms: Iterable[str] = ()) -> bool:
    """Whether `text` states this kind of detail.

    A place kind needs a city, county or town of the gazetteer; a kind with `near` needs its
    statement next to one of the question's `terms` (a name “…” beside the thing asked about); a count
    asked in a unit (`counted_in`) needs a statement in that unit group, and of the level or sort the
    question names (`qualifiers`).
    """
    if kind.states is None:
        return any(name in text for name in lexicon.local_places)
    if not all(q in text for q in kind.qualifiers):  # 多少个县级试点 is not stated by “省级试点2个”
        return False
    spans = [m.span() for m in kind.states.finditer(text)
             if not kind.counted_in or any(u in m.group(0) for u in kind.counted_in)]
    if not kind.near:
        return bool(spans)
    lowered = text.lower()
    anchors = [m.start() for t in terms if len(t) >= 2 and t not in lexicon.generic
               for m in re.finditer(re.escape(t.lower()), lowered)]
    return any(a - kind.near <= end and start <= a + kind.near for start, end in spans for a in anchors)


def names_other_body(question: str, text: str, lexicon: Lexicon) -> bool:
    """The question names an organisation (claims.toml) that `text` does not: “县科技局的联系电话” is not
    answered by the bureau's contact line, whatever number that line states."""
    lex = lexicon.claims
    if lex.org_english.search(question):  # a Chinese text never names a body in English
        return True
    bodies = [c for c in claims(question, lex) if c.kind == "organisation"]
    return bool(bodies) and any(not supported(c, evidence([text], [], lex), lex) or _elsewhere(c.text, text, lexicon)
                                for c in bodies)


def _elsewhere(name: str, text: str, lexicon: Lexicon) -> bool:
    """A body named with a place above or beside the county (浙江省市场监管局, 临海市市场监管局) is another body
    than the county's own of the same name, unless `text` names it with that place too."""
    place = max((p for p in lexicon.places if len(p) >= 2 and name.startswith(p)), key=len, default="")
    if not place or (place in lexicon.home_places and lexicon.places[place].level == "county"):
        return False
    body = name[len(place):]
    gap = lexicon.claims.org_place_gap
    return not re.search(rf"{re.escape(place)}[^,，。;；、]{{0,{gap}}}{re.escape(body[-3:])}", text)


def boilerplate_allowed(details: Sequence[DetailKind]) -> bool:
    return any(kind.boilerplate for kind in details)


def _minmax(values: list[float]) -> list[float]:
    if not values:
        return []
    low, high = min(values), max(values)
    span = high - low
    return [(v - low) / span if span > 1e-9 else 0.0 for v in values]


def sentence_evidence(retrieval: Retrieval, view: IndexView, lexicon: Lexicon, weights: dict[str, float],
                      shares: LexicalShares, *, clauses: int, scorer: SentenceScorer | None,
                      details: Sequence[DetailKind] = (), focus: str = "") -> list[Evidence]:
    """Every sentence of the top `clauses` clauses, featurised and scored.

    Boilerplate lines (signature, date, attachment, headings) are left out unless the question
    asks for an issuer, a date or a contact. `focus` is a follow-up's own wording: its terms count
    as much as the whole rewritten question, so the new subject wins over the carried-over one.
    """
    terms = topic_terms(retrieval.lexical or retrieval.query, lexicon)
    # an English follow-up's own words count through their glossary terms, as a Chinese one's do
    focus_terms = {t for t in topic_terms(lexical_text(focus, lexicon), lexicon) if t in view.idf} if focus else set()
    # general words the question writes as one phrase (企业标准): a sentence holding the phrase, not the words
    # scattered (技术优势企业参与…团体标准), is about it
    asked_phrases = view.generic_phrases(retrieval.query)  # as written, not the English glossary terms
    phrases = set(view.generic_phrases(focus) if focus else asked_phrases)
    anchors = terms | set(asked_phrases)  # what a `near` detail must stand beside
    numeric = bool(lexicon.numeric_question.search(retrieval.query))
    allow = boilerplate_allowed(details)
    hits: list[Hit] = []
    seen: set[str] = set()
    for hit in retrieval.hits:
        if hit.chunk.clause_key not in seen and len(seen) < clauses:
            seen.add(hit.chunk.clause_key)
        if hit.chunk.clause_key in seen:
            hits.append(hit)
    top = max((h.score for h in hits), default=0.0) or 1.0
    units = [(rank, hit, s) for rank, hit in enumerate(hits) for s in view.sentences(hit.chunk)
             if allow or not view.is_boilerplate(s, hit.chunk)]
    dense = _minmax(scorer([u[2] for u in units]) if scorer and units else [0.0] * len(units))
    out = []
    for (rank, hit, sentence), sim in zip(units, dense, strict=True):
        lex = lexical(view, terms, hit.chunk, sentence, shares.heading_share)
        if focus_terms:
            lex = blend(lex, lexical(view, focus_terms, hit.chunk, sentence, shares.heading_share), shares.focus_share)
        if phrases:
            lex = blend(lex, sum(p in sentence for p in phrases) / len(phrases), shares.phrase_share)
        features = {
            "lexical": lex,
            "dense": sim,
            "clause": max(hit.score, 0.0) / top,
            "digits": 1.0 if numeric and re.search(r"\d", sentence) else 0.0,
            "detail": (sum(states(k, sentence, lexicon, anchors) for k in details) / len(details)) if details else 0.0,
            "rare": 1.0 if any(t.lower() in sentence.lower() for t in retrieval.rare) else 0.0,
        }
        score = sum(weights.get(name, 0.0) * value for name, value in features.items())
        out.append(Evidence(hit.chunk, rank, sentence, score, features))
    return out
