"""`policyqa interpret --draft`: an LLM drafts plain-language records for clauses that have none.

Drafts are written UNREVIEWED (no `reviewed_by` / `reviewed_at`, whatever the model says), so they are
never shown to users until the office reviews them in 管理 → 通俗解读. Each reply must be one JSON
object that `index.interpretations.parse_record` accepts; anything else is reported and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from index.build import load_corpus
from index.interpretations import Interpretation, load_interpretations, parse_record, save_interpretation
from index.models import Clause, Document
from index.settings import Settings
from rag.llm_prompt import Prompts, load_prompts

Generate = Callable[[list[tuple[str, str]]], str]

@dataclass
class DraftReport:
    written: list[str] = field(default_factory=list)  # clause keys
    failed: list[tuple[str, str]] = field(default_factory=list)  # clause key, why
    already: int = 0  # clauses that had a record


def messages(doc: Document | None, clause: Clause, prompts: Prompts) -> list[tuple[str, str]]:
    title = doc.citation_title if doc else clause.doc_id
    path = " / ".join((*clause.heading_path, clause.label))
    return [("system", prompts.interpret_system),
            ("user", prompts.interpret_user.format(title=title, clause_id=clause.clause_id, path=path,
                                                   text=clause.text))]


def parse_draft(reply: str, clause: Clause) -> Interpretation:
    """The reply's JSON object as an unreviewed record of `clause`; ValueError when it is not one."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the reply holds no JSON object")
    try:
        raw: Any = json.loads(reply[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the reply is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError("the reply is not a JSON object")
    raw = {**raw, "doc_id": clause.doc_id, "clause_id": clause.clause_id}
    return replace(parse_record(raw), reviewed_by="", reviewed_at="")


def missing(settings: Settings, doc_id: str | None = None) -> tuple[list[Clause], dict[str, Document], int]:
    """Clauses (in document order) without a record, the catalog, and how many have one."""
    docs, clauses = load_corpus(settings)
    have = load_interpretations(settings.corpus_dir)
    chosen = [c for c in clauses if doc_id in (None, c.doc_id)]
    return [c for c in chosen if c.key not in have], {d.doc_id: d for d in docs}, sum(c.key in have for c in chosen)


def draft_missing(settings: Settings, generate: Generate, *, doc_id: str | None = None, limit: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> DraftReport:
    """Ask the model once per clause without a record; write each valid draft at once (atomically)."""
    todo, docs, already = missing(settings, doc_id)
    todo = todo[:limit] if limit is not None else todo
    report = DraftReport(already=already)
    primary = docs.get(settings.primary_doc)
    prompts = load_prompts(settings.lexicon_dir, primary.jurisdiction if primary else "")
    for n, clause in enumerate(todo, start=1):
        try:
            record = parse_draft(generate(messages(docs.get(clause.doc_id), clause, prompts)), clause)
            save_interpretation(settings.corpus_dir, record)
            report.written.append(clause.key)
        except Exception as exc:  # an endpoint error or an unusable reply: report it, go on with the next
            report.failed.append((clause.key, f"{type(exc).__name__}: {exc}"[:300]))
        if progress:
            progress(n, len(todo))
    return report


def llm_generate(settings: Settings) -> Generate:
    """The configured OpenAI-compatible endpoint (POLICYQA_LLM_*), through rag's LLM client."""
    from rag.llm import LLMAnswerer

    model = LLMAnswerer(settings).generate

    def generate(prompt: Sequence[tuple[str, str]]) -> str:
        return str(model.invoke(list(prompt)))

    return generate
