"""The office's documents: preview a file's parse, then add, replace or remove it (管理 and `policyqa corpus`).

`preview_text` is pure: the clause tree with ids, the share of the text that fell into clauses, and
warnings (paragraphs that matched no numbering, lines that look numbered but are not read as such,
duplicate ids, empty clauses, no structure at all). `add` and `remove` write the corpus: every check
runs before anything is written, the text file gets a name no catalog entry uses, and the catalog is
replaced in one `os.replace` (the commit point), so a failure or a crash leaves the old catalog and
every file it lists intact. Writers take turns on a lock held on the corpus directory itself (no lock
file in the corpus). The index is rebuilt separately (`index.build.build_index`, atomic as well).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tomlkit

from index.atomic import write_atomic
from index.catalog import (
    _DOC_ID,
    CATALOG_NAME,
    FORMATS,
    CorpusError,
    check_versions,
    load_bytes,
    load_catalog,
    superseded_by,
)
from index.models import Clause, Document
from index.parse import parse_document

STATUSES = ("征求意见稿", "正式稿", "已印发", "已废止")  # 管理 offers the first, second and last
META_FIELDS = ("title", "issuer", "number", "date", "status", "source", "supersedes")
MAX_FIELD = 300
_LOOKS_NUMBERED = re.compile(r"^(?:\d{1,2}[、)）]|[(（]\d{1,2}[)）]|第[一二三四五六七八九十百零]+[条章节款]|"
                             r"[一二三四五六七八九十]+[.．,，]|[①-⑳]|[A-Za-z][.、)])")


@dataclass(frozen=True)
class Finding:
    """One warning of a preview: `kind` unnumbered | looks_numbered | duplicate | empty | no_structure."""

    kind: str
    message: str
    clause_id: str = ""


@dataclass(frozen=True)
class ClauseRow:
    clause_id: str
    label: str
    heading_path: tuple[str, ...]
    chars: int
    text: str


@dataclass(frozen=True)
class Preview:
    doc_id: str
    chars: int  # non-space characters of the text
    coverage: float  # share of them that lie in clauses (headings and the title line do not)
    clauses: tuple[ClauseRow, ...]
    warnings: tuple[Finding, ...]
    errors: tuple[str, ...] = ()  # any error blocks the write
    action: str = ""  # new | attach | replace (against the catalog)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}


@dataclass(frozen=True)
class Meta:
    """What the office states about a document; empty fields keep the catalog's value."""

    doc_id: str
    title: str = ""
    issuer: str = ""
    number: str = ""
    date: str = ""
    status: str = ""
    source: str = ""
    supersedes: str = ""
    replace: bool = False

    def values(self) -> dict[str, str]:
        return {k: str(getattr(self, k)).strip() for k in META_FIELDS if str(getattr(self, k)).strip()}


def _solid(text: str) -> int:
    return sum(not ch.isspace() for ch in text)


def preview_text(doc_id: str, text: str) -> Preview:
    """The parse of `text` as the index would see it, with what an officer should look at (pure)."""
    clauses = parse_document(doc_id, text)
    covered = sum(_solid(text[s.start:s.end]) for c in clauses for s in c.spans)
    total = _solid(text)
    rows = tuple(ClauseRow(c.clause_id, c.label, c.heading_path, _solid(c.text), c.text) for c in clauses)
    errors = () if clauses else ("no clauses found: the text is empty",)
    return Preview(doc_id, total, round(covered / total, 4) if total else 0.0, rows, tuple(findings(clauses, text)),
                   errors)


def findings(clauses: list[Clause], text: str) -> Iterator[Finding]:
    if clauses and all(c.clause_id.startswith("¶") for c in clauses):
        yield Finding("no_structure", f"没有识别到 一、/(一)/1./—— 编号,全文按段落切成 {len(clauses)} 段 (¶1…) / "
                                      "no numbering recognised: one clause per paragraph")
    for clause_id, n in Counter(c.clause_id for c in clauses).items():
        if n > 1:
            yield Finding("duplicate", f"条款号 {clause_id} 出现 {n} 次,引用会混淆 / clause id used {n} times",
                          clause_id)
    for c in clauses:
        if not c.text.strip():
            yield Finding("empty", f"【{c.clause_id}】没有正文 / empty clause", c.clause_id)
        lines = [text[s.start:s.end] for s in c.spans]
        for i, line in enumerate(lines):
            if _LOOKS_NUMBERED.match(line):
                yield Finding("looks_numbered", f"“{line[:30]}”像是编号,但不是 一、/(一)/1./—— 格式,已作为"
                                                f"【{c.clause_id}】的正文 / looks numbered but was read as text",
                              c.clause_id)
            elif i > 0 and c.clause_id not in ("公告", "序言") and not c.clause_id.startswith("¶"):
                yield Finding("unnumbered", f"无编号段落“{line[:30]}”并入【{c.clause_id}】/ unnumbered paragraph "
                                            "joined to the clause above", c.clause_id)


def preview_upload(corpus_dir: Path, meta: Meta, filename: str, data: bytes) -> Preview:
    """Read the bytes as the named format, parse them, and check the metadata against the catalog."""
    problems = list(meta_problems(corpus_dir, meta))
    try:
        preview = preview_text(meta.doc_id or "new", load_bytes(filename, data))
    except CorpusError as exc:
        return Preview(meta.doc_id, 0, 0.0, (), (), (*problems, str(exc)))
    action = _action(corpus_dir, meta.doc_id) if not problems else ""
    return Preview(preview.doc_id, preview.chars, preview.coverage, preview.clauses, preview.warnings,
                   (*problems, *preview.errors), action)


def _action(corpus_dir: Path, doc_id: str) -> str:
    entry = next((d for d in load_catalog(corpus_dir) if d.doc_id == doc_id), None)
    return "new" if entry is None else ("replace" if entry.has_text else "attach")


def meta_problems(corpus_dir: Path, meta: Meta) -> Iterator[str]:
    """Why this metadata cannot be written (nothing when it can)."""
    if not _DOC_ID.match(meta.doc_id):
        yield f"invalid doc_id {meta.doc_id!r} (use a-z, 0-9, '.', '_', '-', 2-64 chars)"
        return
    if any(len(v) > MAX_FIELD for v in meta.values().values()):
        yield f"a metadata field is longer than {MAX_FIELD} characters"
    if meta.status and meta.status not in STATUSES:
        yield f"status must be one of {', '.join(STATUSES)}"
    docs = load_catalog(corpus_dir)
    entry = next((d for d in docs if d.doc_id == meta.doc_id), None)
    if entry is None and not meta.title.strip():
        yield f"{meta.doc_id!r} is a new document: --title is required (标题必填)"
    if entry is not None and entry.has_text and not meta.replace:
        yield f"{meta.doc_id!r} already has a text ({entry.path}); pass --replace (选择“替换”)"
    old = meta.supersedes.strip()
    if old:
        if old == meta.doc_id:
            yield "a document cannot supersede itself"
        elif old not in {d.doc_id for d in docs}:
            yield f"supersedes {old!r}: no such document in the catalog"
        elif (newer := superseded_by(docs).get(old)) not in (None, meta.doc_id):
            yield f"{old!r} is already superseded by {newer!r}"


@contextmanager
def corpus_lock(corpus_dir: Path) -> Iterator[None]:
    """One writer at a time (processes and threads), locked on the directory: no lock file in the corpus."""
    fd = os.open(corpus_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _place(corpus_dir: Path, doc_id: str, suffix: str, data: bytes, taken: set[str]) -> Path:
    """Write `data` under a name no catalog entry uses (fsynced); the catalog switch makes it live."""
    name = f"{doc_id}{suffix}"
    if name in taken or (corpus_dir / name).exists():
        name = f"{doc_id}-{hashlib.sha256(data).hexdigest()[:10]}{suffix}"
    return write_atomic(corpus_dir / name, data)


def add(corpus_dir: Path, meta: Meta, filename: str, data: bytes) -> Document:
    """Write a new text (or replace one) and its catalog entry; nothing is written when a check fails."""
    suffix = Path(filename).suffix.lower()
    if suffix.lstrip(".") not in FORMATS:
        raise CorpusError(f"{filename}: unknown format {suffix!r} (supported: {', '.join(FORMATS)})")
    preview = preview_upload(corpus_dir, meta, filename, data)
    if not preview.ok:
        raise CorpusError("; ".join(preview.errors))
    with corpus_lock(corpus_dir):
        if problems := list(meta_problems(corpus_dir, meta)):  # the catalog may have changed meanwhile
            raise CorpusError("; ".join(problems))
        catalog_path = corpus_dir / CATALOG_NAME
        before = catalog_path.read_text(encoding="utf-8")
        doc = tomlkit.parse(before)
        entries = doc.setdefault("document", tomlkit.aot())
        entry = next((e for e in entries if e.get("doc_id") == meta.doc_id), None)
        if entry is None:
            entry = tomlkit.table()
            entry["doc_id"] = meta.doc_id
            entries.append(entry)
        entry.update(meta.values())
        old_path = str(entry.get("path") or "")
        taken = {str(e.get("path")) for e in entries if e.get("path")}
        target = _place(corpus_dir, meta.doc_id, suffix, data, taken)
        entry["path"] = target.name
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        _commit(corpus_dir, before, tomlkit.dumps(doc), fresh=target)
        if old_path and old_path != target.name:
            (corpus_dir / old_path).unlink(missing_ok=True)
    return next(d for d in load_catalog(corpus_dir) if d.doc_id == meta.doc_id)


def plan_remove(corpus_dir: Path, doc_id: str, primary_doc: str = "sanmen") -> str:
    """What `remove` would do, in words; CorpusError when it must not be done."""
    docs = load_catalog(corpus_dir)
    entry = next((d for d in docs if d.doc_id == doc_id), None)
    if entry is None:
        raise CorpusError(f"no document {doc_id!r} in the catalog")
    if doc_id == primary_doc:
        raise CorpusError(f"{doc_id!r} is the primary document (POLICYQA_PRIMARY_DOC); it cannot be removed")
    if newer := superseded_by(docs).get(doc_id):
        raise CorpusError(f"{newer!r} supersedes {doc_id!r}; remove or change {newer!r} first")
    cited_by = [d.doc_id for d in docs if doc_id in d.cites]
    if cited_by:
        if not entry.has_text:
            raise CorpusError(f"{doc_id!r} has no text and is cited by {', '.join(cited_by)}; nothing to remove")
        return f"{doc_id}: 删除正文 {entry.path},保留目录信息(被 {', '.join(cited_by)} 引用) / text removed, " \
               "catalog entry kept (cited)"
    old = entry.supersedes
    back = f";{old} 重新成为现行版本 / {old} is current again" if old else ""
    return f"{doc_id}: 删除正文 {entry.path or '(无)'} 和目录条目 / text and catalog entry removed{back}"


def remove(corpus_dir: Path, doc_id: str, primary_doc: str = "sanmen") -> str:
    """Remove a document's text, and its entry unless another document cites it; returns what was done."""
    with corpus_lock(corpus_dir):
        done = plan_remove(corpus_dir, doc_id, primary_doc)
        catalog_path = corpus_dir / CATALOG_NAME
        before = catalog_path.read_text(encoding="utf-8")
        doc = tomlkit.parse(before)
        entries: Any = doc["document"]
        index = next(i for i, e in enumerate(entries) if e.get("doc_id") == doc_id)
        old_path = str(entries[index].get("path") or "")
        if any(doc_id in (e.get("cites") or []) for e in entries):
            for key in ("path", "sha256"):
                entries[index].pop(key, None)
        else:
            del entries[index]
        _commit(corpus_dir, before, tomlkit.dumps(doc))
        if old_path:
            (corpus_dir / old_path).unlink(missing_ok=True)
    return done


def _commit(corpus_dir: Path, before: str, after: str, fresh: Path | None = None) -> None:
    """Replace the catalog, then load it back; on any problem the old catalog returns and `fresh` goes."""
    catalog_path = corpus_dir / CATALOG_NAME
    try:
        write_atomic(catalog_path, after)
        check_versions(load_catalog(corpus_dir), catalog_path)
    except BaseException:
        write_atomic(catalog_path, before)
        if fresh is not None:
            fresh.unlink(missing_ok=True)
        raise
