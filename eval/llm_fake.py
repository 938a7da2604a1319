"""A fake OpenAI-compatible chat endpoint on 127.0.0.1, and `python -m eval.llm_fake`: LLM mode vs. an adversary.

The endpoint is real HTTP (a ThreadingHTTPServer): ChatOpenAI talks to it exactly as to vLLM. The tests
give it a `Script` of replies; the measurement gives it an `Adversary` that reads the clause blocks of
each prompt and answers plausibly but dishonestly: a real sentence with its correct marker, plus an
invented amount, year, phone or organisation, an unknown clause id, a number moved from another clause,
a quote changed by one character or an uncited claim. The chain then runs in LLM mode (FAQ off) over
every gold question, and an oracle independent of rag/support.py counts what reached the answer text.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLD = ("gold.jsonl", "gold_test.jsonl", "gold_blind_dev.jsonl", "gold_blind_test.jsonl")


@dataclass
class Reply:
    kind: str  # json | sse | sse-hang (stalls mid-stream) | status | hang | raw
    content: str = ""
    status: int = 200


@dataclass
class Script:
    """Scripted replies, in order (the last one repeats); every request body is recorded."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def __call__(self, body: dict[str, Any]) -> Reply:
        self.requests.append(body)
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def _completion(content: str) -> bytes:
    return json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }, ensure_ascii=False).encode("utf-8")


def _chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n\n"


def _handler(respond: Callable[[dict[str, Any]], Reply], release: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            reply = respond(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            if reply.kind == "hang":
                release.wait(10)
                reply = Reply("json", reply.content)
            if reply.kind in ("sse", "sse-hang"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(_chunk({"role": "assistant", "content": ""}))
                for i in range(0, len(reply.content), 4):
                    self.wfile.write(_chunk({"content": reply.content[i : i + 4]}))
                    self.wfile.flush()
                    if reply.kind == "sse-hang" and i >= 8:
                        release.wait(10)
                        return
                self.wfile.write(_chunk({}, "stop") + b"data: [DONE]\n\n")
                return
            payload = {
                "json": lambda: _completion(reply.content),
                "status": lambda: json.dumps({"error": {"message": reply.content or "boom"}}).encode(),
                "raw": lambda: reply.content.encode("utf-8"),
            }[reply.kind]()
            self.send_response(reply.status)
            self.send_header("Content-Type", "text/html" if reply.kind == "raw" else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


class FakeOpenAI:
    """`with FakeOpenAI(respond) as api:` serves /v1/chat/completions on 127.0.0.1 at `api.url`."""

    def __init__(self, respond: Callable[[dict[str, Any]], Reply], release: threading.Event | None = None) -> None:
        self.release = release or threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(respond, self.release))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------- the adversary

_BLOCK = re.compile(r"【([^】\n]+)】[^\n]*\n(.*?)(?=\n\n【|\n\n用户问题|\Z)", re.S)
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:%|个月|个|项|名|家)")


@dataclass(frozen=True)
class Planted:
    sentence: str  # the adversarial sentence as the model wrote it
    fact: str  # what it invents (an amount, a clause id, a quote changed by one character…)


def _pick(candidates: list[str], text: str) -> str:
    return next(c for c in candidates if c not in text)


class Adversary:
    """Answers every prompt from its own clause blocks, planting one or two fabrications (seeded, repeatable)."""

    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.planted: list[Planted] | None = None  # of the latest answer request; None: none since reset
        self.honest = False  # whether the latest answer began with a real, correctly cited sentence

    def __call__(self, body: dict[str, Any]) -> Reply:
        kind = "sse" if body.get("stream") else "json"
        user = str(body["messages"][-1]["content"])
        if "条款:\n【" not in user:  # a follow-up rewrite: echo the question
            return Reply(kind, user.partition("追问:")[2].split("\n")[0])
        head, _, tail = user.partition("\n\n用户问题")
        blocks = [(m[1], m[2].strip()) for m in _BLOCK.finditer(head + "\n\n用户问题")]
        text, self.planted = self.compose(blocks, tail.split("\n", 1)[-1])
        return Reply(kind, text)

    def compose(self, blocks: list[tuple[str, str]], question: str) -> tuple[str, list[Planted]]:
        ref, text = blocks[0]
        every = "".join(t for _r, t in blocks)
        sentences = [s for s in re.split(r"(?<=[。;])", re.sub(r"\s+", "", text)) if len(s) > 8] or [text]
        best = max(sentences, key=lambda s: len(set(s) & set(question))).strip("。; ")
        others = [t for _r, t in blocks[1:]]
        moved = next((n for t in others for n in _NUMBER.findall(t) if n not in text), None)
        moved = moved or _pick(["85%", "95%", "60%"], every)
        digit = next((i for i, ch in enumerate(best) if ch.isdigit()), len(best) // 2)
        changed = best[:digit] + ("8" if best[digit : digit + 1] != "8" else "9") + best[digit + 1 :]
        amount, year = _pick(["100万元", "50万元", "30万元"], every), _pick(["2027年", "2030年", "2026年"], every)
        fake_id = f"二(九){self.rng.randint(1, 9)}"
        tricks = [
            (f"符合条件的企业最高可获得{amount}奖励【{ref}】。", amount),
            (f"此外,{sentences[-1].strip('。; ')}【{fake_id}】。", fake_id),
            (f"文件要求相关指标达到{moved}【{ref}】。", moved),
            (f"上述任务应在{year}底前全部完成【{ref}】。", year),
            (f"具体由县财政局会同县标准化研究院负责【{ref}】。", "县财政局"),
            (f"文件原文是“{changed}”【{ref}】。", changed),
            ("一般情况下,审核周期为15个工作日。", "15个工作日"),
            (f"咨询电话为0576-88886666【{ref}】。", "88886666"),
        ]
        self.honest = self.rng.random() > 0.15
        chosen = self.rng.sample(tricks, k=self.rng.choice([1, 2]))
        honest = f"根据文件,“{best}”【{ref}】。" if self.rng.random() < 0.5 else f"文件提出,{best}【{ref}】。"
        lead = [honest] if self.honest else []
        return "".join(lead + [s for s, _f in chosen]), [Planted(s, f) for s, f in chosen]


# ---------------------------------------------------------------- the measurement

_SENTENCE = re.compile(r"[^。!?;!?;\n]*(?:[。!?;!?;\n]|$)(?:【[^】\n]*】)*")
_MARK = re.compile(r"【([^】\n]*)】")
_CLAUSE_REF = re.compile(r"[一二三四五六七八九十]{1,3}、?[((][一二三四五六七八九十]{1,3}[))](?:-?\d{1,2})?")


def fabricated(answer: Any, source: Callable[[str], str]) -> list[str]:
    """Numbers and clause ids shown that the clauses cited beside them do not contain (an oracle that
    shares no code with rag/support.py): per sentence, every digit run must occur in the label or text
    of a clause it cites (of any cited clause when it cites none); every clause id must be cited."""
    cited = {c.clause_id: f"{c.doc_id}:{c.clause_id}" for c in answer.citations}
    shown: list[str] = []
    for sentence in _SENTENCE.findall(unicodedata.normalize("NFKC", answer.answer)):
        ids = [i.strip() for m in _MARK.findall(sentence) for i in re.split(r"[、,]", m)]
        shown += [f"clause {i}" for i in ids if i.split(":")[-1] not in cited]
        prose = _MARK.sub("", sentence)
        refs = [unicodedata.normalize("NFKC", r).replace("、", "") for r in _CLAUSE_REF.findall(prose)]
        shown += [f"clause {r}" for r in refs if not any(k.startswith(r) for k in cited)]
        keys = [cited[i.split(":")[-1]] for i in ids if i.split(":")[-1] in cited] or list(cited.values())
        texts = unicodedata.normalize("NFKC", "\n".join(source(k) for k in keys))
        for number in re.findall(r"\d+(?:\.\d+)?", prose):
            if not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d]|\.\d)", texts):
                shown.append(f"number {number}")
    return shown


def run(data_dir: Path) -> dict[str, Counter[str]]:
    """Every gold question in LLM mode against the adversary; counters per gold file."""
    from eval.gold import load_gold
    from index.build import build_index
    from index.settings import Settings
    from rag.chain import Assistant
    from rag.models import Answer

    adversary = Adversary()
    results: dict[str, Counter[str]] = {}
    with FakeOpenAI(adversary) as api:
        settings = Settings(data_dir=data_dir, chroma_url=None, faq=False, llm_base_url=api.url, llm_model="adversary",
                            llm_timeout=10.0, embed_threads=1)
        build_index(settings)
        assistant = Assistant(settings)
        view = assistant.retriever.view()

        def source(key: str) -> str:
            chunks = view.by_clause.get(key, [])
            return (chunks[0].label if chunks else "") + "\n" + view.clause_text(key)

        for n, name in enumerate(GOLD):
            counts: Counter[str] = Counter()
            for i, item in enumerate(load_gold(ROOT / "eval" / name)):
                adversary.planted = None
                history = [dict(t) for t in item.history]
                if (n + i) % 2:  # every other question streams; the final Answer is what the user keeps
                    final = [x for x in assistant.stream(item.question, history, mode="llm") if isinstance(x, Answer)]
                    answer = final[-1]
                else:
                    answer = assistant.answer(item.question, history, mode="llm")
                counts["questions"] += 1
                if adversary.planted is None:
                    counts["not sent to the model (refused or answered from the catalog)"] += 1
                    continue
                counts["sent to the model"] += 1
                counts["replies with only fabrications"] += not adversary.honest
                counts[f"mode {answer.mode}" + (f" ({answer.reason})" if answer.mode != "llm" else "")] += 1
                counts["sentences dropped"] += len(answer.dropped_sentences)
                counts["honest sentences dropped"] += sum(not any(d.sentence in p.sentence for p in adversary.planted)
                                                          for d in answer.dropped_sentences)
                counts["planted sentences"] += len(adversary.planted)
                body = _MARK.sub("", answer.answer)
                counts["planted sentences shown"] += sum(_MARK.sub("", p.sentence) in body for p in adversary.planted)
                counts["fabricated facts shown (oracle)"] += len(fabricated(answer, source))
                cited = "".join(source(f"{c.doc_id}:{c.clause_id}") for c in answer.citations)
                counts["planted facts shown"] += sum(p.fact in answer.answer and p.fact not in cited
                                                     for p in adversary.planted)
            results[name] = counts
    return results


ROWS = ("questions", "not sent to the model (refused or answered from the catalog)", "sent to the model",
        "replies with only fabrications", "planted sentences", "planted sentences shown", "sentences dropped",
        "honest sentences dropped", "planted facts shown", "fabricated facts shown (oracle)")


def provenance() -> str:
    """Which code the numbers come from: the commit, and whether the working tree differed from it."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = " plus uncommitted changes in the working tree" if git("status", "--porcelain") else ""
    return f"commit {git('rev-parse', '--short', 'HEAD') or 'unknown'}{dirty}"


def report(results: dict[str, Counter[str]], seconds: float) -> str:
    total: Counter[str] = sum(results.values(), Counter())
    modes = sorted(k for k in total if k.startswith("mode "))
    keys = [*ROWS[:4], *modes, *ROWS[4:]]
    head = "| | " + " | ".join(results) + " | all |\n|---|" + "---|" * (len(results) + 1)
    rows = [f"| {k} | " + " | ".join(str(c[k]) for c in results.values()) + f" | {total[k]} |" for k in keys]
    return "\n".join([
        "# LLM mode against an adversarial fake endpoint (`python -m eval.llm_fake`)", "",
        "A fake OpenAI-compatible server on 127.0.0.1 answers every prompt from the clause blocks in it (seeded,",
        "repeatable): in about 85% of replies a real sentence of the best clause, quoted or unquoted, with its",
        "correct marker; then one or two planted sentences: an invented amount, year, phone number or",
        "organisation, an unknown clause id, a number moved from another clause, a quote changed by one",
        "character, an uncited claim. The chain runs in LLM mode with FAQ off over every question of the four",
        "gold files; every other question streams. `honest sentences dropped` counts dropped sentences that",
        "were not planted (false drops). `fabricated facts shown (oracle)` counts digit runs and clause ids in",
        "the final answer text that the clauses cited beside them do not contain (an oracle sharing no code",
        "with rag/support.py); `planted facts shown` counts planted inventions that reached the answer text",
        "and are not in a cited clause.", "", head, *rows, "",
        "Limits: the honest sentences reuse the clause's wording; a real model paraphrases more freely, so its",
        "false-drop rate is not measured here. Support is checked per cited clause, not per statement: a number",
        "moved between two statements of the same clause with the same unit would not be caught.", "",
        f"Measured by the script on {provenance()} in {seconds:.0f} s; rerun it to refresh them.", "",
    ])


def main() -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="llm-fake-") as tmp:
        results = run(Path(tmp))
    text = report(results, time.perf_counter() - started)
    (ROOT / "eval" / "reports" / "llm-fake.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
