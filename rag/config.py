"""The answerer's weights and limits (corpus/language/answerer.toml): one config, loaded once.

Hand-set limits and fitted weights live in the same file; `eval/fit.py` rewrites the fitted part.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from rag.lexicon_files import LexiconError, load_table


@dataclass(frozen=True)
class RetrievalConfig:
    candidates_keys: int = 80
    rare_max_df: int = 2
    occurrence_max_df: int = 6
    rare_min_han: int = 3
    rare_min_latin: int = 2
    rare_min_digits: int = 3
    query_chars: int = 300


@dataclass(frozen=True)
class ExtractLimits:
    clauses_considered: int = 6
    max_citations: int = 3
    max_sentences_per_clause: int = 2
    keep_ratio: float = 0.85
    trim_chars: int = 120
    max_parts: int = 3


@dataclass(frozen=True)
class LexicalShares:
    """How the lexical feature of a sentence blends headings, a follow-up's own terms and phrases."""

    heading_share: float = 0.5
    focus_share: float = 0.5
    phrase_share: float = 0.5


@dataclass(frozen=True)
class FaqThresholds:
    lexical_min: float = 0.8
    embed_lexical_min: float = 0.5
    embed_min: float = 0.985


@dataclass(frozen=True)
class RefusalModel:
    """Logistic regression over named features; `answers(x)` is the one refusal decision."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, values: dict[str, float]) -> float:
        import math

        z = self.intercept + sum(
            c * (values.get(f, 0.0) - m) / (s or 1.0)
            for f, m, s, c in zip(self.features, self.mean, self.std, self.coef, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass(frozen=True)
class AnswererConfig:
    retrieval: RetrievalConfig
    limits: ExtractLimits
    fusion: dict[str, float]
    sentence: dict[str, float]
    refusal: RefusalModel
    refusal_plain: RefusalModel  # for clauses without a plain-language layer (documents added later)
    faq: FaqThresholds = FaqThresholds()
    lexical: LexicalShares = LexicalShares()


def _section(cls: type, raw: dict[str, Any], where: str) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise LexiconError(f"answerer.toml [{where}]: unknown keys {sorted(unknown)}")
    return cls(**raw)


def _weights(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict) or not all(isinstance(v, int | float) for v in raw.values()):
        raise LexiconError(f"answerer.toml [{where}]: expected name = number lines")
    return {str(k): float(v) for k, v in raw.items()}


def refusal_from(raw: dict[str, Any]) -> RefusalModel:
    try:
        model = RefusalModel(tuple(raw["features"]), tuple(map(float, raw["mean"])), tuple(map(float, raw["std"])),
                             tuple(map(float, raw["coef"])), float(raw["intercept"]), float(raw["threshold"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LexiconError(f"answerer.toml [fitted.refusal]: {exc}") from exc
    if not len(model.features) == len(model.mean) == len(model.std) == len(model.coef):
        raise LexiconError("answerer.toml [fitted.refusal]: features, mean, std and coef differ in length")
    return model


@cache
def load_config(directory: Path) -> AnswererConfig:
    raw = load_table(Path(directory), "answerer")
    fitted = raw.get("fitted", {})
    limits = {**raw.get("extract", {}), **fitted.get("quoting", {})}  # fitted quoting overrides the defaults
    return AnswererConfig(
        retrieval=_section(RetrievalConfig, raw.get("retrieval", {}), "retrieval"),
        limits=_section(ExtractLimits, limits, "extract"),
        fusion=_weights(fitted.get("fusion", {}), "fitted.fusion"),
        sentence=_weights(fitted.get("sentence", {}), "fitted.sentence"),
        refusal=refusal_from(fitted.get("refusal", {})),
        refusal_plain=refusal_from(fitted.get("refusal_plain", fitted.get("refusal", {}))),
        faq=_section(FaqThresholds, raw.get("faq", {}), "faq"),
        lexical=_section(LexicalShares, raw.get("lexical", {}), "lexical"),
    )
