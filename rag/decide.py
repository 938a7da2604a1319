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

FEATURES = ("lex_best", "cover_all", "oov", "dense_top", "dense_margin", "key_top", "key_margin", "key_cover",
            "sent_score", "english")


@dataclass(frozen=True)
class Decision:
    answers: bool
    probability: float
    features: dict[str, float] = field(default_factory=dict)
    reason: str = ""  # why: model | rare_term | no_evidence


def features(retrieval: Retrieval, best: Evidence | None, view: IndexView, lexicon: Lexicon,
             english: bool) -> dict[str, float]:
    """The model's inputs; every value is cheap and already computed by retrieval or extraction."""
    terms = terms_of(retrieval.query, lexicon)
    content = {t for t in terms if t not in lexicon.generic}
    unknown = [t for t in content if not view.known(t)]
    weight = sum(view.idf_of(t) for t in content)
    stats = retrieval.stats
    best_text = context(best.chunk) + best.sentence if best else ""
    key_text = view.key_text.get(best.chunk.clause_key, "") if best else ""
    return {
        "lex_best": best.lexical if best else 0.0,
        "cover_all": coverage(view, terms, best_text, known_only=False) if best else 0.0,
        "oov": sum(view.idf_of(t) for t in unknown) / weight if weight else 1.0,
        "dense_top": stats.get("dense_top", 0.0),
        "dense_margin": stats.get("dense_top", 0.0) - stats.get("dense_mean", 0.0),
        "key_top": stats.get("key_top", 0.0),
        "key_margin": stats.get("key_top", 0.0) - stats.get("key_mean", 0.0),
        "key_cover": coverage(view, terms, key_text, known_only=False) if key_text else 0.0,
        "sent_score": best.score if best else 0.0,
        "english": 1.0 if english else 0.0,
    }


def decide(retrieval: Retrieval, best: Evidence | None, view: IndexView, lexicon: Lexicon,
           model: RefusalModel, english: bool) -> Decision:
    values = features(retrieval, best, view, lexicon, english)
    if best is None:
        return Decision(False, 0.0, values, "no_evidence")
    probability = model.probability(values)
    if best.chunk.clause_key in {c for clauses in retrieval.rare.values() for c in clauses}:
        return Decision(True, probability, values, "rare_term")
    return Decision(probability >= model.threshold, probability, values, "model")
