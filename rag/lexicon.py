"""What the chain knows about reading questions, loaded from reviewed data (corpus/language/).

Code holds mechanisms; this module turns the data files into one frozen `Lexicon` (compiled
patterns, word sets, texts, the gazetteer) that is passed explicitly to the pure functions of
the chain. Nothing here names a phrase of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jieba

from rag import segmenter
from rag.lexicon_files import LexiconError, load_table
from rag.stem import english_stem

if TYPE_CHECKING:
    from rag.support import ClaimLexicon

jieba.setLogLevel(60)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)


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


@dataclass(frozen=True)
class Place:
    name: str
    level: str  # province | city | county | township
    province: str
    city: str


@dataclass(frozen=True)
class References:
    """The vocabulary of the numbering grammar (第二部分第七条第2项, 序言…)."""

    part: str
    article: str
    ordinal: str
    item: str
    preamble: re.Pattern[str]
    lookup_words: re.Pattern[str]
    level2: str = ""
    level3: str = ""
    ask_prefix: str = ""


@dataclass(frozen=True)
class Lexicon:
    stopwords: frozenset[str]
    generic: frozenset[str]
    filler_openings: tuple[str, ...]
    topic_min_chars: int
    filler_endings: tuple[str, ...]
    details: tuple[DetailKind, ...]
    injection: re.Pattern[str]
    targets_question: re.Pattern[str]
    outline: re.Pattern[str]  # how a named section is divided (一共几条?)
    occurrences: re.Pattern[str]
    numeric_question: re.Pattern[str]
    basis_asks: re.Pattern[str]
    basis_citing: re.Pattern[str]
    basis_content: re.Pattern[str]
    document_words: str
    issuer_gap: tuple[int, int]  # characters between an issuer's name and a document word: CJK, Latin
    this_clause: re.Pattern[str]
    dependent: re.Pattern[str]
    swaps_topic: re.Pattern[str]
    general_ask: re.Pattern[str]  # a follow-up asking what the text says, inheriting no detail kind
    qualifier: re.Pattern[str]
    refers_back: re.Pattern[str]
    article_only: re.Pattern[str]
    short_chars: int
    multipart_split: re.Pattern[str]
    asked_before_comma: re.Pattern[str]
    pair_marker: re.Pattern[str]
    pair_split: re.Pattern[str]
    context: re.Pattern[str]
    spoken_opening: re.Pattern[str]
    asking: re.Pattern[str]
    follow_on: re.Pattern[str]
    further_adverb: re.Pattern[str]
    references: References
    texts: dict[str, dict[str, str]]
    glossary: dict[str, str]
    glossary_pattern: re.Pattern[str] | None
    places: dict[str, Place]  # full name and accepted short forms → place
    place_min_full: int
    home_places: frozenset[str]  # the jurisdiction and what contains it: never “where” within it
    not_rare: re.Pattern[str]
    boilerplate_labels: re.Pattern[str]
    boilerplate_date: re.Pattern[str]
    target: re.Pattern[str]  # a quantitative target: verb? value unit comparator? (rag/targets.py)
    claims: ClaimLexicon  # what claims.toml says a number, date or organisation looks like (rag/support.py)

    @cached_property
    def local_places(self) -> tuple[str, ...]:
        """Names of cities, counties and towns (a province is not where something is); a full name shorter
        than `place_min_full` (高县) is too often part of a word (提高县城), as in rag.scope.foreign_places; the
        jurisdiction and what contains it (`home_places`) name no location within it."""
        return tuple(name for name, p in self.places.items() if len(name) >= 2 and p.level != "province"
                     and (name != p.name or len(name) >= self.place_min_full) and name not in self.home_places
                     and p.name not in self.home_places)

    @cached_property
    def place_names(self) -> dict[Place, tuple[str, ...]]:
        """Each place → every name it is asked by (full and short)."""
        names: dict[Place, list[str]] = {}
        for name, place in self.places.items():
            names.setdefault(place, []).append(name)
        return {place: tuple(n) for place, n in names.items()}

    def tokenize(self, text: str) -> list[str]:
        """Search tokens: jieba's search-mode words, lower-cased, English stemmed; no stopwords or punctuation."""
        out = []
        segmenter.ensure()
        for token in jieba.cut_for_search(text.lower()):
            token = token.strip()
            if token and token not in self.stopwords and not _PUNCT.match(token):
                out.append(english_stem(token))
        return out

    def words(self, text: str) -> list[str]:
        """Precise (non-overlapping) jieba words, for finding exact terms of the corpus."""
        segmenter.ensure()
        return [w for w in (t.strip() for t in jieba.cut(text)) if w and not _PUNCT.match(w)]

    def asked_details(self, question: str) -> tuple[DetailKind, ...]:
        """The kinds `question` asks for; a corpus kind states exactly the figures the question names."""
        lowered, out = question.lower(), list[DetailKind]()
        for kind in self.details:
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

    def frame_words(self, question: str) -> set[str]:
        """Tokens inside what asks for a kind of detail (哪一年 → 一年, 哪一年): how it is asked, not its topic.
        A pattern that must see the whole question (a guard at ^) marks what asks as its group `ask`."""
        lowered = question.lower()
        asked = [m.group("ask" if "ask" in kind.asks.groupindex else 0) for kind in self.details if not kind.corpus
                 for m in kind.asks.finditer(lowered)]
        if not asked:
            return set()
        # the question's own tokens too: “截止到哪天” cuts to 哪天, “截止 哪天” to 哪 + 天
        tokens = [*self.tokenize(" ".join(asked)), *self.tokenize(lowered)]
        return {t for t in tokens if any(t in a for a in asked)}

    def text(self, lang: str, key: str, **values: object) -> str:
        """A sentence of the assistant's own voice (texts.toml), with catalog values filled in."""
        table = self.texts.get(lang) or self.texts["zh"]
        return table[key].format(**values)

    def english_terms(self, text: str) -> list[str]:
        """Chinese terms for the domain phrases found in an English question (longest match first)."""
        if self.glossary_pattern is None:
            return []
        return list(dict.fromkeys(self.glossary[m.group(1).lower()] for m in self.glossary_pattern.finditer(text)))


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


def _pattern(value: Any, where: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise LexiconError(f"{where}: expected a regular expression string")
    try:
        return re.compile(value, flags)
    except re.error as exc:
        raise LexiconError(f"{where}: invalid regular expression: {exc}") from exc


def _words(value: Any) -> frozenset[str]:
    return frozenset(str(value or "").split())


def _details(table: dict[str, Any]) -> tuple[DetailKind, ...]:
    kinds = []
    for i, raw in enumerate(table.get("detail", [])):
        where = f"details.toml detail #{i + 1}"
        source = raw.get("states_from")
        states = (None if source == "places" else re.compile(r"(?!)") if source == "question"
                  else _pattern(raw.get("states"), where + " states"))
        kinds.append(DetailKind(str(raw["name"]), str(raw["label"]), str(raw.get("label_en", raw["label"])),
                                _pattern(raw.get("asks"), where + " asks"), states, bool(raw.get("boilerplate")),
                                line=bool(raw.get("line")), prefer_line=bool(raw.get("prefer_line")),
                                near=int(raw.get("near", 0)), corpus=source == "question",
                                units=tuple(tuple(str(u) for u in g) for g in raw.get("units", [])),
                                loose_units=tuple(str(u) for u in raw.get("loose_units", [])),
                                count_words=str(raw.get("count_words", "(?!)")), of_named=bool(raw.get("of_named")),
                                own_sentence=bool(raw.get("own_sentence")),
                                qualified=_pattern(raw["qualified"], where + " qualified").pattern
                                if raw.get("qualified") else "",
                                noun_units=tuple((_pattern(n["nouns"], where + " noun_units").pattern, str(n["unit"]))
                                                 for n in raw.get("noun_units", []))))
    return tuple(kinds)


def _places(directory: Path, rules: dict[str, Any]) -> dict[str, Place]:
    suffixes = sorted(rules.get("suffixes", []), key=len, reverse=True)
    short_levels = set(rules.get("short_form_levels", []))
    never = set(rules.get("not_places", []))
    home = str(rules.get("home_province", ""))
    path = directory / "places.tsv"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LexiconError(f"{path}: gazetteer missing: {exc}") from exc
    table: dict[str, Place] = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        name, level, province, city = ([*line.split("\t"), "", "", ""])[:4]
        place = Place(name, level, province, city)
        table.setdefault(name, place)
        short = next((name[: -len(s)] for s in suffixes if name.endswith(s) and len(name) - len(s) >= 2), "")
        in_province = level == "county" and "county-in-province" in short_levels and province == home
        if short and short not in never and (level in short_levels or in_province):
            table.setdefault(short, place)
    return table


def _claims(directory: Path) -> ClaimLexicon:
    from rag.support import lexicon  # rag.support needs rag.normalize, which needs this module's References

    return lexicon(load_table(directory, "claims"))


@cache
def load_lexicon(directory: Path) -> Lexicon:
    """Every language data file of `directory`, compiled once per process."""
    directory = Path(directory)
    words, details = load_table(directory, "words"), load_table(directory, "details")
    pat, texts = load_table(directory, "patterns"), load_table(directory, "texts")
    glossary = {str(k).lower(): str(v) for k, v in load_table(directory, "glossary_en").get("terms", {}).items()}
    places_rules = load_table(directory, "places")
    basis, follow, multi, refs = pat["basis"], pat["followup"], pat["multipart"], pat["references"]
    glossary_re = (re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(glossary, key=len, reverse=True))
                              + r")(?:s|es)?\b", re.IGNORECASE) if glossary else None)
    return Lexicon(
        stopwords=_words(words["stopwords"].get("zh")) | _words(words["stopwords"].get("en")),
        # compared with search tokens, so English ones also as their stems (companies → compan)
        generic=_words(words["generic"].get("zh")) | (english := _words(words["generic"].get("en")))
        | {english_stem(w) for w in english},
        filler_openings=tuple(words.get("filler", {}).get("openings", [])),
        topic_min_chars=int(words.get("topic", {}).get("min_chars", 2)),
        filler_endings=tuple(words.get("filler", {}).get("endings", [])),
        details=_details(details),
        injection=_pattern(pat["injection"], "patterns.toml injection"),
        targets_question=_pattern(pat["targets_question"], "patterns.toml targets_question"),
        outline=_pattern(pat["outline"], "patterns.toml outline"),
        occurrences=_pattern(pat["occurrences"], "patterns.toml occurrences"),
        numeric_question=_pattern(pat["numeric_question"], "patterns.toml numeric_question"),
        basis_asks=_pattern(basis["asks"], "patterns.toml basis.asks"),
        basis_citing=_pattern(basis["citing"], "patterns.toml basis.citing"),
        basis_content=_pattern(basis["content"], "patterns.toml basis.content"),
        document_words=str(basis["document_words"]),
        issuer_gap=(int(basis.get("issuer_gap", 7)), int(basis.get("issuer_gap_latin", 20))),
        this_clause=_pattern(follow["this_clause"], "patterns.toml followup.this_clause"),
        dependent=_pattern(follow["dependent"], "patterns.toml followup.dependent"),
        swaps_topic=_pattern(follow["swaps_topic"], "patterns.toml followup.swaps_topic"),
        general_ask=_pattern(follow["general_ask"], "patterns.toml followup.general_ask"),
        qualifier=_pattern(follow["qualifier"], "patterns.toml followup.qualifier"),
        refers_back=_pattern(follow["refers_back"], "patterns.toml followup.refers_back"),
        article_only=_pattern(follow["article_only"], "patterns.toml followup.article_only"),
        short_chars=int(follow.get("short_chars", 6)),
        multipart_split=_pattern(multi["split"], "patterns.toml multipart.split"),
        asked_before_comma=_pattern(multi["asked_before_comma"], "patterns.toml multipart.asked_before_comma"),
        pair_marker=_pattern(multi["pair_marker"], "patterns.toml multipart.pair_marker"),
        pair_split=_pattern(multi["pair_split"], "patterns.toml multipart.pair_split"),
        context=_pattern(multi["context"], "patterns.toml multipart.context"),
        spoken_opening=_pattern(pat["spoken_opening"], "patterns.toml spoken_opening"),
        asking=_pattern(multi["asking"], "patterns.toml multipart.asking"),
        # optional: a lexicon dir kept from an older version has none, and then no part counts as further
        follow_on=_pattern(multi.get("follow_on", "(?!)"), "patterns.toml multipart.follow_on"),
        further_adverb=_pattern(multi.get("further_adverb", "(?!)"), "patterns.toml multipart.further_adverb"),
        references=References(str(refs["part"]), str(refs["article"]), str(refs["ordinal"]), str(refs["item"]),
                              _pattern(refs["preamble"], "patterns.toml references.preamble"),
                              _pattern(refs["lookup_words"], "patterns.toml references.lookup_words"),
                              str(refs.get("level2", "")), str(refs.get("level3", "")),
                              str(refs.get("ask_prefix", ""))),
        texts={lang: {str(k): str(v) for k, v in table.items()} for lang, table in texts.items()},
        glossary=glossary,
        glossary_pattern=glossary_re,
        places=_places(directory, places_rules),
        place_min_full=int(places_rules.get("min_full_name", 3)),
        home_places=frozenset(places_rules.get("home_places", [])),
        not_rare=_pattern(pat["terms"]["not_rare"], "patterns.toml terms.not_rare"),
        boilerplate_labels=_pattern(pat["boilerplate"]["labels"], "patterns.toml boilerplate.labels"),
        boilerplate_date=_pattern(pat["boilerplate"]["date"], "patterns.toml boilerplate.date"),
        target=_target_pattern(pat.get("targets", {})),
        claims=_claims(directory),
    )


def _target_pattern(table: dict[str, Any]) -> re.Pattern[str]:
    """verb? value unit comparator? from patterns.toml [targets]; the groups rag.targets reads by name."""
    units, verbs, cmp = (str(table.get(k, "")) for k in ("units", "verbs", "comparators"))
    if not units:
        raise LexiconError("patterns.toml [targets]: units must name at least one unit")
    verb = f"(?P<verb>{verbs})?" if verbs else "(?P<verb>(?!))?"
    comparator = f"(?P<cmp>{cmp})?" if cmp else "(?P<cmp>(?!))?"
    return _pattern(rf"{verb}(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>{units}){comparator}", "patterns.toml [targets]")
