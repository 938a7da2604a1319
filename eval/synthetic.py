"""SYNTHETIC corpora for the scale benchmark: the opinion's own sentences under new clause numbering.

Nothing here is policy. Each document is assembled from sentences of the real opinion and is
written in its 一、/(一)/1. style so that `index.parse` reads it like the real one; the notice line,
title, catalog status and doc ids all say SYNTHETIC. Documents are deterministic (seeded by their
number) and a smaller corpus is a prefix of a larger one, so vectors cached for 20k chunks serve
1k and 5k too.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from index.build import load_corpus
from index.chunk import split_sentences
from index.parse import CN_NUM, clause_title
from index.settings import Settings

MARK = "SYNTHETIC"
DOC_PREFIX = "synthetic-"
SECTIONS = 8  # 一、… 八、
ITEMS = 5  # (一)… (五) under each section
NUMBERED = 6  # 1.… 6. under each item
MAX_CLAUSE_CHARS = 320  # stays under the 512-token chunk budget, so one clause = one chunk


@dataclass(frozen=True)
class Pool:
    """What synthetic documents are made of: the real opinion's sentences and headings."""

    sentences: tuple[str, ...]  # body sentences (each ends with its 。/;)
    titles: tuple[str, ...]  # short clause titles such as “加强关键技术领域标准布局”
    items: tuple[str, ...]  # item headings such as “推动标准化与科技创新互动融合”
    sections: tuple[str, ...]  # section headings such as “主要举措”


@dataclass(frozen=True)
class SyntheticCorpus:
    corpus_dir: Path
    documents: int
    clauses: int  # synthetic clauses (the real corpus's are extra)


def cn(n: int) -> str:
    """1..99 as Chinese numerals (一, 十, 十二, 二十三), as the documents number their sections."""
    digits = "零" + CN_NUM[:9]
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else digits[tens] + "十")
    return head + (digits[ones] if ones else "") if n else digits[0]


def build_pool(settings: Settings) -> Pool:
    """Sentences and headings of the real corpus (the notice's contact lines left out)."""
    _docs, clauses = load_corpus(settings)
    sentences, titles, items, sections = [], [], [], []
    for clause in clauses:
        if clause.clause_id == "公告":
            continue
        for s in split_sentences(clause.text.replace("\n", "")):
            s = s.strip()
            if 8 <= len(s) <= 150 and s != clause_title(clause.text) + "。":
                sentences.append(s)
        if title := clause_title(clause.text):
            titles.append(title)
        for heading in clause.heading_path:
            if m := re.match(rf"^[{CN_NUM}]+、(.+)$", heading):
                sections.append(m[1])
            elif m := re.match(rf"^\([{CN_NUM}]+\)(.+)$", heading):
                items.append(m[1])
    unique = lambda xs: tuple(dict.fromkeys(xs))  # noqa: E731 - order-preserving dedupe
    return Pool(unique(sentences), unique(titles), unique(items), unique(sections))


def _body(rng: random.Random, pool: Pool, title: str) -> str:
    text = f"{title}。"
    for s in rng.sample(pool.sentences, 3):
        if len(text) + len(s) > MAX_CLAUSE_CHARS:
            break
        text += s
    return text


def document_lines(number: int, pool: Pool, limit: int | None = None) -> tuple[list[str], int]:
    """The lines of synthetic document `number` and its clause count, cut after `limit` clauses.

    Layout: notice (公告) · title · opening (序言) · section 一 with items that are clauses themselves ·
    sections 二… with title-only items over numbered clauses. Cutting keeps whole clauses and never
    leaves a title-only item without its numbered clauses, so a cut document's clauses are exactly the
    first clauses of the full one.
    """
    rng = random.Random(f"policyqa-{MARK}-{number}")
    lines = [
        f"【{MARK}】本文件由 policyqa 性能基准自动合成(第{number}号):由原实施意见的句子重新编号拼接,不是政策文件。",
        f"关于标准化工作的合成测试实施意见({MARK} {number:04d})",
        "".join(rng.sample(pool.sentences, 2)),
    ]
    count, cap = 2, limit if limit is not None else 1 << 30
    for sec in range(1, SECTIONS + 1):
        if count >= cap:
            break
        lines.append(f"{cn(sec)}、{rng.choice(pool.sections)}")
        for item in range(1, ITEMS + 1):
            if count >= cap:
                break
            heading = rng.choice(pool.items)
            if sec == 1:
                lines.append(f"({cn(item)}){_body(rng, pool, heading)}")
                count += 1
                continue
            lines.append(f"({cn(item)}){heading}。")
            for n in range(1, NUMBERED + 1):
                if count >= cap:
                    break
                lines.append(f"{n}.{_body(rng, pool, rng.choice(pool.titles))}")
                count += 1
    return lines, count


def write_corpus(target: Path, base: Settings, synthetic_clauses: int) -> SyntheticCorpus:
    """A copy of the real corpus plus SYNTHETIC documents holding `synthetic_clauses` clauses."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base.corpus_dir, target)
    pool = build_pool(base)
    catalog_path = target / "catalog.toml"
    catalog = tomlkit.parse(catalog_path.read_text(encoding="utf-8"))
    entries = catalog.setdefault("document", tomlkit.aot())
    number, made = 0, 0
    while made < synthetic_clauses:
        number += 1
        lines, count = document_lines(number, pool, synthetic_clauses - made)
        made += count
        name = f"{DOC_PREFIX}{number:04d}.txt"
        data = ("\n".join(lines) + "\n").encode("utf-8")
        (target / name).write_bytes(data)
        entry = tomlkit.table()
        entry.update({
            "doc_id": f"{DOC_PREFIX}{number:04d}",
            "title": f"关于标准化工作的合成测试实施意见({MARK} {number:04d})",
            "issuer": f"{MARK}: policyqa bench",
            "status": f"{MARK} (benchmark only, not a policy)",
            "source": "eval/synthetic.py: sentences of the Sanmen opinion, renumbered",
            "cites": [],
            "path": name,
            "sha256": hashlib.sha256(data).hexdigest(),
        })
        entries.append(entry)
    catalog_path.write_text(tomlkit.dumps(catalog), encoding="utf-8")
    return SyntheticCorpus(target, number, made)
