"""jieba's dictionary from the data dir's npz copy (rag/segmenter.py): same tokens, damaged copies refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jieba
import pytest

from rag import segmenter

ROOT = Path(__file__).resolve().parents[1]
TEXT = "企业可以在产品包装上印二维码,扫码查看执行标准;培育企业标准总师10名以上。RCEP 领跑者"
# a fresh process: which loader ran, and the tokens of TEXT in both of jieba's modes
PROBE = ("import json, sys; from pathlib import Path; import jieba; from rag import segmenter; "
         "segmenter.configure(Path(sys.argv[1])); how = segmenter.ensure(); "
         "print(json.dumps([how, list(jieba.cut_for_search(sys.argv[2])), list(jieba.cut(sys.argv[2]))]))")


def _probe(cache_dir: Path) -> tuple[str, list[str], list[str]]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(cache_dir), TEXT], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    how, search, precise = json.loads(out.stdout.strip().splitlines()[-1])
    return how, search, precise


def test_the_copy_round_trips_the_table_and_refuses_damage() -> None:
    freq, total = {"标准": 3, "标准化": 2, "领跑者": 0}, 5
    assert segmenter.decode(segmenter.encode(freq, total)) == (freq, total)
    blob = segmenter.encode(freq, total)
    for bad in (blob[: len(blob) // 2], b"PK" + blob[2:40], segmenter.encode(freq, 0), b""):
        with pytest.raises(ValueError):
            segmenter.decode(bad)
    with pytest.raises(ValueError):
        segmenter.encode({"a\nb": 1}, 1)


def test_a_second_process_reads_the_copy_and_tokenises_identically(tmp_path: Path) -> None:
    first = _probe(tmp_path)
    assert first[0] == "jieba" and len(list(tmp_path.glob("jieba-*.npz"))) == 1  # written once
    second = _probe(tmp_path)
    assert second == ("copy", first[1], first[2])
    assert "二维码" in first[2] and "领跑者" in first[2]


def test_a_damaged_copy_falls_back_to_jiebas_loader_and_is_rewritten(tmp_path: Path) -> None:
    _probe(tmp_path)
    copy = next(tmp_path.glob("jieba-*.npz"))
    good = copy.read_bytes()
    copy.write_bytes(good[: len(good) // 3])
    how, search, _precise = _probe(tmp_path)
    assert how == "jieba" and "二维码" in search
    assert copy.read_bytes() == good  # rewritten whole
    assert _probe(tmp_path)[0] == "copy"


def test_the_copy_is_named_by_jiebas_version_and_dictionary(tmp_path: Path) -> None:
    name = segmenter.cache_path(tmp_path).name
    assert name.startswith(f"jieba-{jieba.__version__}-") and name.endswith(".npz")
