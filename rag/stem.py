"""English word stems for BM25 and coverage: “nationally” and “national” are one search token.

Why: English questions reach the Chinese clauses through English keys (interpretation_en,
phrasings_en, glossary terms), and people inflect (self-declaring / self-declaration, companies /
company). The stem is cut back to a prefix of the word itself (Snowball's company → compani
becomes compan), because coverage (rag.evidence.coverage) looks tokens up as substrings of the
raw text, so a token must stay something a reader's text actually contains.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version

import snowballstemmer

_SNOWBALL = snowballstemmer.stemmer("english")
RULE = "english-stem-prefix-v1"  # bump when english_stem changes: the index's BM25 artifact is refitted
VERSION = f"snowball-english-{version('snowballstemmer')}-{RULE}"  # part of rag.lexical.tokenizer_id


@lru_cache(maxsize=65536)
def english_stem(word: str) -> str:
    """The prefix of a lower-case ASCII `word` that its inflections share; other words unchanged."""
    if len(word) <= 3 or not (word.isascii() and word.isalpha()):
        return word
    stem = _SNOWBALL.stemWord(word)
    shared = next((i for i, (a, b) in enumerate(zip(stem, word, strict=False)) if a != b), min(len(stem), len(word)))
    prefix = word[:shared]
    if prefix.endswith("i") and prefix != word:  # Snowball's y → i (policy, policies → polic)
        prefix = prefix[:-1]
    return prefix if len(prefix) >= 3 else word
