"""条文查阅 view-model: the clause tree, one clause, a clause-number jump and keyword search, as HTML.

Works on the retriever's in-memory view (no I/O per lookup), so each lookup takes milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

from index.models import Chunk, Document
from rag.normalize import normalize
from rag.verify import clause_span, lines_of
from ui.format import Span, citation_line, copy_box, esc, highlight_html, interp_html, keyword_spans, open_href


class View(Protocol):
    chunks: list[Chunk]
    sections: dict[str, str]
    by_clause: dict[str, list[Chunk]]

    def clause_text(self, key: str) -> str: ...

    def named(self, text: str, primary_doc: str) -> tuple[str | None, list[Chunk]]: ...


@lru_cache(maxsize=4096)
def search_fold(ch: str) -> str:
    """The app's normaliser per character (NFKC, 繁→简, case), so highlights map back to the text."""
    return "" if ch.isspace() else normalize(ch).casefold()


def clause_keys(chunks: Sequence[Chunk]) -> list[str]:
    """Distinct clause keys in document order."""
    return list(dict.fromkeys(c.clause_key for c in sorted(chunks, key=lambda c: (c.doc_id, c.order))))


def tree_html(chunks: Sequence[Chunk], documents: Mapping[str, Document], s: Mapping[str, str],
              primary_doc: str) -> str:
    """Every document as <details>, its clauses nested under their section headings, each a link."""
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in sorted(chunks, key=lambda c: c.order):
        if chunk.part == 1:
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
    order = sorted(set(by_doc) | set(documents), key=lambda d: (d != primary_doc, d))
    out = ['<div class="pqa-tree">']
    for doc_id in order:
        doc = documents.get(doc_id)
        title = doc.citation_title if doc else doc_id
        items = by_doc.get(doc_id)
        if not items:
            out.append(f'<div class="pqa-tree-doc pqa-missing">{esc(title)}<br>'
                       f'<small>{esc(s["metadata_only"])}</small></div>')
            continue
        out.append(f'<details class="pqa-tree-doc" open><summary>{esc(title)}</summary>')
        path: tuple[str, ...] = ()
        for chunk in items:
            common = 0
            while common < min(len(path), len(chunk.heading_path)) and path[common] == chunk.heading_path[common]:
                common += 1
            out += ["</details>"] * (len(path) - common)
            out += [f'<details open><summary>{esc(h)}</summary>' for h in chunk.heading_path[common:]]
            path = chunk.heading_path
            out.append(f'<a class="pqa-open pqa-leaf" href="{open_href(chunk.doc_id, chunk.clause_id)}">'
                       f'<span class="pqa-id">{esc(chunk.clause_id)}</span> {esc(chunk.label)}</a>')
        out += ["</details>"] * len(path)
        out.append("</details>")
    out.append("</div>")
    return "".join(out)


class Noter(Protocol):
    def note(self, key: str, lang: str = "zh") -> str: ...


class ClauseBrowser:
    """Lookups over one index view; `view_fn` is called per lookup so a re-index shows up at once.

    `documents` is the catalog by doc_id, or a function returning it (read per lookup, so a document
    added in 管理 gets its title at once); `notes` gives a clause's reviewed 解读, shown under its text.
    """

    def __init__(self, view_fn: Callable[[], Any],
                 documents: Mapping[str, Document] | Callable[[], Mapping[str, Document]], primary_doc: str,
                 notes: Noter | None = None) -> None:
        self.view_fn = view_fn
        self._documents = documents
        self.primary_doc = primary_doc
        self.notes = notes
        self._tree: tuple[tuple[Any, ...], str] | None = None

    @property
    def view(self) -> View:
        return self.view_fn()

    @property
    def documents(self) -> Mapping[str, Document]:
        return self._documents() if callable(self._documents) else self._documents

    def title(self, doc_id: str) -> str:
        doc = self.documents.get(doc_id)
        return doc.citation_title if doc else doc_id

    def tree(self, s: Mapping[str, str]) -> str:
        """The tree, rendered once per index generation, catalog and language (every page load asks for it)."""
        view, documents = self.view, self.documents
        key = (getattr(view, "name", id(view)), id(view.chunks), s.get("code"), s.get("metadata_only"),
               tuple((d, doc.citation_title) for d, doc in documents.items()))
        if self._tree is None or self._tree[0] != key:
            self._tree = key, tree_html(view.chunks, documents, s, self.primary_doc)
        return self._tree[1]

    def clause_html(self, key: str, s: Mapping[str, str], spans: Sequence[Span] = ()) -> str:
        """One clause: where it sits, label and id, text (hits marked), and its copyable citation."""
        view = self.view
        chunks = view.by_clause.get(key)
        if not chunks:
            return f'<div class="pqa-empty">{esc(s["not_found"])} {esc(key)}</div>'
        first, text = chunks[0], view.clause_text(key)
        crumbs = " › ".join(esc(p) for p in (self.title(first.doc_id), *first.heading_path))
        cite = citation_line(self.title(first.doc_id), first.label, first.clause_id)
        note = self.notes.note(key, s.get("code", "zh")) if self.notes is not None else ""
        extra = interp_html(note, s["interp_label"]) if note else ""
        return (f'<div class="pqa-clause-view" id="clause-{esc(key)}"><div class="pqa-path">{crumbs}</div>'
                f'<div class="pqa-clause-title">{esc(first.label)} <span class="pqa-id">【{esc(first.clause_id)}】'
                f'</span></div><div class="pqa-clause">{highlight_html(text, spans)}</div>{extra}'
                f'{copy_box(cite, s["copy_cite"])}</div>')

    def show(self, key: str, s: Mapping[str, str]) -> str:
        """A clause by its key (“sanmen:二(七)2”), as opened from a citation card or the tree; a card's
        link adds the citation's document offsets (“sanmen:二(七)2@4845-4889”), which are marked."""
        key, _, at = key.strip().partition("@")
        return self.clause_html(key, s, self.cited(key, at))

    def cited(self, key: str, at: str) -> list[Span]:
        """The clause-text span of document offsets “start-end”, when they lie inside the clause."""
        if not (m := re.fullmatch(r"(\d{1,9})-(\d{1,9})", at)):
            return []
        lines = lines_of((c.text, c.spans) for c in self.view.by_clause.get(key, []))
        span = clause_span(int(m[1]), int(m[2]), lines)
        return [span] if span else []

    def resolve(self, text: str) -> list[str]:
        """Clause keys a typed reference names: a key, a bare clause id, or any form parse_clause_ref reads."""
        view, text = self.view, text.strip()
        if text in view.by_clause:
            return [text]
        if f"{self.primary_doc}:{text}" in view.by_clause:
            return [f"{self.primary_doc}:{text}"]
        return clause_keys(view.named(text, self.primary_doc)[1])

    def jump(self, text: str, s: Mapping[str, str]) -> str:
        if not text.strip():
            return f'<div class="pqa-empty">{esc(s["pick_clause"])}</div>'
        keys = self.resolve(text)
        if not keys:
            return f'<div class="pqa-empty">{esc(s["not_found"])} {esc(text)}</div>'
        return "".join(self.clause_html(k, s) for k in keys)

    def search_keys(self, query: str) -> list[tuple[str, list[Span]]]:
        """(clause key, hit spans) for every clause containing all terms, in document order."""
        view = self.view
        hits = []
        for key in clause_keys(view.chunks):
            spans = keyword_spans(view.clause_text(key), query, search_fold)
            if spans:
                hits.append((key, spans))
        return hits

    def search(self, query: str, s: Mapping[str, str]) -> str:
        if not query.strip():
            return f'<div class="pqa-empty">{esc(s["pick_clause"])}</div>'
        hits = self.search_keys(query)
        if not hits:
            return f'<div class="pqa-empty">{esc(s["no_hits"])} “{esc(query)}”</div>'
        links = "、".join(f'<a class="pqa-open pqa-hit-id" href="{open_href(*key.split(":", 1))}">'
                         f'{esc(key.split(":", 1)[1])}</a>' for key, _ in hits)
        head = f'<div class="pqa-hits">{len(hits)} {esc(s["hits"])} “{esc(query)}”: {links}</div>'
        return head + "".join(self.clause_html(key, s, spans) for key, spans in hits)
