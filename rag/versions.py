"""Versions of a document: answer from the current one, and on request show what the earlier said.

A catalog entry may supersede another (a 正式稿 replacing its 征求意见稿). Retrieval leaves the
superseded text out; `versions="all"` adds, for each cited clause, the earlier version's wording when
it differs (“征求意见稿中为:…”) or says the clause is new. Pure functions over the catalog and view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.catalog import current_version, superseded_by
from index.models import Document
from rag.lexicon import Lexicon
from rag.models import Citation
from rag.view import IndexView

VERSIONS = ("current", "all")


@dataclass(frozen=True)
class Earlier:
    """The earlier version's wording of a cited clause (empty quote: the clause is new)."""

    doc_id: str
    clause_id: str
    label: str
    quote: str
    status: str
    changed: bool

    def to_dict(self) -> dict[str, object]:
        return {"doc_id": self.doc_id, "clause_id": self.clause_id, "label": self.label, "quote": self.quote,
                "status": self.status, "changed": self.changed}


def superseded(docs: Sequence[Document]) -> frozenset[str]:
    """doc_ids that a newer version replaces: never searched, never cited by default."""
    return frozenset(superseded_by(list(docs)))


def current(docs: Sequence[Document], doc_id: str) -> str:
    return current_version(list(docs), doc_id)


def _closest(sentences: Sequence[str], quote: str) -> str:
    """The earlier sentence sharing most characters (as bigrams) with the cited quote."""
    grams = {quote[i : i + 2] for i in range(len(quote) - 1)}
    return max(sentences, key=lambda s: len(grams & {s[i : i + 2] for i in range(len(s) - 1)}), default="")


def earlier_versions(citations: Sequence[Citation], docs: Sequence[Document], view: IndexView) -> list[Earlier]:
    """For each cited clause of a document that replaced another: that document's same clause."""
    by_id = {d.doc_id: d for d in docs}
    older_of = {new: old for old, new in superseded_by(list(docs)).items()}
    out: list[Earlier] = []
    for c in citations:
        old_id = older_of.get(c.doc_id)
        if old_id is None:
            continue
        status = by_id[old_id].status if old_id in by_id else ""
        chunks = view.by_clause.get(f"{old_id}:{c.clause_id}", [])
        if not chunks:
            out.append(Earlier(old_id, c.clause_id, "", "", status, True))
            continue
        sentences = [s for ch in chunks for s in view.sentences(ch)]
        quote = _closest(sentences, c.quote) if sentences else ""
        changed = view.clause_text(f"{old_id}:{c.clause_id}") != view.clause_text(c.clause_key)
        out.append(Earlier(old_id, c.clause_id, chunks[0].label, quote, status, changed))
    return out


def earlier_lines(earlier: Sequence[Earlier], lexicon: Lexicon, lang: str) -> list[str]:
    """Answer lines for the clauses whose earlier wording differs (texts.toml)."""
    lines = []
    for e in earlier:
        if not e.changed:
            continue
        if not e.quote:
            lines.append(lexicon.text(lang, "earlier_missing", status=e.status, clause_id=e.clause_id))
        else:
            lines.append(lexicon.text(lang, "earlier_wording", status=e.status, clause_id=e.clause_id,
                                      quote=e.quote))
    return lines
