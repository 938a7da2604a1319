"""The answerer's config: hand-set blend shares are read from answerer.toml, not written in code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import LexicalShares, load_config
from rag.evidence import blend
from rag.lexicon_files import LexiconError

LANGUAGE = Path(__file__).resolve().parents[1] / "corpus" / "language"


def _copy_with(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "language"
    shutil.copytree(LANGUAGE, target)
    path = target / "answerer.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_the_shipped_lexical_shares_are_the_documented_halves() -> None:
    assert load_config(LANGUAGE).lexical == LexicalShares(0.5, 0.5, 0.5)


def test_an_edited_share_in_answerer_toml_reaches_the_config(tmp_path: Path) -> None:
    language = _copy_with(tmp_path, "phrase_share = 0.5", "phrase_share = 0.8")
    assert load_config(language).lexical.phrase_share == 0.8


def test_an_unknown_key_in_the_lexical_section_is_an_error_naming_it(tmp_path: Path) -> None:
    language = _copy_with(tmp_path, "phrase_share = 0.5", "phrase_share = 0.5\nphrase_shares = 0.5")
    with pytest.raises(LexiconError, match=r"\[lexical\].*phrase_shares"):
        load_config(language)


def test_blend_weighs_the_second_source_by_its_share() -> None:
    assert blend(0.2, 1.0, 0.5) == pytest.approx(0.6)
    assert blend(0.2, 1.0, 0.0) == pytest.approx(0.2)
    assert blend(0.2, 1.0, 0.75) == pytest.approx(0.8)


def test_two_detail_kinds_with_one_name_are_an_error_naming_the_second() -> None:
    from rag.detail_kinds import load_details

    entry = {"name": "channel", "label": "方式", "asks": "怎么提", "states": "电话"}
    assert [k.name for k in load_details({"detail": [entry]})] == ["channel"]
    with pytest.raises(LexiconError, match=r"detail #2.*'channel'"):
        load_details({"detail": [entry, {**entry, "label": "另一种方式"}]})
