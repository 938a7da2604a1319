"""The lexical state of an index generation: fitted once by `policyqa index`, restored by every reader.

Fitting — jieba over every chunk and key, BM25 (bm25s), idf, the boilerplate lines and the clause
text rare terms are counted in — plus reading every chunk from Chroma is what made opening a
20k-chunk generation take 10–25 s. `write_artifact` fits it when a generation is built and stores
it with the chunks beside the generation in Chroma (index/lexical_cache.py says why there).
`restore` checks an artifact against the collection (generation, record count, ids) and against the
reader's own tokenizer; what does not match is read and fitted here instead, with the reason, so a
reader never serves a state that disagrees with its collection, and a bad artifact only costs time.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import bm25s
import jieba

from index.chunk import split_sentences
from index.lexical_cache import (
    FORMAT,
    ArtifactError,
    LexicalState,
    decode,
    encode,
    fingerprint,
    ids_digest,
    key_digest,
    text_digest,
)
from index.models import Chunk, Document, Key
from index.parse import clause_title
from rag import stem
from rag.lexicon import Lexicon
from rag.normalize import HAN

if TYPE_CHECKING:
    from index.store import Store

FITTED = "fitted"
ARTIFACT = "artifact"


def tokenizer_id(lexicon: Lexicon) -> str:
    """Everything BM25 tokens depend on besides the text (Lexicon.tokenize: jieba, stopwords, English stems)."""
    return text_digest([FORMAT, jieba.__version__, bm25s.__version__, stem.VERSION, *sorted(lexicon.stopwords)])


def boilerplate_id(lexicon: Lexicon, names: Sequence[str]) -> str:
    pats = (lexicon.boilerplate_date, lexicon.boilerplate_labels)
    return text_digest([FORMAT, *(f"{p.pattern}\x01{p.flags}" for p in pats), *sorted({n for n in names if n})])


def catalog_names(docs: Sequence[Document]) -> tuple[str, ...]:
    """The `names` rag.chain.Assistant gives its view: titles, places and organisations of the catalog."""
    return tuple(n for d in docs for n in (d.title, d.jurisdiction, *d.organisations) if n)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in split_sentences(text) if len(s.strip()) >= 2]


def _bm25(docs: list[list[str]]) -> bm25s.BM25 | None:
    if not docs:
        return None
    index = bm25s.BM25()
    index.index(docs, show_progress=False)
    return index


def fit_chunks(chunks: Sequence[Chunk], lexicon: Lexicon) -> tuple[bm25s.BM25 | None, dict[str, float]]:
    """BM25 over the chunks' embed texts (row i = chunks[i]) and each token's idf."""
    tokens = [lexicon.tokenize(c.embed_text) for c in chunks]
    df = Counter(t for toks in tokens for t in set(toks))
    n = max(len(chunks), 1)
    return _bm25(tokens), {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}


def group_keys(keys: Sequence[Key]) -> tuple[list[str], dict[str, str]]:
    """Clause keys in order of first appearance, and each one's key texts joined."""
    grouped: dict[str, list[str]] = {}
    for key in keys:
        grouped.setdefault(key.clause_key, []).append(key.text)
    return list(grouped), {k: "\n".join(v) for k, v in grouped.items()}


def fit_keys(keys: Sequence[Key], lexicon: Lexicon) -> tuple[bm25s.BM25 | None, frozenset[str]]:
    """BM25 over each clause's plain-language keys (row i = group_keys' clause i) and their vocabulary."""
    clauses, texts = group_keys(keys)
    tokens = [lexicon.tokenize(texts[k]) for k in clauses]
    return _bm25(tokens), frozenset(t for toks in tokens for t in toks)


def find_boilerplate(chunks: Sequence[Chunk], lexicon: Lexicon, names: Sequence[str]) -> frozenset[str]:
    """Lines that hold only names of the catalog, a date or a document label (signature, date lines)."""
    longest_first = sorted({n for n in names if n}, key=lambda n: (-len(n), n))
    found = set()
    for chunk in chunks:
        for sentence in sentences(chunk.text):
            rest = lexicon.boilerplate_date.sub("", sentence)
            rest = lexicon.boilerplate_labels.sub("", rest)
            for name in longest_first:
                rest = rest.replace(name, "")
            if len(HAN.findall(rest)) < 2 and not re.search(r"\d{5,}|@", rest):
                found.add(sentence)
    return frozenset(found)


def is_boilerplate(sentence: str, chunk: Chunk | None, boilerplate: frozenset[str]) -> bool:
    """A boilerplate line, or the line that is only the clause's own title."""
    return sentence in boilerplate or bool(chunk and sentence.rstrip("。") == clause_title(chunk.text))


def clause_content(chunks: Sequence[Chunk], boilerplate: frozenset[str]) -> dict[str, str]:
    """Clause key → its text without boilerplate lines (what rare terms are counted in)."""
    out: dict[str, str] = {}
    for chunk in chunks:
        kept = [s for s in sentences(chunk.text) if not is_boilerplate(s, chunk, boilerplate)]
        out[chunk.clause_key] = out.get(chunk.clause_key, "") + "".join(kept)
    return out


def fit(generation: str, chunks: Sequence[Chunk], keys: Sequence[Key], lexicon: Lexicon, names: Sequence[str],
        *, ids: Sequence[str] = (), boilerplate: bool = True) -> LexicalState:
    """The whole state from the text (boilerplate=False leaves those lines to be found on first need).

    `ids` are the collection's record ids, which a reader compares (empty when there is no collection).
    """
    bm25, idf = fit_chunks(chunks, lexicon)
    key_bm25, key_vocab = fit_keys(keys, lexicon)
    lines = find_boilerplate(chunks, lexicon, names) if boilerplate else None
    return LexicalState(generation, tuple(chunks), ids_digest(ids), len(ids), tokenizer_id(lexicon), bm25, idf,
                        key_digest(keys), key_bm25, key_vocab, boilerplate_id(lexicon, names), lines,
                        None if lines is None else clause_content(chunks, lines))


def _verified(blob: bytes | None, generation: str, records: tuple[int, str],
              lexicon: Lexicon) -> tuple[LexicalState | None, str]:
    """The decoded artifact when it describes this collection (cheapest checks first); else None and why."""
    if not blob:
        return None, "no artifact for this generation" if blob is None else "empty artifact"
    try:
        state = decode(blob)
    except ArtifactError as exc:
        return None, f"artifact {exc}"
    if state.generation != generation:
        return None, f"artifact is for generation {state.generation}"
    count, digest = records
    if state.records != count:
        return None, f"artifact lists {state.records} records, the collection holds {count}"
    if state.tokenizer != tokenizer_id(lexicon):
        return None, "artifact was tokenised with other stopwords or library versions"
    if state.ids != digest:
        return None, "artifact lists other records than the collection"
    return state, ""


def restore(blob: bytes | None, generation: str, records: tuple[int, str], keys: Sequence[Key], lexicon: Lexicon,
            names: Sequence[str], read_chunks: Callable[[], list[Chunk]]) -> tuple[LexicalState, str]:
    """The state to serve and how it was obtained: "artifact", "artifact (… refitted)" or "fitted: <why>".

    `read_chunks` reads the generation's chunks from the store: called only when the artifact cannot be used.
    """
    state, why = _verified(blob, generation, records, lexicon)
    if state is None:
        chunks = read_chunks()
        fitted = fit(generation, chunks, keys, lexicon, names, ids=[c.chunk_id for c in chunks], boilerplate=False)
        return fitted, f"{FITTED}: {why}"
    notes = []
    rows = state.key_bm25.scores["num_docs"] if state.key_bm25 is not None else 0
    if state.key_digest != key_digest(keys) or rows != len(group_keys(keys)[0]):
        key_bm25, key_vocab = fit_keys(keys, lexicon)
        state = replace(state, key_digest=key_digest(keys), key_bm25=key_bm25, key_vocab=key_vocab)
        notes.append("keys refitted")
    if state.boilerplate_id != boilerplate_id(lexicon, names):
        state = replace(state, boilerplate_id=boilerplate_id(lexicon, names), boilerplate=None, content=None)
        notes.append("boilerplate found on first need")
    return state, ARTIFACT + (f" ({', '.join(notes)})" if notes else "")


def write_artifact(store: Store, generation: str, lexicon: Lexicon, names: Sequence[str], *, plain_layer: bool,
                   only_if_stale: bool = False) -> str:
    """Fit `generation` as a reader will read it (chunks and keys back from the store) and store it.

    Returns "written", or "current" when `only_if_stale` and the stored artifact already fits in full.
    """
    ids = store.ids(generation)
    keys = store.keys(generation) if plain_layer else []
    if only_if_stale:
        state, _why = _verified(store.artifact(generation), generation, fingerprint(ids), lexicon)
        if state is not None and state.boilerplate is not None and state.key_digest == key_digest(keys) \
                and state.boilerplate_id == boilerplate_id(lexicon, names):
            return "current"
    state = fit(generation, store.chunks(generation), keys, lexicon, names, ids=ids)
    store.put_artifact(generation, encode(state))
    return "written"
