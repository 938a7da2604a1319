"""The catalog and FAQ stages of the chain: questions answered (or refused) before retrieval.

Each stage is a callable `(Query, IndexView) -> Answer | None` over the assistant's catalog,
lexicon and FAQ; `None` passes the question on to the next stage.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from index.models import Chunk, Document
from rag import compose
from rag.extract import absent
from rag.faq import FaqMatch, match_faq
from rag.models import Answer, Citation, Related
from rag.query import Query
from rag.scope import asks_basis, cited_question, foreign_places, names_of
from rag.targets import answer_targets, extract_targets
from rag.topics import names_topic
from rag.view import IndexView

if TYPE_CHECKING:
    from rag.chain import Assistant


class CatalogStage:
    """The targets table, the basis question, cited documents without text, other places."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def __call__(self, query: Query, view: IndexView) -> Answer | None:
        a, lexicon = self.assistant, self.assistant.lexicon
        primary_id = a.primary
        title = a.title(primary_id)
        question = query.standalone
        docs = list(a.documents.values())
        # before the targets table: “省里那个11号文定了哪些数字目标” asks for the cited text, not ours
        # a follow-up naming a document is judged by its own words (“那台州那个65号文件里…目标是多少?”
        # after “依据了哪些文件?” asks for that text's content, not again for the basis)
        cited = (query.focus and cited_question(query.focus, docs, primary_id, lexicon, view.corpus_text)) \
            or cited_question(question, docs, primary_id, lexicon, view.corpus_text)
        if cited is not None and cited.asks_content:
            preamble = view.by_clause.get(f"{primary_id}:序言", [])[:1]
            related = tuple(Related(c.doc_id, c.clause_id, c.label) for c in preamble)
            return a.refuse(query, "cited_document_missing",
                            compose.missing_text(cited.documents, title, lexicon, query.lang), related)
        lowered = question.lower()
        # the table answers a question about targets in general; one about a topic's target (“企业标准总师这个事,
        # 数量目标…”) is answered by the topic's clause, and one naming a year the corpus lacks (2030) is refused
        if (asked := lexicon.targets_question.search(lowered)) and not absent(query.details, view, lexicon) and \
                not names_topic(f"{lowered[: asked.start()]} {lowered[asked.end() :]}", lexicon, view):
            text, citations = answer_targets(extract_targets(view.chunks, lexicon.target), lexicon.texts[query.lang])
            if citations:
                return Answer(query.raw, text, False, citations, "extractive", standalone_question=question,
                              reason="targets")
        if asks_basis(question, lexicon) or cited is not None:
            basis = self._basis(query, view)
            if basis is not None:
                return basis
        primary = a.documents.get(primary_id)
        # “这个意见已经生效了吗?”: the catalog's status (a draft for comment), cited where the text says it
        asks_status = bool(lexicon.own_status.search(lowered)) and not query.details
        if primary is not None and primary.status and asks_status and \
                not names_topic(lexicon.own_status.sub(" ", lowered), lexicon, view) and \
                (stated := self._status(query, view, primary)) is not None:
            return stated
        # “这个实施意见的文号是多少?” of a draft: the numbers in its text are those of the documents it cites
        if primary is not None and not primary.number and lexicon.own_number.search(lowered):
            says = _first_naming_status(view, primary)
            related = tuple(Related(c.doc_id, c.clause_id, c.label) for c, _ in ([says] if says else []))
            return a.refuse(query, "detail_not_stated",
                            compose.no_number(title, primary.status, related, lexicon, query.lang), related)
        jurisdiction = primary.jurisdiction if primary else ""
        if places := foreign_places(question, view.corpus_text, jurisdiction, lexicon):
            return a.refuse(query, "out_of_scope", compose.place_text(title, jurisdiction, places, lexicon, query.lang))
        return None

    def _status(self, query: Query, view: IndexView, primary: Document) -> Answer | None:
        """The first sentence of the document that names its status (征求意见稿), quoted under the status."""
        found = _first_naming_status(view, primary)
        if found is None:
            return None
        chunk, quote = found
        citation = Citation(chunk.doc_id, chunk.clause_id, chunk.label, quote)
        lexicon = self.assistant.lexicon
        head = lexicon.text(query.lang, "own_status", title=self.assistant.title(primary.doc_id),
                            status=primary.status)
        text = compose.answer_text((citation,), self.assistant.title, lexicon, query.lang, ())
        text = f"{head}\n{text}"
        if query.traditional and not query.english:
            text = compose.traditional(text, (citation,))
        return Answer(query.raw, text, False, (citation,), "extractive", standalone_question=query.standalone,
                      reason="catalog")

    def _basis(self, query: Query, view: IndexView) -> Answer | None:
        """“依据哪些文件?”: the catalog's cited documents, cited to the sentence of 序言 naming them."""
        a = self.assistant
        primary = a.documents.get(a.primary)
        chunks = view.by_clause.get(f"{a.primary}:序言", [])
        if primary is None or not primary.cites or not chunks:
            return None
        cited = [a.documents[d] for d in primary.cites if d in a.documents]
        sentences = [(c, s) for c in chunks for s in view.sentences(c)]
        chunk, quote = max(sentences, key=lambda cs: sum(_names_doc(d, cs[1]) for d in cited))
        citation = Citation(chunk.doc_id, chunk.clause_id, chunk.label, quote)
        text = compose.basis_text(a.title(primary.doc_id), cited, citation, a.lexicon, query.lang)
        if query.traditional and not query.english:
            text = compose.traditional(text, (citation,))
        return Answer(query.raw, text, False, (citation,), "extractive", standalone_question=query.standalone,
                      reason="catalog")


def _first_naming_status(view: IndexView, primary: Document) -> tuple[Chunk, str] | None:
    """The document's first sentence naming its status (征求意见稿), with its chunk; None when no text says it."""
    if not primary.status:  # an empty status is in every sentence: then no clause says it
        return None
    return next(((c, s) for c in view.chunks if c.doc_id == primary.doc_id
                 for s in view.sentences(c) if primary.status in s), None)


def _names_doc(doc: Document, sentence: str) -> bool:
    return any(name in sentence for name in names_of(doc) if len(name) >= 4) or doc.title[-8:] in sentence


class FaqStage:
    """A curated FAQ entry the question closely restates (never for follow-ups).

    Only entries that hold are matched: `checks` (rag/faq_check.py) checks each entry's clauses, quotes
    and claims when the entries are (re)loaded and when the index generation changes; a stale entry is
    skipped, so its question is answered from the text.
    """

    def __init__(self, assistant: Assistant) -> None:
        from rag.faq_check import FaqChecks

        self.assistant = assistant
        self.checks = FaqChecks(assistant.settings.lexicon_dir)

    def __call__(self, query: Query, view: IndexView) -> Answer | None:
        a = self.assistant
        if not a.settings.faq or query.focus:
            return None
        entries = self.checks.servable(a.faq_entries(), view)
        match = match_faq(query.standalone, entries, a.lexicon, a.config.faq, a.retriever.embedder.embed_documents)
        return self._answer(query, view, match) if match else None

    @staticmethod
    def _answer(query: Query, view: IndexView, match: FaqMatch) -> Answer | None:
        """A curated answer, cited like any other: every clause must exist and every quote be verbatim."""
        citations = []
        for key in match.entry.clauses:
            chunks = view.by_clause.get(key)
            if not chunks:
                return None  # a stale entry (clause renumbered or removed): answer from the text instead
            clause = view.clause_text(key)
            quoted = [q for q in re.findall(r"“([^”]+)”", match.entry.answer) if q in clause]
            citations.append(Citation(chunks[0].doc_id, chunks[0].clause_id, chunks[0].label,
                                      quoted[0] if quoted else clause))
        return Answer(query.raw, match.entry.answer, False, tuple(citations), "faq",
                      standalone_question=query.standalone, reason="faq",
                      extra={"faq_id": match.entry.id, "matched": match.matched, "method": match.method})
