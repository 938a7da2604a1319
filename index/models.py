"""The typed records that travel from the corpus to the index (defined once, used everywhere)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    """One addressable provision: `doc_id` + `clause_id` is its citation address.

    `text` is the clause body exactly as published, without its numbering (“2.”, “——”);
    `heading_path` lists the section headings above it (“二、主要举措”, “(七)全面深化标准化改革创新”).
    """

    doc_id: str
    clause_id: str
    heading_path: tuple[str, ...]
    label: str
    text: str
    order: int
    spans: tuple[Span, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.doc_id}:{self.clause_id}"


@dataclass(frozen=True)
class Span:
    """Where one line of a clause's text lies in its document's text: `doc[start:end]` is that line.

    `joined` says the document has exactly one "\n" between the previous line and this one, so a
    quote may run across the two; otherwise (sub-items in between) a quote must stop at the break.
    """

    start: int
    end: int
    joined: bool = False


@dataclass(frozen=True)
class Chunk:
    """The unit that is embedded and retrieved: a clause, or one part of a long clause.

    `text` is verbatim (a substring of the clause); `embed_text` adds the heading path so that
    retrieval sees the context a reader sees.
    """

    doc_id: str
    clause_id: str
    part: int
    n_parts: int
    label: str
    heading_path: tuple[str, ...]
    text: str
    embed_text: str
    order: int
    content_hash: str
    spans: tuple[Span, ...] = ()  # one per line of `text`, in order

    @property
    def chunk_id(self) -> str:
        suffix = f"#{self.part}" if self.n_parts > 1 else ""
        return f"{self.doc_id}:{self.clause_id}{suffix}"

    @property
    def clause_key(self) -> str:
        return f"{self.doc_id}:{self.clause_id}"


@dataclass(frozen=True)
class Key:
    """A retrieval key of a clause from its plain-language layer: found like text, never quoted.

    `kind` is plain | phrasing | term (and `lang` zh | en); `text` is what is embedded and searched.
    """

    doc_id: str
    clause_id: str
    kind: str
    lang: str
    text: str
    content_hash: str

    @property
    def clause_key(self) -> str:
        return f"{self.doc_id}:{self.clause_id}"


@dataclass(frozen=True)
class Document:
    """A catalog entry. `path` is None for a cited document whose text is not in the corpus."""

    doc_id: str
    title: str
    issuer: str = ""
    number: str = ""
    date: str = ""
    status: str = ""
    source: str = ""
    cites: tuple[str, ...] = ()
    path: str | None = None
    sha256: str | None = None
    aliases: tuple[str, ...] = ()  # other names people use for it (纲要, 65号文, 省里的意见)
    jurisdiction: str = ""  # the place whose policy it is (三门县)
    organisations: tuple[str, ...] = ()  # bodies named in it as issuer or contact (三门县市场监督管理局)
    issued_by: tuple[str, ...] = ()  # its issuer as people name it (省里, 台州市委) before 文件/意见
    supersedes: str = ""  # the doc_id of the earlier version it replaces (a 正式稿 its 征求意见稿)

    @property
    def has_text(self) -> bool:
        return self.path is not None

    @property
    def citation_title(self) -> str:
        """The title in 《》 with its 文号, as a reader would cite it."""
        inner = self.title.strip("《》").replace("《", "〈").replace("》", "〉")
        title = f"《{inner}》"
        return f"{title}({self.number})" if self.number else title
