"""LLM-mode prompt building (token-budgeted) and mechanical citation verification (pure functions).

Nothing the model writes is trusted: a 【clause_id】 must name a clause that was in the prompt, and a
quoted span attributed to it must occur verbatim in that clause (after NFKC, ignoring whitespace).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.chunk import count_tokens, split_sentences
from rag.lexicon_files import LexiconError, load_table
from rag.models import Citation, Dropped, Hit

DEFAULT_BUDGET = 3000
MESSAGE_OVERHEAD = 4  # tokens per chat message beyond its content (OpenAI's accounting)
MIN_QUOTE = 6  # shorter quoted spans are terms (“浙江标准”): verified, but the citation quotes their sentence
MAX_QUOTE_SPAN = 160

Message = tuple[str, str]  # (role, content): what ChatOpenAI accepts as a message


@dataclass(frozen=True)
class Prompts:
    """The instructions sent to the model, from corpus/language/prompts.toml (reviewed data, not code)."""

    answer_system: str
    answer_user: str
    rewrite_system: str
    rewrite_user: str
    rewrite_label: re.Pattern[str]
    interpret_system: str
    interpret_user: str


def load_prompts(lexicon_dir: Path, jurisdiction: str) -> Prompts:
    """prompts.toml with the county's name (the primary document's `jurisdiction` in the catalog) filled in."""
    table = load_table(lexicon_dir, "prompts")
    try:
        answer, rewrite, interpret = table["answer"], table["rewrite"], table["interpret"]
        return Prompts(str(answer["system"]).format(jurisdiction=jurisdiction or "本地"), str(answer["user"]),
                       str(rewrite["system"]), str(rewrite["user"]), re.compile(str(rewrite["label"])),
                       str(interpret["system"]).format(), str(interpret["user"]))
    except (KeyError, IndexError, ValueError, re.error) as exc:
        raise LexiconError(f"{lexicon_dir / 'prompts.toml'}: {exc!r}") from exc


@dataclass(frozen=True)
class ClauseBlock:
    """One retrieved clause as the prompt shows it; `ref` is the id the model must cite."""

    doc_id: str
    clause_id: str
    label: str
    text: str
    ref: str

    @property
    def key(self) -> str:
        return f"{self.doc_id}:{self.clause_id}"

    def render(self, text: str | None = None) -> str:
        return f"【{self.ref}】{self.label}\n{self.text if text is None else text}"


@dataclass(frozen=True)
class Prompt:
    messages: tuple[Message, ...]
    blocks: tuple[ClauseBlock, ...]  # the clauses shown, best first
    over_budget: tuple[str, ...]  # refs left out to fit the token budget
    tokens: int


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    dropped: tuple[str, ...]
    dropped_sentences: tuple[Dropped, ...] = ()


def clause_blocks(hits: Sequence[Hit], clause_text: Callable[[str], str], max_clauses: int = 8) -> list[ClauseBlock]:
    """Whole clauses in rank order (a clause's first hit ranks it); doc-qualified refs when ids collide."""
    seen: dict[str, Hit] = {}
    for hit in hits:
        seen.setdefault(hit.chunk.clause_key, hit)
    chosen = list(seen.items())[:max_clauses]
    ids = [h.chunk.clause_id for _k, h in chosen]
    blocks = []
    for key, hit in chosen:
        c = hit.chunk
        ref = c.clause_id if ids.count(c.clause_id) == 1 else f"{c.doc_id}:{c.clause_id}"
        blocks.append(ClauseBlock(c.doc_id, c.clause_id, c.label, clause_text(key) or c.text, ref))
    return blocks


def messages_tokens(messages: Sequence[Message]) -> int:
    return sum(count_tokens(content) + MESSAGE_OVERHEAD for _role, content in messages)


def history_messages(history: Sequence[Mapping[str, str]] | None, turns: int = 4, chars: int = 300) -> list[Message]:
    out: list[Message] = []
    for turn in list(history or [])[-turns:]:
        role = "assistant" if turn.get("role") == "assistant" else "user"
        out.append((role, str(turn.get("content", ""))[:chars]))
    return out


def build_prompt(question: str, blocks: Sequence[ClauseBlock], prompts: Prompts,
                 history: Sequence[Mapping[str, str]] | None = None, budget: int = DEFAULT_BUDGET) -> Prompt:
    """Fit the prompt to `budget` tokens: drop history first, then the lowest-ranked clauses.

    The best clause is always kept; if it alone is too long its text is cut to what fits (at least
    its first sentence, so a budget smaller than the bare prompt is exceeded rather than left empty).
    """
    turns = history_messages(history)
    kept = list(blocks)

    def assemble(shown: Sequence[ClauseBlock], past: list[Message], cut: str | None = None) -> list[Message]:
        rendered = [b.render(cut if (cut is not None and i == 0) else None) for i, b in enumerate(shown)]
        body = prompts.answer_user.format(blocks="\n\n".join(rendered), question=question)
        return [("system", prompts.answer_system), *past, ("user", body)]

    messages = assemble(kept, turns)
    while messages_tokens(messages) > budget and turns:
        turns = turns[2:] if len(turns) > 1 else []
        messages = assemble(kept, turns)
    while messages_tokens(messages) > budget and len(kept) > 1:
        kept.pop()
        messages = assemble(kept, turns)
    if kept and messages_tokens(messages) > budget:
        spare = budget - messages_tokens(assemble(kept, turns, cut=""))
        messages = assemble(kept, turns, cut=_prefix(kept[0].text, spare))
    over = tuple(b.ref for b in blocks[len(kept):])
    return Prompt(tuple(messages), tuple(kept), over, messages_tokens(messages))


def _prefix(text: str, tokens: int) -> str:
    """The longest run of whole sentences (else characters) within `tokens`; never empty."""
    cut = ""
    for sentence in split_sentences(text):
        if count_tokens(cut + sentence) > tokens:
            break
        cut += sentence
    if not cut:
        while len(cut) < len(text) and count_tokens(text[: len(cut) + 1]) <= tokens:
            cut = text[: len(cut) + 1]
    return cut or split_sentences(text)[0]


# ---------------------------------------------------------------- verification

_MARKER = re.compile(r"【([^【】\n]{1,60})】")
_PAIRS = {"「": "」", "『": "』", "“": "”"}
_SENT_END = "。!?;!?;\n"
_ELLIPSIS = re.compile(r"…+|\.{3,}")


def _norm_map(text: str) -> tuple[str, list[int]]:
    """NFKC per character, whitespace dropped, with each output char's index in `text`."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for n in unicodedata.normalize("NFKC", ch):
            if not n.isspace():
                out.append(n)
                index.append(i)
    return "".join(out), index


def locate(quote: str, clause: str) -> tuple[int, int] | None:
    """(start, end) of `quote` in `clause` (original offsets) or None; “……” elides, pieces stay in order."""
    norm, index = _norm_map(clause)
    pieces = [p for p in (_norm_map(piece)[0] for piece in _ELLIPSIS.split(quote)) if p]
    if not pieces:
        return None
    start = end = None
    pos = 0
    for piece in pieces:
        found = norm.find(piece, pos)
        if found < 0:
            return None
        start = found if start is None else start
        pos = end = found + len(piece)
    assert start is not None and end is not None
    return index[start], index[end - 1] + 1


def _quotes(text: str) -> list[tuple[int, int, str]]:
    """Top-level quoted spans (start, end, inner); nesting of 「」『』“” is honoured."""
    spans, stack = [], []
    for i, ch in enumerate(text):
        if ch in _PAIRS:
            stack.append((i, ch))
        elif stack and ch == _PAIRS[stack[-1][1]]:
            start, _open = stack.pop()
            if not stack:
                spans.append((start, i + 1, text[start + 1 : i]))
    return spans


def _sentence_ids(text: str, quotes: Sequence[tuple[int, int]], markers: Sequence[tuple[int, int]]) -> list[int]:
    """The sentence number of every character.

    Ends inside quotes or markers do not count, and a marker right after an end (“…以上。【一(二)-4】”)
    belongs to the sentence it follows.
    """
    inside = [False] * len(text)
    for start, end in [*quotes, *markers]:
        for i in range(start, end):
            inside[i] = True
    marker_end = dict(markers)
    ids: list[int] = []
    current, pending, i = 0, False, 0
    while i < len(text):
        if pending and i in marker_end:
            ids.extend([current] * (marker_end[i] - i))
            i = marker_end[i]
            continue
        if pending and text[i] not in " \t\u3000":
            current, pending = current + 1, False
        ids.append(current)
        if not inside[i] and (text[i] in _SENT_END or _latin_end(text, i)):
            pending = True
        i += 1
    return ids


def _latin_end(text: str, i: int) -> bool:
    """An ASCII full stop ends an English sentence when a space follows, unless it numbers a list item (“1. ”)."""
    if text[i] != "." or (i + 1 < len(text) and not text[i + 1].isspace()):
        return False
    line = text[text.rfind("\n", 0, i) + 1 : i]
    return not line.strip().isdigit()


def split_answer(text: str) -> list[str]:
    """A generated answer cut into the sentences verify() reads (a marker right after an end stays with it)."""
    markers = [(m.start(), m.end()) for m in _MARKER.finditer(text)]
    quotes = [(s, e) for s, e, _inner in _quotes(text) if not any(ms <= s < me for ms, me in markers)]
    out: list[str] = []
    previous = -1
    for ch, sid in zip(text, _sentence_ids(text, quotes, markers), strict=True):
        if sid != previous:
            out.append("")
            previous = sid
        out[-1] += ch
    return out


def _resolve(ref: str, blocks: Sequence[ClauseBlock]) -> ClauseBlock | str:
    ref = unicodedata.normalize("NFKC", ref).replace(" ", "")
    doc, _, clause = ref.rpartition(":")
    matches = [b for b in blocks if b.clause_id == clause and (not doc or b.doc_id == doc)]
    if len(matches) == 1:
        return matches[0]
    return "ambiguous clause" if matches else "unknown clause"


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[^\w]", "", unicodedata.normalize("NFKC", text))
    return {text[i : i + 2] for i in range(len(text) - 1)}


def best_sentence(clause: str, context: str, within: tuple[int, int] | None = None) -> str:
    """The clause sentence sharing most character bigrams with `context` (containing `within` if given)."""
    ctx = _bigrams(context)
    sentences, pos = [], 0
    for s in split_sentences(clause):
        if s.strip() and (within is None or (pos <= within[0] and within[1] <= pos + len(s))):
            sentences.append(s)
        pos += len(s)
    sentences = sentences or [clause]
    best = max(sentences, key=lambda s: len(_bigrams(s) & ctx)).strip()
    return re.sub(r"[。;;]+$", "", best)


_Marker = tuple[int, int, list[tuple[str, ClauseBlock | str]]]  # start, end, [(ref, block or reason)]
_Span = tuple[int, int]


def verify(text: str, blocks: Sequence[ClauseBlock]) -> Verified:
    """Keep only citations that name a supplied clause and whose attributed quotes are verbatim in it.

    A quote is attributed to the nearest citation in its sentence that contains it verbatim, else to
    the nearest one (which it then invalidates). Sentences holding a failed quote are removed, and so
    are invalid citation markers; every surviving citation carries a verbatim quote from its clause.
    """
    markers: list[_Marker] = []
    for m in _MARKER.finditer(text):
        names = [r for r in re.split(r"[、,,;;]+", m[1]) if r.strip()]
        markers.append((m.start(), m.end(), [(r.strip(), _resolve(r, blocks)) for r in names]))
    quotes = [q for q in _quotes(text) if not any(s <= q[0] < e for s, e, _r in markers)]
    sent = _sentence_ids(text, [(q[0], q[1]) for q in quotes], [(m[0], m[1]) for m in markers])
    spans, bad, bad_sentences, dropped = _attribute(quotes, markers, sent, blocks)
    out: list[str] = []
    valid: dict[str, ClauseBlock] = {}
    context: dict[str, str] = {}
    removed: dict[str, str] = {}
    starts = {m[0]: m for m in markers}
    i = 0
    while i < len(text):
        if i not in starts:
            if sent[i] not in bad_sentences:
                out.append(text[i])
            i += 1
            continue
        _s, end, refs = starts[i]
        keep: list[str] = []
        for ref, res in refs:
            if isinstance(res, str):
                dropped.append(f"{ref}: {res}")
            elif res.key in bad:
                dropped.append(f"{ref}: {bad[res.key]}")
            elif sent[i] in bad_sentences:
                removed.setdefault(res.key, f"{ref}: sentence with a misquote removed")
            else:
                keep.append(res.ref)
                valid.setdefault(res.key, res)
                context.setdefault(res.key, _sentence_text(text, sent, i))
        if keep:
            out.append("【" + "、".join(dict.fromkeys(keep)) + "】")
        i = end
    dropped += [reason for key, reason in removed.items() if key not in valid]
    cleaned = re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()
    citations = tuple(_citation(b, spans.get(k, []), context.get(k, "")) for k, b in valid.items())
    return Verified(cleaned, citations, tuple(dict.fromkeys(dropped)))


def _attribute(quotes: Sequence[tuple[int, int, str]], markers: Sequence[_Marker], sent: Sequence[int],
               blocks: Sequence[ClauseBlock]) -> tuple[dict[str, list[_Span]], dict[str, str], set[int], list[str]]:
    """Verified spans per clause key, clause keys a misquote invalidates, sentences to remove, drop notes."""
    spans: dict[str, list[_Span]] = {}
    bad: dict[str, str] = {}
    bad_sentences: set[int] = set()
    dropped: list[str] = []
    for q_start, q_end, inner in quotes:
        near = sorted(
            ((ms - q_end if ms >= q_end else q_start - me, ms < q_start, res)
             for ms, me, refs in markers if sent[ms] == sent[q_start]
             for _ref, res in refs if isinstance(res, ClauseBlock)),
            key=lambda t: (t[0], t[1]),
        )
        hit = next(((b, span) for _d, _before, b in near if (span := locate(inner, b.text))), None)
        if hit is not None:
            spans.setdefault(hit[0].key, []).append(hit[1])
        elif near:
            bad.setdefault(near[0][2].key, "quote not found")
            bad_sentences.add(sent[q_start])
        elif not any(locate(inner, b.text) for b in blocks):
            dropped.append(f"「{inner[:20]}」: quote not found")
            bad_sentences.add(sent[q_start])
    return spans, bad, bad_sentences, dropped


def _sentence_text(text: str, sent: Sequence[int], pos: int) -> str:
    return "".join(ch for ch, s in zip(text, sent, strict=True) if s == sent[pos])


def _citation(block: ClauseBlock, spans: Sequence[tuple[int, int]], context: str) -> Citation:
    """The verified quote (covering span of the quotes, or the longest when far apart), else the best sentence."""
    usable = sorted(s for s in spans if s[1] - s[0] >= MIN_QUOTE)
    if not usable and spans:
        return Citation(block.doc_id, block.clause_id, block.label, best_sentence(block.text, context, spans[0]))
    if usable:
        start, end = usable[0][0], max(e for _s, e in usable)
        if end - start > MAX_QUOTE_SPAN:
            start, end = max(usable, key=lambda s: s[1] - s[0])
        quote = block.text[start:end]
    else:
        quote = best_sentence(block.text, context)
    return Citation(block.doc_id, block.clause_id, block.label, quote)
