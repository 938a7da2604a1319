"""English stems: inflections share one search token, and the token stays text a reader can find."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.lexical import tokenizer_id
from rag.lexicon import Lexicon, load_lexicon
from rag.stem import english_stem

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return load_lexicon(ROOT / "corpus" / "language")


@pytest.mark.parametrize("words", [
    ("nationally", "national", "nation"),
    ("declaring", "declaration", "declared"),
    ("companies", "company"),
    ("policy", "policies"),
    ("engineers", "engineering", "engineer"),
    ("standards", "standardization", "standard"),
    ("trained", "training", "trains"),
])
def test_inflections_of_one_word_share_a_search_token(words: tuple[str, ...]) -> None:
    assert len({english_stem(w) for w in words}) == 1


@pytest.mark.parametrize("word", ["nationally", "companies", "policy", "standardization", "agreement", "tariff"])
def test_a_stem_is_a_prefix_of_its_word_so_substring_coverage_still_finds_it(word: str) -> None:
    assert word.startswith(english_stem(word))


@pytest.mark.parametrize("word", ["rcep", "2025", "tax", "企业标准总师", "1812", "e5"])
def test_short_words_numbers_and_chinese_are_left_alone(word: str) -> None:
    assert english_stem(word) == word


def test_different_words_keep_different_tokens() -> None:
    assert english_stem("standards") != english_stem("stance")
    assert english_stem("national") != english_stem("nature")


def test_the_bm25_tokens_of_an_english_question_are_stemmed_and_chinese_ones_are_not(lex: Lexicon) -> None:
    tokens = lex.tokenize("Which companies self-declaring their standards rank nationally? 企业标准自我声明公开")
    assert {"compan", "declar", "standard", "nation"} <= set(tokens)
    assert "企业标准" in tokens or "企业" in tokens


def test_the_tokenizer_id_names_the_stemmer_so_an_old_artifact_is_refitted(lex: Lexicon,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import stem

    before = tokenizer_id(lex)
    monkeypatch.setattr(stem, "VERSION", stem.VERSION + "-other")
    assert tokenizer_id(lex) != before
