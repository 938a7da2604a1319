"""What the chain knows about reading questions, loaded from reviewed data (corpus/language/).

Code holds mechanisms; this module turns the data files into one frozen `Lexicon` (compiled
patterns, word sets, texts, the gazetteer) that is passed explicitly to the pure functions of
the chain. Nothing here names a phrase of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jieba

from rag import segmenter
from rag.detail_kinds import DetailKind, asked, frame_words, load_details, pattern
from rag.lexicon_files import LexiconError, load_table
from rag.stem import english_stem

if TYPE_CHECKING:
    from rag.support import ClaimLexicon

jieba.setLogLevel(60)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)


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
    scope: re.Pattern[str] | None = None  # after a piece of a clause's title, names that clause (先进制造业那部分)
    piece_min: int = 4  # the fewest characters of a title that name its clause
    piece_lead: re.Pattern[str] | None = None  # what may stand right before such a piece (else it ends another phrase)
    last: re.Pattern[str] | None = None  # “最后一条”: the last clause of the document or of the part it names
    last_part: re.Pattern[str] | None = None  # “最后一部分”: the document's last numbered part


@dataclass(frozen=True)
class Lexicon:
    stopwords: frozenset[str]
    generic: frozenset[str]
    filler_openings: tuple[str, ...]
    topic_min_chars: int
    filler_endings: tuple[str, ...]
    short_forms: tuple[tuple[re.Pattern[str], str], ...]  # everyday short form → the term texts spell out
    details: tuple[DetailKind, ...]
    injection: re.Pattern[str]
    targets_question: re.Pattern[str]
    outline: re.Pattern[str]  # how a named section is divided (一共几条?)
    occurrences: re.Pattern[str]
    locates: re.Pattern[str]  # asks where a sentence stands (“…这句话在哪一条”): no detail of it is asked
    numeric_question: re.Pattern[str]
    basis_asks: re.Pattern[str]
    basis_citing: re.Pattern[str]
    basis_content: re.Pattern[str]
    own_number: re.Pattern[str]  # asks a document's number (文号)
    own_status: re.Pattern[str]  # asks whether the document itself is in force or a draft
    document_words: str
    issuer_gap: tuple[int, int]  # characters between an issuer's name and a document word: CJK, Latin
    this_clause: re.Pattern[str]
    dependent: re.Pattern[str]
    swaps_topic: re.Pattern[str]
    general_ask: re.Pattern[str]  # a follow-up asking what the text says, inheriting no detail kind
    qualifier: re.Pattern[str]
    refers_back: re.Pattern[str]
    article_only: re.Pattern[str]
    next_clause: re.Pattern[str]
    short_chars: int
    multipart_split: re.Pattern[str]
    asked_before_comma: re.Pattern[str]
    pair_marker: re.Pattern[str]
    pair_split: re.Pattern[str]
    context: re.Pattern[str]
    statement_end: re.Pattern[str]
    asker: re.Pattern[str]
    spoken_opening: re.Pattern[str]
    asking: re.Pattern[str]
    follow_on: re.Pattern[str]
    further_adverb: re.Pattern[str]
    part_refers_back: re.Pattern[str]  # a part pointing back at the previous part's topic (这类企业)
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

    def without_years(self, terms: Iterable[str]) -> list[str]:
        """`terms` less the years that frame every target (terms.not_rare: 2025, 2025年, the 年 split off it)."""
        return [t for t in terms if not self.not_rare.search(t)]

    def spelled_out(self, text: str) -> str:
        """`text` with everyday short forms written as the texts write them (团标 → 团体标准)."""
        for short, full in self.short_forms:
            text = short.sub(full, text)
        return text

    def asked_details(self, question: str) -> tuple[DetailKind, ...]:
        """The kinds `question` asks for (rag.detail_kinds.asked); asking where a sentence stands (“奖励标准这句话在
        哪一条”) asks only for the figures it names."""
        kinds = asked(self.details, question)
        return tuple(k for k in kinds if k.corpus) if self.locates.search(question.lower()) else kinds

    def frame_words(self, question: str) -> set[str]:
        """Tokens inside what asks for a kind of detail: how it is asked, not its topic (rag.detail_kinds)."""
        return frame_words(self.details, question, self.tokenize)

    def text(self, lang: str, key: str, **values: object) -> str:
        """A sentence of the assistant's own voice (texts.toml), with catalog values filled in."""
        table = self.texts.get(lang) or self.texts["zh"]
        return table[key].format(**values)

    def english_terms(self, text: str) -> list[str]:
        """Chinese terms for the domain phrases found in an English question (longest match first)."""
        if self.glossary_pattern is None:
            return []
        return list(dict.fromkeys(self.glossary[m.group(1).lower()] for m in self.glossary_pattern.finditer(text)))


def _with_singulars(glossary: dict[str, str]) -> dict[str, str]:
    """A term written in the plural (“valves”, “machine tools”) also names its singular (“a valve factory”); the
    pattern adds plural endings to every key, so the plural key itself still matches."""
    out = dict(glossary)
    for key, value in glossary.items():
        head, _, last = key.rpartition(" ")
        if len(last) <= 3 or last.endswith(("ss", "us", "is")) or not last.endswith("s"):
            continue
        one = last[:-3] + "y" if last.endswith("ies") else last[:-2] if last.endswith(("ches", "shes", "xes")) \
            else last[:-1]
        out.setdefault(f"{head} {one}".strip(), value)
    return out


def _words(value: Any) -> frozenset[str]:
    return frozenset(str(value or "").split())


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
    glossary = _with_singulars({str(k).lower(): str(v)
                                for k, v in load_table(directory, "glossary_en").get("terms", {}).items()})
    places_rules = load_table(directory, "places")
    basis, follow, multi, refs = pat["basis"], pat["followup"], pat["multipart"], pat["references"]
    top, ba, fo, mu = (_compiler(t, where) for t, where in ((pat, ""), (basis, "basis."), (follow, "followup."),
                                                             (multi, "multipart.")))
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
        short_forms=tuple((pattern(k, f"words.toml short_forms {k!r}"), str(v))
                          for k, v in words.get("short_forms", {}).items()),
        details=load_details(details),
        injection=top("injection"),
        targets_question=top("targets_question"),
        outline=top("outline"),
        occurrences=top("occurrences"),
        locates=top("locates", "(?!)"),
        numeric_question=top("numeric_question"),
        basis_asks=ba("asks"),
        basis_citing=ba("citing"),
        basis_content=ba("content"),
        own_number=ba("own_number", "(?!)"),
        own_status=ba("own_status", "(?!)"),
        document_words=str(basis["document_words"]),
        issuer_gap=(int(basis.get("issuer_gap", 7)), int(basis.get("issuer_gap_latin", 20))),
        this_clause=fo("this_clause"),
        dependent=fo("dependent"),
        swaps_topic=fo("swaps_topic"),
        general_ask=fo("general_ask"),
        qualifier=fo("qualifier"),
        refers_back=fo("refers_back"),
        article_only=fo("article_only"),
        next_clause=fo("next_clause", "(?!)"),
        short_chars=int(follow.get("short_chars", 6)),
        multipart_split=mu("split"),
        asked_before_comma=mu("asked_before_comma"),
        pair_marker=mu("pair_marker"),
        pair_split=mu("pair_split"),
        context=mu("context"),
        statement_end=mu("statement_end", "(?!)"),
        asker=mu("asker", "(?!)"),
        spoken_opening=top("spoken_opening"),
        asking=mu("asking"),
        # optional: a lexicon dir kept from an older version has none, and then no part counts as further
        follow_on=mu("follow_on", "(?!)"),
        further_adverb=mu("further_adverb", "(?!)"),
        part_refers_back=mu("refers_back", "(?!)"),
        references=References(str(refs["part"]), str(refs["article"]), str(refs["ordinal"]), str(refs["item"]),
                              pattern(refs["preamble"], "patterns.toml references.preamble"),
                              pattern(refs["lookup_words"], "patterns.toml references.lookup_words"),
                              str(refs.get("level2", "")), str(refs.get("level3", "")),
                              str(refs.get("ask_prefix", "")),
                              pattern(refs["scope"], "patterns.toml references.scope") if "scope" in refs else None,
                              int(refs.get("piece_min", 4)),
                              pattern(refs.get("piece_lead", "(?!)"), "patterns.toml references.piece_lead"),
                              pattern(refs.get("last", "(?!)"), "patterns.toml references.last"),
                              pattern(refs.get("last_part", "(?!)"), "patterns.toml references.last_part")),
        texts={lang: {str(k): str(v) for k, v in table.items()} for lang, table in texts.items()},
        glossary=glossary,
        glossary_pattern=glossary_re,
        places=_places(directory, places_rules),
        place_min_full=int(places_rules.get("min_full_name", 3)),
        home_places=frozenset(places_rules.get("home_places", [])),
        not_rare=pattern(pat["terms"]["not_rare"], "patterns.toml terms.not_rare"),
        boilerplate_labels=pattern(pat["boilerplate"]["labels"], "patterns.toml boilerplate.labels"),
        boilerplate_date=pattern(pat["boilerplate"]["date"], "patterns.toml boilerplate.date"),
        target=_target_pattern(pat.get("targets", {})),
        claims=_claims(directory),
    )


def _compiler(table: dict[str, Any], section: str) -> Callable[..., re.Pattern[str]]:
    """Compiles the entries of one patterns.toml table, naming each in errors (optional ones with a default)."""
    def get(key: str, default: str | None = None) -> re.Pattern[str]:
        return pattern(table[key] if default is None else table.get(key, default), f"patterns.toml {section}{key}")
    return get


def _target_pattern(table: dict[str, Any]) -> re.Pattern[str]:
    """verb? value unit comparator? from patterns.toml [targets]; the groups rag.targets reads by name."""
    units, verbs, cmp = (str(table.get(k, "")) for k in ("units", "verbs", "comparators"))
    if not units:
        raise LexiconError("patterns.toml [targets]: units must name at least one unit")
    verb = f"(?P<verb>{verbs})?" if verbs else "(?P<verb>(?!))?"
    comparator = f"(?P<cmp>{cmp})?" if cmp else "(?P<cmp>(?!))?"
    return pattern(rf"{verb}(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>{units}){comparator}", "patterns.toml [targets]")
