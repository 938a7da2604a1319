"""A fingerprint of everything an index is built from, kept beside it in the data dir.

`policyqa index` on an unchanged corpus decides from this file alone, without importing Chroma
or the embedder (the imports are most of a no-op run's time). The fingerprint covers the catalog,
every file it lists, the plain-language layer, the language files the lexical artifact is fitted
with and the settings that shape the index; any change to one of them means a real build, which
re-validates everything; so does an upgrade of a library BM25 tokens depend on. A build whose
lexical artifact is missing or of an older format is not "unchanged" either: the next run writes
it (index/lexical_cache.py).
"""

from __future__ import annotations

import hashlib
import json
import time
import tomllib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from index.atomic import write_atomic
from index.settings import Settings

MANIFEST = "index-manifest.json"
FORMAT = "clause-v2"  # bump with index.chunk.CHUNKER_VERSION
# index/lexical_cache.py's format; here so the no-op path imports nothing heavy.
# lexical-2: a chunk's embed_text is stored only when it is not the one composed from path, label and text;
# lexical-3: stored in the generation's own `<name>-lexical` collection, no longer in the manifest.
LEXICAL_FORMAT = "lexical-4"
LEXICAL_FILES = ("words.toml", "patterns.toml")  # of the lexicon dir: stopwords and boilerplate patterns
LEXICAL_LIBRARIES = ("jieba", "bm25s", "snowballstemmer")  # what BM25 tokens depend on (rag.lexical.tokenizer_id)


def _library_versions() -> list[str]:
    """The tokenising libraries' versions and the stemming rule's: an upgrade means refitting the artifact."""
    from rag.stem import RULE

    out = [RULE]
    for name in LEXICAL_LIBRARIES:
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} missing")
    return out


def _files(settings: Settings) -> list[Path]:
    corpus = Path(settings.corpus_dir)
    catalog = corpus / "catalog.toml"
    files = [catalog]
    try:
        data = tomllib.loads(catalog.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return files  # the build will report the problem
    files += [corpus / str(d["path"]) for d in data.get("document", []) if isinstance(d, dict) and d.get("path")]
    folder = corpus / "interpretations"
    files += sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    return files + [Path(settings.lexicon_dir) / name for name in LEXICAL_FILES]


def fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    for part in (FORMAT, settings.embedding, str(settings.chunk_tokens), settings.chroma_url or "",
                 settings.collection_prefix, *_library_versions()):
        digest.update(part.encode() + b"\0")
    for path in _files(settings):
        digest.update(str(path.name).encode() + b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


def read(settings: Settings) -> dict[str, Any] | None:
    try:
        data = json.loads((Path(settings.data_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def unchanged(settings: Settings) -> dict[str, Any] | None:
    """The last build's summary when nothing it was built from has changed since; else None."""
    data = read(settings)
    if data is None or data.get("fingerprint") != fingerprint(settings):
        return None
    summary = data.get("summary")
    return summary if isinstance(summary, dict) and summary.get("lexical") == LEXICAL_FORMAT else None


def write(settings: Settings, value: str, summary: dict[str, Any]) -> None:
    """Record a finished build (atomic replace, so a crash leaves the old manifest or none)."""
    folder = Path(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / MANIFEST, json.dumps({"fingerprint": value, "summary": summary}, ensure_ascii=False))


def forget(settings: Settings) -> None:
    (Path(settings.data_dir) / MANIFEST).unlink(missing_ok=True)


@dataclass(frozen=True)
class BuildReport:
    documents: int
    metadata_only: tuple[str, ...]
    clauses: int
    chunks: int
    embedded: int
    reused: int
    seconds: float
    collection: str
    changed: bool
    keys: int = 0  # plain-language retrieval keys (corpus/interpretations/)
    keys_embedded: int = 0  # of which embedded by this build (the rest reused their vectors)
    orphans: tuple[str, ...] = ()  # interpretation records whose clause the corpus does not have
    lexical: str = ""  # the lexical artifact: "written", "current" (already stored) or "failed: …"


def unchanged_report(settings: Settings) -> BuildReport | None:
    """The last build's report when the manifest says nothing changed (no Chroma, no embedder)."""
    started = time.perf_counter()
    summary = unchanged(settings)
    if summary is None:
        return None
    try:
        return BuildReport(
            documents=int(summary["documents"]), metadata_only=tuple(summary["metadata_only"]),
            clauses=int(summary["clauses"]), chunks=int(summary["chunks"]), embedded=0,
            reused=int(summary["chunks"]), seconds=time.perf_counter() - started,
            collection=str(summary["collection"]), changed=False, keys=int(summary.get("keys", 0)),
            orphans=tuple(summary.get("orphans", ())), lexical="current")
    except (KeyError, TypeError, ValueError):
        return None  # an old or damaged manifest: build for real
