"""Answer and refusal texts (pure functions): the sentences live in texts.toml, the values come from
the catalog and the citations. Nothing a user typed is inserted into them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from index.models import Document
from rag.lexicon import Lexicon
from rag.models import Citation, Related
from rag.normalize import to_traditional


def answer_text(citations: Sequence[Citation], title: Callable[[str], str], lexicon: Lexicon, lang: str,
                notes: Sequence[str] = ()) -> str:
    first = citations[0].doc_id
    lines = [lexicon.text(lang, "answer_lead", title=title(first))]
    for c in citations:
        source = title(c.doc_id) if c.doc_id != first else ""
        lines.append(lexicon.text(lang, "answer_line", source=source, label=c.label, clause_id=c.clause_id,
                                  quote=c.quote))
    return "\n".join([*lines, *notes])


def _names(related: Sequence[Related], lexicon: Lexicon, lang: str) -> str:
    return lexicon.text(lang, "list_join").join(f"{r.label}【{r.clause_id}】" for r in related)


def refusal(title: str, detail: str | None, related: Sequence[Related], lexicon: Lexicon, lang: str,
            contact: str = "") -> str:
    """“The document does not say” — or, for a near miss, “it covers this but does not state {detail}”."""
    if detail:
        head = lexicon.text(lang, "detail_missing", title=title, detail=detail)
        tail = lexicon.text(lang, "related_lead_detail", contact=contact or lexicon.text(lang, "contact_fallback"))
    else:
        head = lexicon.text(lang, "not_found", title=title)
        tail = lexicon.text(lang, "related_lead")
    return head + (f"\n{tail}{_names(related, lexicon, lang)}" if related else "")


def no_number(title: str, status: str, related: Sequence[Related], lexicon: Lexicon, lang: str) -> str:
    """A document without a number of its own (a draft) asked for it: say what it is, show where it says so."""
    head = lexicon.text(lang, "no_number" if status else "no_number_bare", title=title, status=status)
    return head + (f"\n{lexicon.text(lang, 'related_lead')}{_names(related, lexicon, lang)}" if related else "")


def mentioned(title: str, term: str, where: Related, related: Sequence[Related], lexicon: Lexicon,
              lang: str) -> str:
    """A refused question holding a rare term of the corpus: where the document mentions it (its own wording)."""
    head = lexicon.text(lang, "mentioned", title=title, term=term, label=where.label, clause_id=where.clause_id)
    others = [r for r in related if (r.doc_id, r.clause_id) != (where.doc_id, where.clause_id)]
    return head + (f"\n{lexicon.text(lang, 'related_lead')}{_names(others, lexicon, lang)}" if others else "")


def detail_note(detail: str, lexicon: Lexicon, lang: str) -> str:
    return lexicon.text(lang, "detail_missing_part", detail=detail)


def place_text(title: str, jurisdiction: str, places: Sequence[str], lexicon: Lexicon, lang: str) -> str:
    return lexicon.text(lang, "place", title=title, jurisdiction=jurisdiction,
                        places=lexicon.text(lang, "list_join").join(places))


def describe(doc: Document, lexicon: Lexicon, lang: str) -> str:
    parts = [doc.citation_title]
    if doc.issuer:
        parts.append(lexicon.text(lang, "describe_issuer", issuer=doc.issuer))
    if doc.date:
        parts.append(lexicon.text(lang, "describe_date", date=doc.date))
    return lexicon.text(lang, "describe_join").join(parts)


def missing_text(documents: Sequence[Document], title: str, lexicon: Lexicon, lang: str) -> str:
    listed = lexicon.text(lang, "doc_join").join(describe(d, lexicon, lang) for d in documents)
    return lexicon.text(lang, "missing_document", listed=listed, title=title)


def basis_text(title: str, cited: Sequence[Document], citation: Citation, lexicon: Lexicon, lang: str) -> str:
    lines = [lexicon.text(lang, "basis_lead", title=title)]
    for doc in cited:
        note = "" if doc.has_text else lexicon.text(lang, "not_in_corpus")
        lines.append(f"· {describe(doc, lexicon, lang)}{note}")
    lines.append(lexicon.text(lang, "basis_source", label=citation.label, clause_id=citation.clause_id,
                              quote=citation.quote))
    return "\n".join(lines)


def traditional(text: str, citations: Sequence[Citation]) -> str:
    """The prose in Traditional characters; every quote and clause heading kept verbatim as the document has it
    (a reader finds both in the source with Ctrl-F)."""
    converted = to_traditional(text)
    for c in citations:
        for verbatim in (c.quote, c.label):
            converted = converted.replace(to_traditional(verbatim), verbatim)
    return converted
