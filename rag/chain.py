"""`Assistant.answer(question, history) -> Answer`: the one entry point the CLI, UI and eval use."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from index.catalog import load_catalog
from index.models import Document
from index.settings import Settings
from rag.extract import ExtractConfig, Extraction, extract, is_injection, related_of
from rag.models import Answer, Citation, Related
from rag.normalize import is_english, is_traditional, to_traditional
from rag.retrieve import HybridRetriever

_DETAIL_REASON = {"weak_evidence": "out_of_scope", "no_hits": "out_of_scope"}


class Assistant:
    """Holds the retriever (and its in-memory index view) for the life of a process."""

    def __init__(self, settings: Settings, *, embeddings: Any = None,
                 config: ExtractConfig | None = None) -> None:
        self.settings = settings
        self.config = config or ExtractConfig()
        self.retriever = HybridRetriever(settings=settings, k=settings.top_k, embeddings=embeddings)

    @cached_property
    def documents(self) -> dict[str, Document]:
        return {d.doc_id: d for d in load_catalog(self.settings.corpus_dir)}

    def title_of(self, doc_id: str) -> str:
        doc = self.documents.get(doc_id)
        return doc.citation_title if doc else doc_id

    def answer(self, question: str, history: Sequence[dict[str, str]] | None = None) -> Answer:
        started = time.perf_counter()
        result = self._answer(question, list(history or []))
        latency = round((time.perf_counter() - started) * 1000, 2)
        return Answer(**{**result.__dict__, "latency_ms": latency})

    def _answer(self, question: str, history: list[dict[str, str]]) -> Answer:
        question = question if isinstance(question, str) else str(question)
        stripped = question.strip()
        if not stripped:
            return self._refuse(question, "empty", "请输入您的问题,例如:“企业标准总师要培育多少名?”")
        if len(stripped) > self.settings.max_question_chars:
            return self._refuse(question, "too_long",
                                f"问题过长(超过{self.settings.max_question_chars}字),请精简后再问。")
        if is_injection(stripped):
            return self._refuse(question, "injection",
                                "我只能依据政策原文回答有关三门县标准化实施意见的问题,不能执行改变规则的指令。")
        retrieval = self.retriever.search(stripped)
        english = is_english(stripped)
        extraction = extract(retrieval, self.retriever.view(), self.config, english=english)
        related = related_of(retrieval.hits)
        if not extraction.citations:
            text = self._refusal_text(extraction, related, english)
            return self._refuse(question, _DETAIL_REASON.get(extraction.reason, extraction.reason),
                                text, related, retrieval.query, retrieval.degraded)
        text = self._compose(extraction.citations, english)
        if is_traditional(stripped) and not english:
            text = self._traditional(text, extraction.citations)
        return Answer(question, text, False, extraction.citations, "extractive",
                      standalone_question=retrieval.query, degraded=retrieval.degraded,
                      reason="lookup" if retrieval.ref else "")

    def _refuse(self, question: str, reason: str, text: str, related: tuple[Related, ...] = (),
                query: str = "", degraded: bool = False) -> Answer:
        return Answer(question, text, True, (), "extractive", related=related, reason=reason,
                      standalone_question=query, degraded=degraded)

    def _compose(self, citations: tuple[Citation, ...], english: bool) -> str:
        lines = []
        if english:
            lines.append(f"According to {self.title_of(citations[0].doc_id)} (quoted in the original Chinese):")
            lines += [f"• {c.label}【{c.clause_id}】: “{c.quote}”" for c in citations]
            return "\n".join(lines)
        docs = list(dict.fromkeys(c.doc_id for c in citations))
        lines.append(f"根据{self.title_of(docs[0])}:")
        for c in citations:
            source = f"{self.title_of(c.doc_id)}" if c.doc_id != docs[0] else ""
            lines.append(f"· {source}{c.label}【{c.clause_id}】:“{c.quote}”")
        return "\n".join(lines)

    def _refusal_text(self, extraction: Extraction, related: tuple[Related, ...], english: bool) -> str:
        title = self.title_of(self.settings.primary_doc)
        if english:
            head = f"Sorry, {title} does not answer this question."
            tail = "Related clauses you may want to read: " if related else ""
        elif extraction.detail:
            head = f"抱歉,{title}涉及相关内容,但没有规定{extraction.detail}。"
            tail = "可以查阅以下相关条款,或向县市场监督管理局咨询:" if related else ""
        else:
            head = f"抱歉,{title}中没有找到能回答这个问题的内容(本文件是三门县贯彻落实国家标准化发展纲要的实施意见)。"
            tail = "以下条款可能相关,供参考:" if related else ""
        names = "、".join(f"{r.label}【{r.clause_id}】" for r in related)
        return head + (f"\n{tail}{names}" if tail else "")

    @staticmethod
    def _traditional(text: str, citations: tuple[Citation, ...]) -> str:
        """Convert the prose to Traditional but keep every quote verbatim in the original."""
        converted = to_traditional(text)
        for c in citations:
            converted = converted.replace(to_traditional(c.quote), c.quote)
        return converted
