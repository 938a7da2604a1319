"""One chunk per clause; long clauses split at sentence ends and keep their clause id."""

from __future__ import annotations

from index.chunk import chunk_clauses, count_tokens, split_sentences
from index.parse import parse_document


def test_default_budget_gives_one_chunk_per_clause(seed_text: str) -> None:
    clauses = parse_document("sanmen", seed_text)
    chunks = chunk_clauses(clauses, 512)
    assert [c.clause_id for c in chunks] == [c.clause_id for c in clauses]
    assert all(c.n_parts == 1 and c.chunk_id == f"sanmen:{c.clause_id}" for c in chunks)


def test_clause_over_budget_splits_at_sentence_ends_into_numbered_parts(seed_text: str) -> None:
    clause = next(c for c in parse_document("sanmen", seed_text) if c.clause_id == "二(七)2")
    chunks = chunk_clauses([clause], 80)
    assert len(chunks) > 1
    assert [c.part for c in chunks] == list(range(1, len(chunks) + 1))
    assert [c.chunk_id for c in chunks][:2] == ["sanmen:二(七)2#1", "sanmen:二(七)2#2"]
    assert "".join(c.text for c in chunks) == clause.text  # nothing lost, nothing repeated
    for chunk in chunks:
        assert chunk.clause_id == "二(七)2"
        assert chunk.text.endswith(("。", ";", "；"))  # cut at a sentence end
        assert count_tokens(chunk.text) <= 80


def test_embedded_text_carries_the_heading_path(seed_text: str) -> None:
    clause = next(c for c in parse_document("sanmen", seed_text) if c.clause_id == "二(七)2")
    (chunk,) = chunk_clauses([clause], 512)
    assert chunk.embed_text.startswith("二、主要举措 / (七)全面深化标准化改革创新 / 二、(七)2.优化标准供给结构\n")
    assert chunk.embed_text.endswith(clause.text)


def test_sentence_splitter_keeps_chinese_punctuation_and_round_trips() -> None:
    text = "第一句。第二句;第三句!第四句?尾巴"
    assert split_sentences(text) == ["第一句。", "第二句;", "第三句!", "第四句?", "尾巴"]
    assert "".join(split_sentences(text)) == text
