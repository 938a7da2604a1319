"""`corpus/catalog.toml` and the loaders that turn a listed file into text (I/O lives here)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomlkit

from index.models import Document

CATALOG_NAME = "catalog.toml"
FORMATS = ("txt", "md", "docx", "pdf", "html", "htm")
_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class CorpusError(Exception):
    """A problem with the corpus that a person must fix; the message names the file."""


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_catalog(corpus_dir: Path) -> list[Document]:
    """Read the catalog; every listed file must exist and match its recorded sha256."""
    path = corpus_dir / CATALOG_NAME
    if not path.is_file():
        raise CorpusError(f"{path}: catalog not found (expected corpus/{CATALOG_NAME})")
    try:
        data = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except Exception as exc:  # tomlkit raises several parse error types
        raise CorpusError(f"{path}: not valid TOML: {exc}") from exc
    docs = [_document(entry, path) for entry in data.get("document", [])]
    seen: set[str] = set()
    for doc in docs:
        if doc.doc_id in seen:
            raise CorpusError(f"{path}: doc_id {doc.doc_id!r} is listed twice")
        seen.add(doc.doc_id)
        if doc.path is not None:
            _check_file(corpus_dir / doc.path, doc.sha256)
    return docs


def _document(entry: dict[str, Any], catalog: Path) -> Document:
    doc_id = str(entry.get("doc_id", ""))
    if not _DOC_ID.match(doc_id):
        raise CorpusError(f"{catalog}: invalid doc_id {doc_id!r} (use a-z, 0-9, '.', '_', '-')")
    if not entry.get("title"):
        raise CorpusError(f"{catalog}: document {doc_id!r} has no title")
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
    fmt = path.suffix.lower().lstrip(".")
    loader = _LOADERS.get(fmt)
    if loader is None:
        raise CorpusError(f"{path}: unknown format {path.suffix!r} (supported: {', '.join(FORMATS)})")
    try:
        text = loader(path)
    except CorpusError:
        raise
    except Exception as exc:  # each library raises its own error types for broken files
        raise CorpusError(f"{path}: cannot read as {fmt}: {exc}") from exc
    if not text.strip():
        raise CorpusError(f"{path}: no text found (a scanned PDF needs OCR first)")
    return text


def _read_plain(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorpusError(f"{path}: not UTF-8 or GB18030 text")


def _read_md(path: Path) -> str:
    text = _read_plain(path)
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.M)
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)


def _read_docx(path: Path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _read_html(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_plain(path), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript"]):
        tag.decompose()
    root = soup.find("article") or soup.body or soup
    return root.get_text("\n")


_LOADERS: dict[str, Callable[[Path], str]] = {
    "txt": _read_plain,
    "md": _read_md,
    "docx": _read_docx,
    "pdf": _read_pdf,
    "html": _read_html,
    "htm": _read_html,
}


def add_document(corpus_dir: Path, src: Path, *, doc_id: str, title: str | None = None,
                 replace: bool = False, **meta: Any) -> Document:
    """Copy `src` into the corpus as `<doc_id><suffix>` and record it in the catalog.

    A document already listed with metadata only (a cited document) gets its text attached.
    The catalog is rewritten atomically; the file is validated before anything is written.
    """
    if not _DOC_ID.match(doc_id):
        raise CorpusError(f"invalid doc_id {doc_id!r} (use a-z, 0-9, '.', '_', '-', 2-64 chars)")
    if not src.is_file():
        raise CorpusError(f"{src}: no such file")
    load_file(src)  # validates format and readability before the corpus is touched
    catalog_path = corpus_dir / CATALOG_NAME
    doc = tomlkit.parse(catalog_path.read_text(encoding="utf-8"))
    entries = doc.setdefault("document", tomlkit.aot())
    entry = next((e for e in entries if e.get("doc_id") == doc_id), None)
    if entry is not None and entry.get("path") and not replace:
        raise CorpusError(f"{doc_id!r} already has a text ({entry['path']}); pass --replace")
    if entry is None:
        if not title:
            raise CorpusError(f"{doc_id!r} is a new document: --title is required")
        entry = tomlkit.table()
        entry["doc_id"] = doc_id
        entries.append(entry)
    if title:
        entry["title"] = title
    for key, value in meta.items():
        if value:
            entry[key] = list(value) if isinstance(value, tuple | list) else value
    target = corpus_dir / f"{doc_id}{src.suffix.lower()}"
    shutil.copyfile(src, target)
    entry["path"] = target.name
    entry["sha256"] = sha256_file(target)
    _atomic_write(catalog_path, tomlkit.dumps(doc))
    return next(d for d in load_catalog(corpus_dir) if d.doc_id == doc_id)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
