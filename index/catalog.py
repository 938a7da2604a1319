"""`corpus/catalog.toml` and the loaders that turn a listed file into text (I/O lives here).

Versions: an entry may say `supersedes = "<doc_id>"` (a 正式稿 replacing its 征求意见稿). The named
entry must exist, no entry supersedes itself or an entry another one already supersedes, and the
chain has no cycle (`Document.supersedes`). Writing the corpus (add, replace, remove) lives in
index/documents.py.
"""

from __future__ import annotations

import hashlib
import io
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.models import Document

CATALOG_NAME = "catalog.toml"
FORMATS = ("txt", "md", "docx", "pdf", "html", "htm")
_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class CorpusError(Exception):
    """A problem with the corpus that a person must fix; the message names the file."""


def superseded_by(docs: list[Document]) -> dict[str, str]:
    """doc_id → the doc_id of the entry that replaces it."""
    return {d.supersedes: d.doc_id for d in docs if d.supersedes}


def current_version(docs: list[Document], doc_id: str) -> str:
    """Follow `supersedes` forward from `doc_id` to the newest version (itself when none replaces it)."""
    newer = superseded_by(docs)
    seen = {doc_id}
    while doc_id in newer and newer[doc_id] not in seen:
        doc_id = newer[doc_id]
        seen.add(doc_id)
    return doc_id


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_catalog(corpus_dir: Path) -> list[Document]:
    """Read the catalog; every listed file must exist and match its recorded sha256."""
    path = corpus_dir / CATALOG_NAME
    if not path.is_file():
        raise CorpusError(f"{path}: catalog not found (expected corpus/{CATALOG_NAME})")
    try:  # tomllib, not tomlkit: 10x faster, and reading needs no round trip (index/documents.py writes)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: not valid TOML: {exc}") from exc
    docs: list[Document] = [_document(entry, path) for entry in data.get("document", [])]
    seen: set[str] = set()
    for doc in docs:
        if doc.doc_id in seen:
            raise CorpusError(f"{path}: doc_id {doc.doc_id!r} is listed twice")
        seen.add(doc.doc_id)
        if doc.path is not None:
            _check_file(corpus_dir / doc.path, doc.sha256)
    check_versions(docs, path)
    return docs


def check_versions(docs: list[Document], catalog: Path | str = CATALOG_NAME) -> None:
    """Every `supersedes` names another listed entry, once, without a cycle."""
    ids = {d.doc_id for d in docs}
    replaced: dict[str, str] = {}
    for doc in docs:
        old = doc.supersedes
        if not old:
            continue
        if old == doc.doc_id:
            raise CorpusError(f"{catalog}: document {doc.doc_id!r} supersedes itself")
        if old not in ids:
            raise CorpusError(f"{catalog}: document {doc.doc_id!r} supersedes {old!r}, which is not in the catalog")
        if old in replaced:
            raise CorpusError(f"{catalog}: {old!r} is superseded twice (by {replaced[old]!r} and {doc.doc_id!r})")
        replaced[old] = doc.doc_id
    for start in replaced:
        chain, at = [start], start
        while at in replaced:
            at = replaced[at]
            if at in chain:
                raise CorpusError(f"{catalog}: supersedes forms a cycle: {' → '.join([*chain, at])}")
            chain.append(at)


def _document(entry: dict[str, Any], catalog: Path) -> Document:
    doc_id = str(entry.get("doc_id", ""))
    if not _DOC_ID.match(doc_id):
        raise CorpusError(f"{catalog}: invalid doc_id {doc_id!r} (use a-z, 0-9, '.', '_', '-')")
    if not entry.get("title"):
        raise CorpusError(f"{catalog}: document {doc_id!r} has no title")
    supersedes = entry.get("supersedes", "")
    if not isinstance(supersedes, str) or (supersedes and not _DOC_ID.match(supersedes)):
        raise CorpusError(f"{catalog}: document {doc_id!r}: supersedes must be one doc_id, got {supersedes!r}")
    return Document(
        doc_id=doc_id,
        title=str(entry["title"]),
        issuer=str(entry.get("issuer", "")),
        number=str(entry.get("number", "")),
        date=str(entry.get("date", "")),
        status=str(entry.get("status", "")),
        source=str(entry.get("source", "")),
        cites=tuple(str(c) for c in entry.get("cites", [])),
        path=str(entry["path"]) if entry.get("path") else None,
        sha256=str(entry["sha256"]) if entry.get("sha256") else None,
        aliases=_strings(entry, "aliases", catalog, doc_id),
        jurisdiction=str(entry.get("jurisdiction", "")),
        organisations=_strings(entry, "organisations", catalog, doc_id),
        issued_by=_strings(entry, "issued_by", catalog, doc_id),
        supersedes=supersedes,
    )


def _strings(entry: dict[str, Any], field: str, catalog: Path, doc_id: str) -> tuple[str, ...]:
    value = entry.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CorpusError(f"{catalog}: document {doc_id!r}: {field} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _check_file(path: Path, sha256: str | None) -> None:
    if not path.is_file():
        raise CorpusError(f"{path}: listed in the catalog but missing")
    if path.suffix.lower().lstrip(".") not in FORMATS:
        raise CorpusError(f"{path}: unknown format {path.suffix!r} (supported: {', '.join(FORMATS)})")
    if not sha256:
        raise CorpusError(f"{path}: no sha256 recorded in the catalog")
    actual = sha256_file(path)
    if actual != sha256:
        raise CorpusError(
            f"{path}: sha256 changed (catalog {sha256[:12]}…, file {actual[:12]}…); "
            "if the edit is intended, run `policyqa corpus add` again or update the catalog"
        )


def read_text(corpus_dir: Path, doc: Document) -> str:
    """The document's plain text, one paragraph per line."""
    if doc.path is None:
        raise CorpusError(f"{doc.doc_id}: no text in the corpus (metadata only)")
    return load_file(corpus_dir / doc.path)


def load_file(path: Path) -> str:
    """Text of a txt, md, docx, pdf or saved html file; a clear error for anything else."""
    if path.suffix.lower().lstrip(".") not in _LOADERS:
        raise CorpusError(f"{path}: unknown format {path.suffix!r} (supported: {', '.join(FORMATS)})")
    return load_bytes(str(path), path.read_bytes())


def load_bytes(name: str, data: bytes) -> str:
    """Text of a file's bytes, the format taken from `name`'s extension (an upload never touches disk)."""
    fmt = Path(name).suffix.lower().lstrip(".")
    loader = _LOADERS.get(fmt)
    if loader is None:
        raise CorpusError(f"{name}: unknown format {Path(name).suffix!r} (supported: {', '.join(FORMATS)})")
    try:
        text = loader(data)
    except CorpusError as exc:
        raise CorpusError(f"{name}: {exc}") from exc
    except Exception as exc:  # each library raises its own error types for broken files
        raise CorpusError(f"{name}: cannot read as {fmt}: {exc}") from exc
    if not text.strip():
        raise CorpusError(f"{name}: no text found (a scanned PDF needs OCR first)")
    return text


def _read_plain(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorpusError("not UTF-8 or GB18030 text")


def _read_md(raw: bytes) -> str:
    text = _read_plain(raw)
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.M)
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)


def _read_docx(raw: bytes) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(io.BytesIO(raw)).paragraphs)


def _read_pdf(raw: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(raw)).pages)


def _read_html(raw: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_plain(raw), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript"]):
        tag.decompose()
    root = soup.find("article") or soup.body or soup
    return root.get_text("\n")


_LOADERS: dict[str, Callable[[bytes], str]] = {
    "txt": _read_plain,
    "md": _read_md,
    "docx": _read_docx,
    "pdf": _read_pdf,
    "html": _read_html,
    "htm": _read_html,
}


def add_document(corpus_dir: Path, src: Path, *, doc_id: str, title: str | None = None,
                 replace: bool = False, **meta: Any) -> Document:
    """Copy `src` into the corpus and record it in the catalog (index.documents.add does the work).

    A document already listed with metadata only (a cited document) gets its text attached. Every
    check runs before anything is written; the catalog is replaced atomically.
    """
    from index.documents import Meta, add

    if not _DOC_ID.match(doc_id):
        raise CorpusError(f"invalid doc_id {doc_id!r} (use a-z, 0-9, '.', '_', '-', 2-64 chars)")
    if not src.is_file():
        raise CorpusError(f"{src}: no such file")
    fields = {k: str(v) for k, v in meta.items() if v}
    return add(corpus_dir, Meta(doc_id, title or "", replace=replace, **fields), src.name, src.read_bytes())


