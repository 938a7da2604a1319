"""One index generation held in memory: chunks, BM25 over chunks and over plain-language keys,
the numbering (sections, items), boilerplate lines and the term statistics the chain needs.

Opened once per generation (never per query): `open` restores the chunks and the lexical state from
the generation's artifact when it verifies against the collection (rag/lexical.py), else reads the
chunks from the store and fits it; `build` always fits. Pure otherwise.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import bm25s
import numpy as np

from index.embed import row_dots
from index.lexical_cache import LexicalState
from index.models import Chunk, Key
from index.parse import CN_NUM
from rag.lexical import (
    FITTED,
    clause_content,
    find_boilerplate,
    fit,
    group_keys,
    is_boilerplate,
    restore,
    sentences,
)
from rag.lexicon import Lexicon
from rag.normalize import HAN, clause_inside, parse_clause_ref, scoped_clause

log = logging.getLogger(__name__)
_SECTION = re.compile(rf"^([{CN_NUM}]+)、(.+)$")
_ITEM = re.compile(rf"^\(([{CN_NUM}]+)\)(.+)$")
# the title part of a label, tried in order: after “——”, after “2.”, after “(一)” (compiled once: a replica
# reads every label of a 20k-chunk generation when it opens)
_TITLE = tuple(re.compile(p) for p in (r"——\s*(.+)$", r"\d\.(.+)$", r"\)([^)]+)$"))
_LATIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*[A-Za-z0-9]|[A-Za-z0-9]")
_QUOTED = re.compile(r"[“\"'‘「《]([^”\"'’」》]{2,20})[”\"'’」》]")


class GenerationSource(Protocol):
    """What `IndexView.open` reads (index.store.Store)."""

    def records(self, name: str) -> tuple[int, str]: ...

    def chunks(self, name: str) -> list[Chunk]: ...

    def artifact(self, name: str) -> bytes | None: ...


@dataclass
class IndexView:
    """Everything a query needs from one index generation."""

    name: str
    chunks: list[Chunk]
    lexicon: Lexicon
    names: tuple[str, ...] = ()  # titles, organisations and places of the catalog (boilerplate, not topics)
    keys: list[Key] = field(default_factory=list)
    key_matrix: np.ndarray | None = None  # unit vectors of `keys`, row for row (searched in memory)
    bm25: bm25s.BM25 | None = None
    idf: dict[str, float] = field(default_factory=dict)
    key_bm25: bm25s.BM25 | None = None
    key_clauses: list[str] = field(default_factory=list)  # clause key of each key document
    key_text: dict[str, str] = field(default_factory=dict)  # clause key → all its key texts
    key_vocab: frozenset[str] = frozenset()
    sections: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # a clause's own title → its id (优化标准供给结构 → 二(七)2)
    by_clause: dict[str, list[Chunk]] = field(default_factory=dict)
    lexical: str = FITTED  # how the lexical state came: "fitted: <why>" here, or "artifact" (rag/lexical.py)
    fitted_boilerplate: frozenset[str] | None = None  # from the artifact; else found on first need
    fitted_content: dict[str, str] | None = None  # likewise: the rare-term text of each clause
    _word_cache: dict[tuple[str, bool], frozenset[str]] = field(default_factory=dict, repr=False)
    _writes_cache: dict[str, bool] = field(default_factory=dict, repr=False)
    _order_cache: dict[str | None, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, name: str, chunks: list[Chunk], lexicon: Lexicon,
              keys: list[tuple[Key, list[float]]] | None = None, names: tuple[str, ...] = ()) -> IndexView:
        """The view fitted from `chunks` and `keys` (tokenised here)."""
        pairs = list(keys or [])
        state = fit(name, chunks, [k for k, _v in pairs], lexicon, names, boilerplate=False)
        return cls._assemble(name, chunks, lexicon, pairs, names, state, FITTED)

    @classmethod
    def open(cls, source: GenerationSource, name: str, lexicon: Lexicon,
             keys: list[tuple[Key, list[float]]] | None = None, names: tuple[str, ...] = ()) -> IndexView:
        """Generation `name` from `source`, its lexical state from its artifact when that verifies."""
        started = time.perf_counter()
        pairs = list(keys or [])
        try:
            blob = source.artifact(name)
        except Exception as exc:  # a damaged record is the artifact's problem, never the reader's
            log.warning("index %s: cannot read its lexical artifact (%s)", name, exc)
            blob = None
        state, how = restore(blob, name, source.records(name), [k for k, _v in pairs], lexicon, names,
                             lambda: source.chunks(name))
        if how.startswith(FITTED):
            log.warning("index %s: lexical state %s; `policyqa index` writes the artifact", name, how)
        view = cls._assemble(name, list(state.chunks), lexicon, pairs, names, state, how)
        log.info("index %s opened: %d chunks, lexical state %s, %.2f s", name, len(view.chunks),
                 how.split(":")[0], time.perf_counter() - started)
        return view

    @classmethod
    def _assemble(cls, name: str, chunks: list[Chunk], lexicon: Lexicon, pairs: list[tuple[Key, list[float]]],
                  names: Sequence[str], state: LexicalState, how: str) -> IndexView:
        view = cls(name, chunks, lexicon, tuple(n for n in names if n), [k for k, _v in pairs],
                   bm25=state.bm25, idf=state.idf, key_bm25=state.key_bm25, key_vocab=state.key_vocab,
                   lexical=how, fitted_boilerplate=state.boilerplate, fitted_content=state.content)
        if pairs and all(v is not None and len(v) for _k, v in pairs):
            matrix = np.asarray([v for _k, v in pairs], dtype=np.float32)
            view.key_matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        view.key_clauses, view.key_text = group_keys(view.keys)
        for chunk in chunks:
            view.by_clause.setdefault(chunk.clause_key, []).append(chunk)
            if title := _title_of(chunk.label):
                view.titles.setdefault(title, chunk.clause_id)
            path = chunk.heading_path
            if path and (m := _SECTION.match(path[0])):
                view.sections.setdefault(m[2], m[1])
                if len(path) > 1 and (i := _ITEM.match(path[1])):
                    view.items.setdefault(i[2], f"{m[1]}({i[1]})")
        return view

    @cached_property
    def by_id(self) -> dict[str, Chunk]:
        """chunk_id → chunk, built once per generation (per question it cost 20 ms at 20k chunks)."""
        return {c.chunk_id: c for c in self.chunks}

    @cached_property
    def corpus_text(self) -> str:
        """All chunk text of this generation, joined once."""
        return "".join(c.text for c in self.chunks)

    def idf_of(self, token: str) -> float:
        """Unseen tokens weigh like the rarest seen ones: they are what the corpus lacks."""
        return self.idf.get(token, math.log(1 + (len(self.chunks) + 0.5) / 0.5))

    def known(self, token: str) -> bool:
        """A word the corpus or its plain-language layer uses."""
        return token in self.idf or token in self.key_vocab

    def clause_text(self, key: str) -> str:
        return "".join(c.text for c in self.by_clause.get(key, []))

    def sentences(self, chunk: Chunk) -> list[str]:
        return sentences(chunk.text)

    # --- boilerplate: signature, date, attachment and heading lines ---

    def is_boilerplate(self, sentence: str, chunk: Chunk | None = None) -> bool:
        """A line that holds only names of the catalog, a date, a document label or the clause's title."""
        return is_boilerplate(sentence, chunk, self._boilerplate)

    @cached_property
    def _boilerplate(self) -> frozenset[str]:
        if self.fitted_boilerplate is not None:
            return self.fitted_boilerplate
        return find_boilerplate(self.chunks, self.lexicon, self.names)

    @cached_property
    def content(self) -> dict[str, str]:
        """Clause key → its text without boilerplate lines (what rare terms are counted in)."""
        if self.fitted_content is not None:
            return self.fitted_content
        return clause_content(self.chunks, self._boilerplate)

    @cached_property
    def _content_lower(self) -> str:
        return "\n".join(self.content.values()).lower()

    @cached_property
    def _clauses_lower(self) -> dict[str, str]:
        """`content` lower-cased once (not per question term: 20k clauses made that 80 ms a question)."""
        return {k: text.lower() for k, text in self.content.items()}

    def writes(self, phrase: str) -> bool:
        """Whether the corpus's clauses hold `phrase` verbatim (case-insensitive); remembered per phrase
        (a scan of a large corpus costs milliseconds; the callers ask pairs of the lexicon's general
        words only, so the memory is bounded)."""
        key = phrase.lower()
        if key not in self._writes_cache:
            self._writes_cache[key] = key in self._content_lower
        return self._writes_cache[key]

    def generic_phrases(self, text: str) -> list[str]:
        """The phrases of two general words that the corpus writes together (企业+标准 → 企业标准): a topic
        although each word alone is none (a one-character word, 县+标准化, only qualifies the other)."""
        generic, shortest = self.lexicon.generic, self.lexicon.topic_min_chars
        return [a + b for a, b in itertools.pairwise(self.lexicon.words(text))
                if min(len(a), len(b)) >= shortest and a in generic and b in generic and self.writes(a + b)]

    def rare_terms(self, question: str, max_df: int, min_han: int, min_latin: int,
                   min_digits: int = 3, exclude: frozenset[str] = frozenset(),
                   compounds: bool = False) -> dict[str, list[str]]:
        """Question terms that are words of at most `max_df` clauses → those clauses (RCEP, 领跑者, 1812).

        Candidates are the question's words, pairs of adjacent words (揭榜+挂帅) and anything it
        quotes; a candidate counts only where the clause has it as a word of its own (as segmented,
        or quoted “…” there), so “标准是” or “的标准化” never do; with `compounds` also two or three adjacent
        words the clause has adjacent too (“企业标准总师出现在哪几处”: 企业+标准+总师), which asking where a term
        is mentioned needs, though as a retrieval pin it steers too many questions. Everyday words, catalog
        names and years never count.
        """
        words = self.lexicon.words(question)
        candidates = set(words) | {a + b for a, b in itertools.pairwise(words)}
        candidates |= set(_QUOTED.findall(question))
        if compounds:  # 企业+标准+总师: the whole, which then subsumes 企业标准 and 标准总师
            candidates |= {a + b + c for a, b, c in zip(words, words[1:], words[2:], strict=False)}
        found: dict[str, list[str]] = {}
        everything = self._content_lower
        for term in candidates:
            han = len(HAN.findall(term))
            digits = term.isdigit()
            latin = bool(_LATIN.fullmatch(term)) and len(term) >= (min_digits if digits else min_latin)
            if not (han >= min_han or latin or (han >= 2 and term in _QUOTED.findall(question))):
                continue
            if term.lower() in self.lexicon.stopwords or term in self.lexicon.generic or \
                    self.lexicon.not_rare.search(term) or any(term in n for n in self.names):
                continue
            if term.lower() not in everything:
                continue
            clauses = [k for k, text in self._clauses_lower.items()
                       if term.lower() in text and k.split(":", 1)[0] not in exclude]
            if 0 < len(clauses) <= max_df and any(term.lower() in self._words_of(k, compounds) for k in clauses):
                found[term] = clauses
        # a longer term subsumes the shorter ones it contains (“冲锋衣示范” vs “冲锋衣”)
        return {t: c for t, c in found.items() if not any(t != o and t in o for o in found)}

    def _words_of(self, clause_key: str, compounds: bool = False) -> frozenset[str]:
        """The clause's own words (segmented once, on first need) and the terms it quotes; with `compounds`,
        also two or three adjacent words of two or more characters, none a stopword (企业+标准+总师, 融资+增信),
        as a question's words form such a compound only where the clause segments it the same way."""
        key = (clause_key, compounds)
        if key not in self._word_cache:
            text = self.content.get(clause_key, "")
            segmented = [w.lower() for w in self.lexicon.words(text)]
            words = set(segmented) | {q.lower() for q in _QUOTED.findall(text)}
            if compounds:
                content = [w if len(w) >= 2 and w not in self.lexicon.stopwords else "" for w in segmented]
                words |= {a + b for a, b in itertools.pairwise(content) if a and b}
                words |= {a + b + c for a, b, c in zip(content, content[1:], content[2:], strict=False)
                          if a and b and c}
            self._word_cache[key] = frozenset(words)
        return self._word_cache[key]

    # --- clause references ---

    def named(self, text: str, primary_doc: str,
              exclude: frozenset[str] = frozenset()) -> tuple[str | None, list[Chunk]]:
        """The clause reference a text makes (by number, section or item title) and its chunks."""
        ref = parse_clause_ref(text, self.lexicon.references, self.sections, self.items, self.titles,
                               self.clause_order(primary_doc))
        return ref, (self.lookup(ref, primary_doc, exclude) if ref else [])

    def clause_order(self, doc_id: str | None = None) -> tuple[str, ...]:
        """The clause ids of one document (of all, document after document) in reading order; built once per
        view, as every question with a reference or a follow-up asks it and a view's chunks never change."""
        if doc_id not in self._order_cache:
            self._order_cache[doc_id] = tuple(dict.fromkeys(c.clause_id for c in self.chunks
                                                            if doc_id is None or c.doc_id == doc_id))
        return self._order_cache[doc_id]

    def following(self, clause_id: str) -> str | None:
        """The clause after `clause_id` (after the last clause inside it, for an item named whole: 二(七) → 三(一))
        in the first document that has it; None after a document's last clause."""
        for doc_id in dict.fromkeys(c.doc_id for c in self.chunks):
            order = self.clause_order(doc_id)
            at = [i for i, c in enumerate(order) if c == clause_id or clause_inside(c, clause_id)]
            if at:
                return order[at[-1] + 1] if at[-1] + 1 < len(order) else None
        return None

    def scope(self, text: str, items: bool = False) -> str | None:
        """The clause (or section: “保障措施里”) a text asks within by a piece of its title (“先进制造业那部分”),
        or None; with `items` also an item of clauses (“绿色发展那部分下面有几条”): too broad to keep an answer
        within."""
        named = {**self.sections, **self.items, **self.titles} if items else {**self.sections, **self.titles}
        return scoped_clause(text, self.lexicon.references, named)

    def lookup(self, ref: str, primary_doc: str, exclude: frozenset[str] = frozenset()) -> list[Chunk]:
        """Chunks of the clause(s) a parsed reference names, primary document first (superseded ones never)."""
        candidates = [ref]
        if m := re.match(r"^(.+\))(\d)$", ref):
            candidates.append(f"{m[1]}-{m[2]}")  # “总体要求第二条第4项” → 一(二)-4
        docs = sorted({c.doc_id for c in self.chunks} - exclude, key=lambda d: d != primary_doc)
        for doc_id in docs:
            for cand in candidates:
                exact = self.by_clause.get(f"{doc_id}:{cand}")
                if exact and re.search(r"\d$", cand):
                    return exact
                inside = [c for c in self.chunks
                          if c.doc_id == doc_id and (c.clause_id == cand or clause_inside(c.clause_id, cand))]
                if inside:
                    return inside
        return []

    def key_search(self, vector: list[float] | tuple[float, ...], n: int) -> list[tuple[Key, float]]:
        """The `n` keys nearest to `vector` by cosine (an in-memory product: keys are few)."""
        if self.key_matrix is None or not len(vector) or n <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32)
        sims = row_dots(self.key_matrix, q / max(float(np.linalg.norm(q)), 1e-12))
        top = np.argsort(-sims)[:n]
        return [(self.keys[i], float(sims[i])) for i in top]

    # --- lexical scoring ---

    def bm25_scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self.idf]
        if self.bm25 is None or not known:
            return np.zeros(len(self.chunks))
        return np.asarray(self.bm25.get_scores(known), dtype=float)

    def key_bm25_scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self.key_vocab]
        if self.key_bm25 is None or not known:
            return np.zeros(len(self.key_clauses))
        return np.asarray(self.key_bm25.get_scores(known), dtype=float)


def _title_of(label: str) -> str:
    """The title part of a clause label: after “——”, after “2.”, or after “(一)”."""
    for pattern in _TITLE:
        if m := pattern.search(label):
            return m[1].strip()
    return ""
