"""The lookup and retrieve stages, and how one answer is composed from the parts they answered.

`LookupStage` answers a question that names a clause (or says that clause does not exist);
`RetrieveStage` answers each asked part from retrieval + extraction; `Composer.compose` joins the
parts' citations into one answer, or one honest refusal: the asked detail the document does not
state, where it mentions a rare term of the question, or that it does not answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from index.models import Chunk
from rag import compose
from rag.extract import PartResult, answer_lookup, answer_occurrences, answer_part, related_of
from rag.locate import locate
from rag.models import Answer, Citation, Hit, Related, Trace
from rag.normalize import named_section, written_refs
from rag.query import Query
from rag.retrieve import Retrieval
from rag.scope import cited_question
from rag.topics import names_topic
from rag.view import IndexView

if TYPE_CHECKING:
    from index.models import Chunk
    from rag.chain import Assistant


class Composer:
    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant

    def scorer(self, text: str) -> Callable[[Sequence[str]], list[float]] | None:
        vector = self.a.retriever.embedder.embed_query(text) if text else []
        return (lambda texts: self.a.sentences.similarities(texts, vector)) if vector else None

    @staticmethod
    def lookup_hits(chunks: Sequence[Chunk]) -> tuple[Hit, ...]:
        return tuple(Hit(c, 1.0, via="lookup") for c in chunks)

    def compose(self, query: Query, view: IndexView, parts: list[PartResult],
                 retrievals: list[Retrieval]) -> Answer:
        """One answer from the answered parts; a refusal (with related clauses) when none answered."""
        trace = Trace(retrievals=tuple(retrievals), parts=tuple(parts))
        degraded = any(r.degraded for r in retrievals)
        extra = {"warning": retrievals[0].warning} if retrievals and retrievals[0].warning else {}
        title = self.a.title(self.a.primary)
        located = [piece for p in parts for c in p.citations for piece in locate(c, view)]
        citations = list({(c.clause_key, c.quote): c for c in located}.values())
        if not citations:
            related = related_of(retrievals[0].hits) if retrievals else ()
            if mention := next((p.mentioned for p in parts if p.reason == "rare_mentioned" and p.mentioned), None):
                where = Related(mention.chunk.doc_id, mention.chunk.clause_id, mention.chunk.label)
                term = _corpus_spelling(mention.sentence, retrievals[0].rare)
                text = compose.mentioned(title, term, where, related, self.a.lexicon, query.lang)
                return self.a.refuse(query, "rare_mentioned", text, (where, *[r for r in related if r != where]),
                                   degraded=degraded, extra=extra, trace=trace)
            first = next((p for p in parts if p.detail is not None), parts[0])
            detail = (first.detail.label_en if query.english else first.detail.label) if first.detail else None
            text = compose.refusal(title, detail, related, self.a.lexicon, query.lang, self.contact())
            reason = "detail_not_stated" if first.detail else "out_of_scope"
            return self.a.refuse(query, reason, text, related, degraded=degraded, extra=extra, trace=trace)
        notes = [compose.detail_note(p.detail.label_en if query.english else p.detail.label, self.a.lexicon, query.lang)
                 for p in parts if p.detail is not None]
        text = compose.answer_text(citations, self.a.title, self.a.lexicon, query.lang, notes)
        if query.traditional and not query.english:
            text = compose.traditional(text, citations)
        reason = "lookup" if any(p.reason == "lookup" for p in parts) else ""
        return Answer(query.raw, text, False, tuple(citations), "extractive", standalone_question=query.standalone,
                      degraded=degraded, reason=reason, extra=extra, trace=trace)

    def contact(self) -> str:
        primary = self.a.documents.get(self.a.primary)
        return primary.organisations[0] if primary and primary.organisations else ""


class LookupStage(Composer):
    """A question naming one clause (multi-part questions look up per part in the retrieve stage)."""

    def __call__(self, query: Query, view: IndexView) -> Answer | None:
        if outline := self.outline(query, view):
            return outline
        if len(query.parts) > 1:
            return None
        if written := self.written(query, view):
            return written
        ref, chunks = view.named(query.standalone, self.a.primary, self.a.superseded)
        if ref and not chunks and ref != "序言":
            return self.no_such_clause(query, view, ref)
        if not chunks:
            return None
        retrieval = Retrieval(query.standalone, self.lookup_hits(chunks), ref=ref)
        part = answer_lookup(retrieval, view, self.a.lexicon, self.a.config, self.scorer(query.standalone),
                             query.details)
        return self.compose(query, view, [part], [retrieval])

    def written(self, query: Query, view: IndexView) -> Answer | None:
        """“一(二)-4和二(七)1都提到…有什么不同?”: a question writing out two or more clause ids that exist quotes
        each of them (one part each), not only the first."""
        refs = written_refs(query.standalone, self.a.lexicon.references)
        found = [(ref, chunks) for ref in refs if (chunks := view.lookup(ref, self.a.primary, self.a.superseded))]
        if len(found) < 2:
            return None
        parts, retrievals = [], []
        for ref, chunks in found:
            retrieval = Retrieval(query.standalone, self.lookup_hits(chunks), ref=ref)
            parts.append(answer_lookup(retrieval, view, self.a.lexicon, self.a.config, self.scorer(query.standalone),
                                       query.details))
            retrievals.append(retrieval)
        return self.compose(query, view, parts, retrievals)

    def outline(self, query: Query, view: IndexView) -> Answer | None:
        """“保障措施一共几条?分别是什么?”: the clauses a named section or item holds, each quoted by its heading
        sentence, and how many there are; None unless it holds two or more."""
        text = query.standalone
        docs = list(self.a.documents.values())  # “省委那个11号文一共分几个部分” asks of the cited text
        if not self.a.lexicon.outline.search(text.lower()) \
                or cited_question(text, docs, self.a.primary, self.a.lexicon, view.corpus_text) is not None:
            return None
        ref, _chunks = view.named(text, self.a.primary, self.a.superseded)
        ref = ref or named_section(text, self.a.lexicon.references, view.sections) or view.scope(text, items=True)
        if not ref:
            return None
        section = ref in view.sections.values()
        inside = [c for c in view.lookup(ref, self.a.primary, self.a.superseded) if c.clause_id != ref and c.part == 1]
        # 一 holds 一(一) and 一(二), not 一(二)'s bullets; 二's items sit under (一)…(七), headings, not clauses
        children = [c for c in inside if c.clause_id.endswith(")")] if section else inside
        children = children if len(children) >= 2 else inside
        if len(children) < 2:
            return None
        citations = [Citation(c.doc_id, c.clause_id, c.label, view.sentences(c)[0]) for c in children]
        own = view.by_clause.get(f"{self.a.primary}:{ref}")
        where = own[0].label if own else "".join(children[0].heading_path[:1 if section else 2])
        note = self.a.lexicon.text(query.lang, "outline", label=where, count=len(children))
        retrieval = Retrieval(text, self.lookup_hits(children), ref=ref)
        parts = [PartResult(text, tuple(citations), "lookup")]
        answer = self.compose(query, view, parts, [retrieval])
        return replace(answer, answer=f"{note}\n{answer.answer}", reason="outline")

    def no_such_clause(self, query: Query, view: IndexView, ref: str) -> Answer:
        """“保障措施第四条” where there are three: say so and list what the section has."""
        primary = self.a.primary
        head = ref.split("(")[0] if "(" in ref else ref
        siblings = [c for c in view.lookup(head, primary, self.a.superseded) if c.part == 1][:12]
        where = next((p for c in siblings for p in c.heading_path[:1]), head)
        join = self.a.lexicon.text(query.lang, "list_join").join
        names = join(f"{c.label}【{c.clause_id}】" for c in siblings)
        if not siblings:  # no such section at all (“第四部分” of three): name the sections there are
            firsts: dict[str, Chunk] = {}
            for c in view.chunks:
                if c.doc_id == primary and c.heading_path and "(" in c.clause_id:
                    firsts.setdefault(c.heading_path[0], c)
            siblings, where = list(firsts.values()), self.a.title(primary)
            names = join(f"{h}【{c.clause_id}】" for h, c in firsts.items())
            ref = self.a.lexicon.text(query.lang, "section_ref", section=ref)
        text = self.a.lexicon.text(query.lang, "no_such_clause", title=self.a.title(primary), ref=ref, where=where,
                                 names=names)
        related = tuple(Related(c.doc_id, c.clause_id, c.label) for c in siblings[:3])
        return self.a.refuse(query, "no_such_clause", text, related)


class RetrieveStage(Composer):
    """Each asked part answered from retrieval and extraction, then composed (always answers)."""

    def __call__(self, query: Query, view: IndexView) -> Answer:
        parts: list[PartResult] = []
        retrievals: list[Retrieval] = []
        for index, text in enumerate(query.parts):
            ref, chunks = view.named(text, self.a.primary, self.a.superseded) if len(query.parts) > 1 else (None, [])
            answered = ({c.clause_key for p in parts for c in p.citations} | query.answered
                        if index in query.further else set())
            if chunks:  # a part that names a clause (“发展目标里…,具体举措里…”)
                retrieval = _beyond(Retrieval(text, self.lookup_hits(chunks), ref=ref), answered)
                parts.append(answer_lookup(retrieval, view, self.a.lexicon, self.a.config, self.scorer(text),
                                           self.a.lexicon.asked_details(text)))
                retrievals.append(retrieval)
                continue
            rare = {t: c for t, c in query.rare.items() if t in text}
            # a rare term of the follow-up's own words keeps its clause even when the last answer cited it
            answered -= {i for keys in rare.values() for k in keys for i in (k, k.split(":", 1)[-1])} & query.answered
            retrieval = self.a.retriever.search(text, rare=rare, exclude=self.a.superseded)
            retrieval = _beyond(retrieval, answered)  # a further part asks for more than was answered
            if occurring := self.occurrences(text, view):
                parts.append(occurring)
                retrievals.append(retrieval)
                continue
            scorer = ((lambda texts, v=retrieval.vector: self.a.sentences.similarities(texts, v))
                      if retrieval.vector else None)
            focus = query.focus if len(query.parts) == 1 else ""
            own = self.a.lexicon.asked_details(text)
            # a follow-up asks what its own words ask, or else what the question it follows asked, unless it
            # asks for something further (“这个奖后面有没有说…”) or what the text says at all (“有啥说法?”)
            # or names a topic of its own without swapping the last one's (“干部考核会看这个吗?”)
            inherits = index not in query.further and not self.a.lexicon.general_ask.search(focus) and (
                not names_topic(focus, self.a.lexicon, view) or bool(self.a.lexicon.swaps_topic.search(focus.lower())))
            details = (query.details or own if inherits else query.details) if focus else own
            parts.append(answer_part(text, retrieval, view, self.a.lexicon, self.a.config, scorer=scorer,
                                     english=query.english, details=details, focus=focus))
            retrievals.append(retrieval)
        return self.compose(query, view, parts, retrievals)

    def occurrences(self, text: str, view: IndexView) -> PartResult | None:
        """A part asking where a term is mentioned is answered by every clause that has it."""
        if not self.a.lexicon.occurrences.search(text):
            return None
        cfg = self.a.config.retrieval
        found = view.rare_terms(text, cfg.occurrence_max_df, cfg.rare_min_han, cfg.rare_min_latin,
                                cfg.rare_min_digits, self.a.superseded, compounds=True)
        return answer_occurrences(text, found, view, self.a.config)


def _beyond(retrieval: Retrieval, answered: set[str]) -> Retrieval:
    """`retrieval` without the clauses already answered (keys, or ids cited by an earlier answer), unless
    nothing else was found."""
    rest = tuple(h for h in retrieval.hits if h.chunk.clause_key not in answered and h.chunk.clause_id not in answered)
    return replace(retrieval, hits=rest) if rest else retrieval


def _corpus_spelling(sentence: str, rare: dict[str, list[str]]) -> str:
    """The rare term as the document writes it (never the user's own spelling)."""
    lowered = sentence.lower()
    for term in sorted(rare, key=len, reverse=True):
        at = lowered.find(term.lower())
        if at >= 0:
            return sentence[at : at + len(term)]
    return ""
