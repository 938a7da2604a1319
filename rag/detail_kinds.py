"""Kinds of detail a question asks for (an amount, a date, a count…), read from corpus/language/details.toml.

A kind pairs what asks for it with what states it; `asked` instantiates the kinds of one question (the
figures it names, the unit it counts in, the level it qualifies), so the evidence test is per question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rag.lexicon_files import LexiconError


@dataclass(frozen=True)
class DetailKind:
    """A kind of detail a question asks for (an amount, a date…) and what states it."""

    name: str
    label: str
    label_en: str
    asks: re.Pattern[str]
    states: re.Pattern[str] | None  # None: stated by a place name of the gazetteer
    boilerplate: bool  # signature, date and contact lines may answer it
    line: bool = False  # the clause's line that states it is quoted too (the phone number's line)
    prefer_line: bool = False  # …even when another quoted sentence already states it in passing
    near: int = 0  # the statement must stand within this many characters of a question term (0: anywhere)
    corpus: bool = False  # stated when the corpus holds the question's own figure (`states` is built per question)
    units: tuple[tuple[str, ...], ...] = ()  # groups of interchangeable units: 多少人 is not stated by “3个”
    loose_units: tuple[str, ...] = ()  # units that count anything (几个人才 is stated by “10名”)
    count_words: str = "(?!)"  # what asks a count right before its unit (多少, 几): data, details.toml
    counted_in: tuple[str, ...] = ()  # per question: a statement must hold one of these units (rag.evidence)
    noun_units: tuple[tuple[str, str], ...] = ()  # (nouns, unit): 几个护理员 counts people, as 几名 would
    qualified: str = ""  # what names the level or sort of the counted thing (县级试点, 团体标准): data
    qualifiers: tuple[str, ...] = ()  # per question: the statement must name these too (县级试点 ≠ 省级试点)
    of_named: bool = False  # a contact of the body the question names (“县科技局的电话”), if it names one
    own_sentence: bool = False  # stated only by the answering sentence, not by a neighbour quoted with it


def asked(kinds: Sequence[DetailKind], question: str) -> tuple[DetailKind, ...]:
    """The kinds `question` asks for; a corpus kind states exactly the figures the question names."""
    lowered, out = question.lower(), list[DetailKind]()
    for kind in kinds:
        if not kind.asks.search(lowered):
            continue
        if kind.corpus:  # each figure named must be stated: 2035 is not stated by 2025 (“2025年…,那2035年…”)
            named = dict.fromkeys(re.sub(r"\s+", "", m.group(0)) for m in kind.asks.finditer(lowered))
            # 5万 is not stated by 15万; ISO 9001 is by “ISO9001”
            out.extend(replace(kind, states=re.compile(r"(?<![\d.])" + r"\s*".join(re.escape(ch) for ch in n)
                                                       + r"(?![\d.])", re.IGNORECASE)) for n in named)
            continue
        if kind.units:
            kind = _counted_in(kind, " ".join(m.group(0) for m in kind.asks.finditer(lowered)))
        if kind.qualified:
            kind = replace(kind, qualifiers=tuple(dict.fromkeys(re.findall(kind.qualified, lowered))))
        out.append(kind)
    return tuple(out)


def frame_words(kinds: Sequence[DetailKind], question: str, tokenize: Callable[[str], list[str]]) -> set[str]:
    """Tokens inside what asks for a kind of detail (哪一年 → 一年, 哪一年): how it is asked, not its topic.
    A pattern that must see the whole question (a guard at ^) marks what asks as its group `ask`."""
    lowered = question.lower()
    asks = [(m.group("ask") if "ask" in kind.asks.groupindex else None) or m.group(0) for kind in kinds
            if not kind.corpus for m in kind.asks.finditer(lowered)]
    if not asks:
        return set()
    # the question's own tokens too: “截止到哪天” cuts to 哪天, “截止 哪天” to 哪 + 天
    tokens = [*tokenize(" ".join(asks)), *tokenize(lowered)]
    return {t for t in tokens if any(t in a for a in asks)}


def _counted_in(kind: DetailKind, asked: str) -> DetailKind:
    """`kind` stated only by a count in the unit group the question counts in (多少人口 → 名/人/位…)."""
    def counted(group: tuple[str, ...]) -> bool:
        units = "|".join(re.escape(u) for u in group if u not in kind.loose_units)
        return bool(units) and re.search(rf"(?:{kind.count_words})(?:{units})", asked) is not None

    group = next((g for g in kind.units if counted(g)), None)
    if group is None and kind.loose_units:  # a loose unit before a noun of a group's kind (几个护理员 → 名/人)
        loose = "|".join(re.escape(u) for u in kind.loose_units)
        han = "\u4e00-\u9fff"
        unit = next((u for nouns, u in kind.noun_units
                     if re.search(rf"(?:{kind.count_words})(?:{loose})[{han}]{{0,4}}?(?:{nouns})(?![{han}])", asked)),
                    None)
        group = next((g for g in kind.units if unit in g), None)
    return kind if group is None else replace(kind, counted_in=group)


def pattern(value: Any, where: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """`value` compiled, or a LexiconError naming the data file entry it came from."""
    if not isinstance(value, str) or not value:
        raise LexiconError(f"{where}: expected a regular expression string")
    try:
        return re.compile(value, flags)
    except re.error as exc:
        raise LexiconError(f"{where}: invalid regular expression: {exc}") from exc


def load_details(table: dict[str, Any]) -> tuple[DetailKind, ...]:
    """The [[detail]] entries of details.toml, in order (the first kind that asks wins ties downstream)."""
    kinds: list[DetailKind] = []
    for i, raw in enumerate(table.get("detail", [])):
        where = f"details.toml detail #{i + 1}"
        if any(k.name == str(raw.get("name")) for k in kinds):  # refusal texts and the hit-test page name kinds
            raise LexiconError(f"{where}: the name {raw.get('name')!r} is already taken by an earlier kind")
        source = raw.get("states_from")
        states = (None if source == "places" else re.compile(r"(?!)") if source == "question"
                  else pattern(raw.get("states"), where + " states"))
        kinds.append(DetailKind(str(raw["name"]), str(raw["label"]), str(raw.get("label_en", raw["label"])),
                                pattern(raw.get("asks"), where + " asks"), states, bool(raw.get("boilerplate")),
                                line=bool(raw.get("line")), prefer_line=bool(raw.get("prefer_line")),
                                near=int(raw.get("near", 0)), corpus=source == "question",
                                units=tuple(tuple(str(u) for u in g) for g in raw.get("units", [])),
                                loose_units=tuple(str(u) for u in raw.get("loose_units", [])),
                                count_words=str(raw.get("count_words", "(?!)")), of_named=bool(raw.get("of_named")),
                                own_sentence=bool(raw.get("own_sentence")),
                                qualified=pattern(raw["qualified"], where + " qualified").pattern
                                if raw.get("qualified") else "",
                                noun_units=tuple((pattern(n["nouns"], where + " noun_units").pattern, str(n["unit"]))
                                                 for n in raw.get("noun_units", []))))
    return tuple(kinds)
