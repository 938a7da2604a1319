"""The one refusal decision: does the best evidence answer this question?

Explicit features of the question and its best evidence go into a logistic model fitted on the
development splits (eval/fit.py, shipped in answerer.toml [fitted.refusal]); no hand threshold.
Two guarantees sit outside the model because they are facts, not scores: a rare question term
found verbatim in the corpus is never answered with “out of scope”, and a kind of detail the
question asks for must be stated by what is quoted (else: “文件没有规定…”, see rag.extract).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.config import RefusalModel
from rag.evidence import Evidence, context, coverage, terms_of
from rag.lexicon import Lexicon
from rag.retrieve import Retrieval
from rag.view import IndexView

FEATURES = ("lex_best", "cover_sentence", "cover_clause", "cover_keys", "oov", "unknown_any", "dense_top",
            "dense_margin", "key_top", "key_margin", "sent_score", "english", "detail_stated", "en_oov", "en_cover",
            "agree")
AGREEING = ("bm25", "dense", "key_bm25", "key_dense")  # the four searches of rag.retrieve.fuse


@dataclass(frozen=True)
class Decision:
    answers: bool
    probability: float
    features: dict[str, float] = field(default_factory=dict)
    reason: str = ""  # why: model | rare_term | no_evidence


def features(retrieval: Retrieval, best: Evidence | None, view: IndexView, lexicon: Lexicon,
             english: bool, detail_stated: bool = False) -> dict[str, float]:
    """The model's inputs; every value is cheap and already computed by retrieval or extraction."""
    terms = terms_of(retrieval.query, lexicon)
    # the domain phrases of an English question (glossary_en.toml), found once
    phrases = list(lexicon.glossary_pattern.finditer(retrieval.query)) if english and lexicon.glossary_pattern else []
    # catalog names (the county, the bureau, titles) are the context of every question, not its topic…
    content = {t for t in terms if t not in lexicon.generic and not any(t in n for n in view.names)} or terms
    # …and so is a place named in English (“Sanmen”, “Taizhou”)
    places = [m.group(0) for m in phrases if lexicon.glossary[m.group(1).lower()] in lexicon.places]
    content = content - set(terms_of(" ".join(places), lexicon)) or content
    # an asking phrase the corpus does not use (哪一年 → 一年) is how the question asks, not a topic it lacks
    frame = {t for t in lexicon.frame_words(retrieval.query) if not view.known(t)}
    content = content - frame or content
    topical = {t for t in terms if len(t) >= lexicon.topic_min_chars or view.known(t)}  # not 喂, 问, 交
    content = (content & topical) or (topical - frame) or content
    # a question whose only topic is a generic word (“这些目标哪一年完成?”) is about that word
    content = _generic_topic(terms, content, retrieval.query, view, lexicon) or content
    # an unknown compound whose search-mode part the corpus uses (打电话 → 电话) is asked through that part
    content = {t for t in content if view.known(t) or not _has_known_part(t, terms, view)} or content
    # a phrase the glossary knows (“qiye biaozhun zongshi”, “chief standard officers”) is not out of vocabulary
    glossed = set(terms_of(" ".join(m.group(0) for m in phrases), lexicon))
    unknown = [t for t in content if not view.known(t) and t not in glossed]
    # an English question shares no words with the Chinese text: its coverage is that of its domain terms
    # (glossary_en.toml) but for the places it names, its unknown words stay its own
    glossary = terms_of(retrieval.lexical, lexicon)
    covered = ({t for t in glossary if t not in lexicon.generic and t not in lexicon.places}
               or _topical_generic(glossary, view, lexicon)
               if english else content)
    weight = sum(view.idf_of(t) for t in content)
    stats = retrieval.stats
    best_text = context(best.chunk) + best.sentence if best else ""
    key_text = view.key_text.get(best.chunk.clause_key, "") if best else ""
    clause_text = view.clause_text(best.chunk.clause_key) + key_text if best else ""
    cover_clause = coverage(view, covered, clause_text, known_only=False) if best else 0.0
    oov = sum(view.idf_of(t) for t in unknown) / weight if weight else 1.0
    clause = [h.features for h in retrieval.hits if best and h.chunk.clause_key == best.chunk.clause_key]
    return {
        "lex_best": best.lexical if best else 0.0,
        "cover_sentence": coverage(view, covered, best_text, known_only=False) if best else 0.0,
        "cover_clause": cover_clause,
        "cover_keys": coverage(view, content, key_text, known_only=False) if key_text else 0.0,
        "oov": oov,
        "unknown_any": 1.0 if any(len(t) >= lexicon.topic_min_chars for t in unknown) else 0.0,
        "dense_top": stats.get("dense_top", 0.0),
        "dense_margin": stats.get("dense_top", 0.0) - stats.get("dense_mean", 0.0),
        "key_top": stats.get("key_top", 0.0),
        "key_margin": stats.get("key_top", 0.0) - stats.get("key_mean", 0.0),
        "sent_score": best.score if best else 0.0,
        "english": 1.0 if english else 0.0,
        "detail_stated": 1.0 if detail_stated else 0.0,  # it asks for a kind of detail and the quote states it
        # an English question is covered through the glossary and its unknown words are English: the same
        # coverage means something else than in Chinese, so it gets a slope of its own
        "en_oov": oov if english else 0.0,
        "en_cover": cover_clause if english else 0.0,
        # how far the four searches agree on the quoted clause (each scaled 0..1 within the question): an
        # out-of-scope question lands on a different clause in each, a plainly worded one mostly on one
        "agree": sum(max((f.get(n, 0.0) for f in clause), default=0.0) for n in AGREEING) / len(AGREEING),
    }


def _generic_topic(terms: set[str], content: set[str], query: str, view: IndexView, lexicon: Lexicon) -> set[str]:
    """The generic words a question names when everything else in it is how it asks (哪一年, 之前, 完成)."""
    return set() if content - lexicon.frame_words(query) else _topical_generic(terms, view, lexicon)


def _has_known_part(term: str, terms: set[str], view: IndexView) -> bool:
    return any(part != term and part in term and len(part) >= 2 and view.known(part) for part in terms)


def _topical_generic(terms: set[str], view: IndexView, lexicon: Lexicon) -> set[str]:
    """Generic words that can name a topic: not a catalog name (三门县, 市场监管局), not a fragment."""
    return {t for t in terms if t in lexicon.generic and len(t) >= lexicon.topic_min_chars
            and not any(t in n for n in view.names) and view.known(t)}


def only_rare(retrieval: Retrieval, lexicon: Lexicon) -> bool:
    """The question asks about its rare terms and nothing else (“RCEP在哪条?”, “领跑者”)."""
    lookup = lexicon.references.lookup_words
    asking = [m.group(0) for m in lookup.finditer(retrieval.query)]  # 哪一条 → its token 一条 asks too
    rest = [t for t in terms_of(retrieval.query, lexicon)
            if t not in lexicon.generic and not lookup.search(t) and not any(t in a for a in asking)
            and not any(t.lower() in r.lower() or r.lower() in t.lower() for r in retrieval.rare)]
    return bool(retrieval.rare) and not rest


def decide(retrieval: Retrieval, best: Evidence | None, view: IndexView, lexicon: Lexicon,
           models: tuple[RefusalModel, RefusalModel], english: bool, detail_stated: bool = False) -> Decision:
    """The model's verdict, under the rare-term guarantee.

    A question about nothing but a rare term of the corpus is answered with the sentence holding it;
    otherwise the model decides (the one fitted without plain-language keys when the clause has none),
    and a refusal of a question holding a rare term says where the
    document mentions it (`rare_mentioned`) instead of calling the question out of scope.
    """
    values = features(retrieval, best, view, lexicon, english, detail_stated)
    if best is None:
        return Decision(False, 0.0, values, "no_evidence")
    model = models[0] if best.chunk.clause_key in view.key_text else models[1]  # with / without a layer
    probability = model.probability(values)
    rare = bool(best.features.get("rare"))
    if rare and only_rare(retrieval, lexicon):
        return Decision(True, probability, values, "rare_term")
    answers = probability >= model.threshold
    return Decision(answers, probability, values, "rare_mentioned" if rare and not answers else "model")
