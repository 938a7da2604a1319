"""管理 → 命中测试 (hit test): type a question, see what the chain saw — from the answer's own trace.

`Assistant.explain(question, history)` answers the question and returns the trace as JSON-ready data
(rag/explain.py): normalised and standalone question, parts, rare terms, clause lookup, every
candidate with its BM25 / dense / key / fused scores, the sentences considered, the refusal decision
with its probability and reason, stage timings. The page shows it as tables and as the raw JSON that
`policyqa explain` prints. It takes an answer slot (ui/gate.py) like any answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import gradio as gr

from index.settings import Settings
from rag.chain import Assistant
from ui.api_service import MAX_HISTORY_TURNS, MAX_TURN_CHARS
from ui.format import esc
from ui.gate import AnswerGate, Busy
from ui.i18n import Translator, t
from ui.versions import fresh_documents

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
SCORES = ("fused", "bm25", "dense", "key_bm25", "key_dense")
SCORE_HEADS = ("融合 fused", "BM25", "向量 dense", "解读 BM25", "解读向量")


def parse_history(raw: str) -> list[dict[str, str]]:
    """`[{"role": "user", "content": "…"}, …]` (at most 50 turns of 20,000 characters); ValueError otherwise."""
    if not raw.strip():
        return []
    turns = json.loads(raw)
    if not isinstance(turns, list) or len(turns) > MAX_HISTORY_TURNS:
        raise ValueError(f"expected a list of at most {MAX_HISTORY_TURNS} turns")
    for turn in turns:
        if not (isinstance(turn, dict) and turn.get("role") in ("user", "assistant", "system")
                and isinstance(turn.get("content"), str) and len(turn["content"]) <= MAX_TURN_CHARS):
            raise ValueError('each turn is {"role": "user"|"assistant", "content": "…"}')
    return [{"role": str(x["role"]), "content": str(x["content"])} for x in turns]


def num(value: Any) -> str:
    return "—" if value is None else f"{float(value):.4f}"


def _table(heads: Sequence[str], rows: Sequence[Sequence[str]], cls: str) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    body = "".join(f'<tr class="{cls}">{"".join(rows_cell)}</tr>' for rows_cell in rows)
    return f'<table class="pqa-hit-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _kv(pairs: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)
    return f'<table class="pqa-hit-kv">{cells}</table>'


def candidates_html(retrieval: Mapping[str, Any]) -> str:
    rows = []
    for rank, c in enumerate(retrieval.get("candidates", []), start=1):
        scores = [f'<td class="pqa-c-{name}">{esc(num(c.get(name)))}</td>' for name in SCORES]
        rows.append([f"<td>{rank}</td>", f'<td class="pqa-c-clause">{esc(c.get("clause", ""))}</td>',
                     f'<td>{esc(c.get("label", ""))}</td>', *scores,
                     f'<td>{esc("、".join(c.get("rare") or []))}</td>', f'<td>{esc(c.get("via", ""))}</td>'])
    heads = ["#", "条款 clause", "标签 label", *SCORE_HEADS, "罕见词 rare", "方式 via"]
    lookup = f" · 条款号直达 lookup: {retrieval['lookup']}" if retrieval.get("lookup") else ""
    degraded = " · ⚠ degraded (BM25 only)" if retrieval.get("degraded") else ""
    title = f"候选 candidates — “{retrieval.get('query', '')}”{lookup}{degraded}"
    return f'<div class="pqa-hit-sec"><b>{esc(title)}</b>{_table(heads, rows, "pqa-hit-cand")}</div>'


def part_html(part: Mapping[str, Any]) -> str:
    decision = part.get("decision") or {}
    verdict = ("回答 answers" if decision.get("answers") else "拒答 refuses") if decision else "—"
    pairs = [("判定 decision", verdict), ("概率 probability", num(decision.get("probability"))),
             ("理由 why", decision.get("why", "")), ("原因 reason", part.get("reason", "")),
             ("细节 detail", part.get("detail") or "")]
    features = decision.get("features") or {}
    if features:
        pairs.append(("特征 features", ", ".join(f"{k}={num(v)}" for k, v in features.items())))
    rows = [[f'<td class="pqa-s-clause">{esc(s.get("clause", ""))}</td>', f'<td>{esc(s.get("sentence", ""))}</td>',
             f'<td>{esc(num(s.get("score")))}</td>'] for s in part.get("sentences", [])]
    sentences = _table(["条款", "句子 sentence", "分数 score"], rows, "pqa-hit-sent") if rows else ""
    return (f'<div class="pqa-hit-sec"><b>{esc("分句 part: " + str(part.get("part", "")))}</b>{_kv(pairs)}'
            f'{sentences}</div>')


def explanation_html(data: Mapping[str, Any]) -> str:
    """The explanation as escaped tables: question handling, outcome, candidates, decisions, timings."""
    answer = data.get("answer") or {}
    query = data.get("query") or {}
    rare = query.get("rare_terms") or {}
    head = _kv([("原问题 raw", query.get("raw", answer.get("question", ""))),
                ("规范化 normalised", query.get("normalised", "")),
                ("独立问题 standalone", query.get("standalone", "")),
                ("语言 language", query.get("language", "")), ("分句 parts", " | ".join(query.get("parts") or [])),
                ("罕见词 rare terms", ", ".join(f"{k}→{'、'.join(v)}" for k, v in rare.items())),
                ("结束阶段 stage", data.get("stage", "")),
                ("结果 outcome", ("拒答 refused" if answer.get("refused") else "回答 answered")
                 + (f" ({answer.get('reason')})" if answer.get("reason") else "")),
                ("引用 citations", "、".join(f"{c['doc_id']}:{c['clause_id']}" for c in answer.get("citations", [])))])
    timings = data.get("timings_ms") or {}
    time_line = " · ".join(f"{k} {v} ms" for k, v in timings.items())
    parts = [f'<div class="pqa-hit"><div class="pqa-hit-sec">{head}</div>',
             *[candidates_html(r) for r in data.get("retrievals", [])],
             *[part_html(p) for p in data.get("parts", [])],
             f'<div class="pqa-hit-sec pqa-hit-time"><b>耗时 timings</b> {esc(time_line)}</div></div>']
    return "".join(parts)


class HitTest:
    def __init__(self, settings: Settings, bot: Assistant, gate: AnswerGate | None = None) -> None:
        self.settings, self.bot = settings, bot
        self.gate = gate or AnswerGate.for_settings(settings)

    async def explain(self, authed: Any, question: Any, history: Any, lang: str) -> tuple[Any, ...]:
        if authed is not True:
            raise gr.Error("请先登录 / please log in")
        question = question.strip() if isinstance(question, str) else ""
        if not question:
            return "", None
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return f'<div class="pqa-note">{esc(t(lang, "too_long").format(n=len(question), limit=limit))}</div>', None
        try:
            turns = parse_history(history if isinstance(history, str) else "")
        except ValueError as exc:
            return f'<div class="pqa-note">⚠ {esc(t(lang, "hit_bad_history"))} {esc(exc)}</div>', None
        fresh_documents(self.bot, self.settings.corpus_dir)
        try:
            data = await self.gate.run(self.bot.explain, question, turns, size=len(question))
        except Busy:
            return f'<div class="pqa-note">{esc(t(lang, "busy"))}</div>', None
        return explanation_html(data), data


def build_hittest(settings: Settings, bot: Assistant, tr: Translator, lang: gr.Radio, authed: gr.State,
                  gate: AnswerGate | None = None) -> None:
    h = HitTest(settings, bot, gate)
    question = tr.add(gr.Textbox(label=t("zh", "hit_question"), max_length=settings.max_question_chars,
                                 elem_id="pqa-hit-q"), label="hit_question")
    history = tr.add(gr.Textbox(label=t("zh", "hit_history"), lines=2, max_length=200_000, elem_id="pqa-hit-history"),
                     label="hit_history")
    run = tr.add(gr.Button(t("zh", "hit_run"), variant="primary", elem_id="pqa-hit-run"), value="hit_run")
    shown = gr.HTML("", js_on_load=None, elem_id="pqa-hit-out")
    raw = gr.JSON(None, label="JSON (= policyqa explain)", open=False, elem_id="pqa-hit-json")
    gr.on([run.click, question.submit], h.explain, [authed, question, history, lang], [shown, raw],
          concurrency_limit=None, **PRIVATE)
