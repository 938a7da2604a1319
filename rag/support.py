"""Claims in a generated sentence, and whether the clauses it cites state them (pure functions).

Why: in LLM mode the model phrases the answer. `rag.llm_prompt.verify` checks citation markers and
quoted spans, but a model also writes facts in its own words beside a valid marker (“可获得100万元奖励
【二(七)2】”). So every number, amount, percentage, date, phone number, e-mail address, named
organisation and clause number a sentence states must occur in the text of the clauses that sentence
cites. What counts as a claim (unit words, organisation endings, numerals…) is reviewed data in
corpus/language/claims.toml, passed in as a `ClaimLexicon`; this module holds only the mechanism.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rag.lexicon_files import LexiconError
from rag.normalize import HAN, normalize

Key = tuple[Any, ...]
Date = tuple[int | None, int | None, int | None]


@dataclass(frozen=True)
class Claim:
    """One checkable fact: `kind` names it in a drop reason, `text` is as written, `key` is what must match."""

    kind: str  # number | amount | percentage | date | year | phone | e-mail | organisation | clause
    text: str
    key: Key


@dataclass(frozen=True)
class ClaimLexicon:
    """corpus/language/claims.toml in the shape the extractor uses (built once by `lexicon`)."""

    digits: Mapping[str, int]
    multipliers: Mapping[str, int]
    articles: frozenset[str]
    ordinal_prefixes: tuple[str, ...]
    idioms: tuple[str, ...]
    units: tuple[tuple[str, str], ...]  # (word, kind), longest word first
    aliases: Mapping[str, str]
    percent_prefixes: tuple[str, ...]
    year: frozenset[str]
    month: frozenset[str]
    day: frozenset[str]
    date_separators: str
    year_digits: int
    phone_min_digits: int
    phone_separators: str
    org_names: tuple[str, ...]
    org_suffixes: tuple[str, ...]
    org_min_name_chars: int
    org_max_name_chars: int
    org_boundaries: str
    org_not_names: tuple[str, ...]
    org_english: re.Pattern[str]  # another body named in an English question (never the text's own words)
    connective_max_chars: int
    org_place_gap: int = 8  # a place names a body when at most this many characters stand between them


def _longest_first(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(words), key=len, reverse=True))


def lexicon(table: Mapping[str, Any]) -> ClaimLexicon:
    """Validate and shape the loaded claims table; a missing or mistyped entry is a LexiconError."""
    try:
        num, dates, phones, orgs = table["numerals"], table["dates"], table["phones"], table["organisations"]
        units = tuple((w, str(u["kind"])) for u in table["units"] for w in u["words"])
        aliases = {str(k): str(v) for u in table["units"] for k, v in u.get("aliases", {}).items()}
        return ClaimLexicon(
            digits={str(k): int(v) for k, v in num["digits"].items()},
            multipliers={str(k): int(v) for k, v in num["multipliers"].items()},
            articles=frozenset(num["articles"]), ordinal_prefixes=tuple(num["ordinal_prefixes"]),
            idioms=_longest_first(num["idioms"]),
            units=tuple(sorted(units, key=lambda u: len(u[0]), reverse=True)), aliases=aliases,
            percent_prefixes=_longest_first([p for u in table["units"] for p in u.get("prefixes", [])]),
            year=frozenset(dates["year"]), month=frozenset(dates["month"]), day=frozenset(dates["day"]),
            date_separators="".join(dates["separators"]), year_digits=int(dates["year_digits"]),
            phone_min_digits=int(phones["min_digits"]), phone_separators="".join(phones["separators"]),
            org_names=_longest_first(orgs["names"]), org_suffixes=_longest_first(orgs["suffixes"]),
            org_min_name_chars=int(orgs["min_name_chars"]), org_max_name_chars=int(orgs["max_name_chars"]),
            org_boundaries=str(orgs["boundaries"]), org_not_names=_longest_first(orgs["not_names"]),
            org_english=re.compile(str(orgs.get("english", "(?!)")), re.IGNORECASE),
            connective_max_chars=int(table["connectives"]["max_chars"]),
            org_place_gap=int(orgs.get("place_gap", 8)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LexiconError(f"claims.toml: missing or malformed entry {exc}") from exc


# ---------------------------------------------------------------- preparing text

_MARKER = re.compile(r"【[^【】\n]{1,60}】")
_LIST_MARK = re.compile(r"^[ \t]*(?:(?:#{1,6}|>|[-*+•])[ \t]+|(?:\d{1,2}(?:\.(?!\d)|、|\))|\(\d{1,2}\))[ \t]*)+",
                        re.M)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def prepare(text: str) -> str:
    """The text claims are read from: markers, list bullets and markdown emphasis out, NFKC and 繁→简."""
    text = _LIST_MARK.sub("", _MARKER.sub(" ", text)).replace("*", "").replace("`", "")
    return _THOUSANDS.sub("", normalize(text))


def _mask(chars: list[str], start: int, end: int) -> None:
    chars[start:end] = [" "] * (end - start)


def _numeral_value(text: str, lex: ClaimLexicon) -> int:
    """二〇二五 → 2025, 二十 → 20, 三百五十 → 350, 两 → 2 (digit runs positional, multipliers summed)."""
    total, digit = 0, None
    for ch in text:
        if ch in lex.digits:
            digit = lex.digits[ch] if digit is None else digit * 10 + lex.digits[ch]
        else:
            total += (1 if digit is None else digit) * lex.multipliers[ch]
            digit = None
    return total + (digit or 0)


def _unit_at(text: str, pos: int, lex: ClaimLexicon) -> tuple[str, str, int] | None:
    """The unit written at `pos` (one space allowed before a Latin unit): (word, kind, end)."""
    for word, kind in lex.units:
        latin = word.isascii() and word.isalpha()
        at = pos + 1 if latin and text[pos : pos + 1] == " " else pos
        end = at + len(word)
        after = text[end : end + 1]
        if text[at:end].lower() == word.lower() and not (latin and after.isascii() and after.isalpha()):
            return lex.aliases.get(word, word), kind, end
    return None


# ---------------------------------------------------------------- extraction


def claims(text: str, lex: ClaimLexicon, *, prepared: bool = False) -> tuple[Claim, ...]:
    """Every claim in `text`, in order of kind: e-mails, clause numbers, dates, phones, numbers, organisations."""
    s = text if prepared else prepare(text)
    chars = list(s)
    found: list[Claim] = []
    for idiom in lex.idioms:
        for m in re.finditer(re.escape(idiom), s):
            _mask(chars, m.start(), m.end())
    for m in _EMAIL.finditer(s):
        found.append(Claim("e-mail", m[0], ("e", m[0].lower())))
        _mask(chars, m.start(), m.end())
    cn = "".join(lex.digits) + "".join(lex.multipliers)
    clause = re.compile(rf"([{cn}]{{1,3}})、?\(([{cn}]{{1,3}})\)(?:-(\d{{1,2}})|(\d{{1,2}})(?![\d%]))?")
    for m in clause.finditer("".join(chars)):
        cid = f"{m[1]}({m[2]})" + (f"-{m[3]}" if m[3] else m[4] or "")
        found.append(Claim("clause", m[0], ("c", cid)))
        _mask(chars, m.start(), m.end())
    seps = re.escape(lex.date_separators)
    for m in re.finditer(rf"(?<![\d.])(\d{{4}})([{seps}])(\d{{1,2}})\2(\d{{1,2}})(?![\d.])", "".join(chars)):
        found.append(Claim("date", m[0], ("d", int(m[1]), int(m[3]), int(m[4]))))
        _mask(chars, m.start(), m.end())
    psep = re.escape(lex.phone_separators)
    for m in re.finditer(rf"(?<![\d.])\+?\d(?:[{psep}]?\d){{{lex.phone_min_digits - 1},}}(?![\d.])", "".join(chars)):
        found.append(Claim("phone", m[0], ("p", re.sub(r"\D", "", m[0]))))
        _mask(chars, m.start(), m.end())
    found += _numbers("".join(chars), cn, lex)
    found += _organisations("".join(chars), lex)
    return tuple(found)


_Token = tuple[int, int, str, str, str, str]  # start, end, text, value, unit, kind


def _numbers(s: str, cn: str, lex: ClaimLexicon) -> list[Claim]:
    """Numbers with their units; consecutive year/month/day parts become one date claim."""
    prefixes = "|".join(map(re.escape, lex.percent_prefixes)) or "(?!)"
    tokens: list[_Token] = []
    for m in re.finditer(rf"(?<![\d.])({prefixes})?(\d+(?:\.\d+)?|[{cn}]+)", s):
        pct, number = m[1], m[2]
        if any(s[: m.start()].endswith(p) for p in lex.ordinal_prefixes):
            continue
        arabic = number[0].isdigit()
        value = format(Decimal(number).normalize(), "f") if arabic else str(_numeral_value(number, lex))
        unit = ("%", "percentage", m.end()) if pct else _unit_at(s, m.end(), lex)
        if unit is None and not arabic:
            continue  # 三门, 二维码: a Chinese numeral without a unit states no quantity
        word, kind, end = unit or ("", "number", m.end())
        if not arabic and not pct and kind == "number" and number in lex.articles:
            continue  # 一个, 一批: an article
        tokens.append((m.start(), end, s[m.start() : end], value, word, kind))
    return _dates(tokens, lex)


def _dates(tokens: Sequence[_Token], lex: ClaimLexicon) -> list[Claim]:
    out: list[Claim] = []
    i = 0
    while i < len(tokens):
        parts: list[int | None] = [None, None, None]
        j, text, last = i, "", -1
        for slot, markers in enumerate((lex.year, lex.month, lex.day)):
            if j >= len(tokens) or tokens[j][4] not in markers or (j > i and tokens[j][0] != last):
                continue
            value = tokens[j][3]
            if not value.isdigit() or not (len(value) == lex.year_digits, 1 <= int(value) <= 12,
                                           1 <= int(value) <= 31)[slot]:
                break  # 3年 is a duration, 37月 no month
            parts[slot], text, last = int(value), text + tokens[j][2], tokens[j][1]
            j += 1
        if j > i:
            kind = "year" if parts[1] is None and parts[2] is None else "date"
            out.append(Claim(kind, text, ("d", *parts)))
            i = j
            continue
        _s, _e, text, value, unit, kind = tokens[i]
        out.append(Claim(kind, text, ("n", value, unit)))
        i += 1
    return out


def _organisations(s: str, lex: ClaimLexicon) -> list[Claim]:
    """Standalone names (县委) and name + ending (县市场监管局); the name runs left to a boundary."""
    chars = list(s)
    found: list[Claim] = []
    for name in lex.org_names:
        for m in re.finditer(re.escape(name), "".join(chars)):
            found.append(Claim("organisation", name, ("o", name, "")))
            _mask(chars, m.start(), m.end())
    for word in lex.org_not_names:
        for m in re.finditer(re.escape(word), "".join(chars)):
            _mask(chars, m.start(), m.end())
    for suffix in lex.org_suffixes:
        for m in re.finditer(re.escape(suffix), "".join(chars)):
            start = m.start()
            while (start > 0 and m.start() - start < lex.org_max_name_chars and HAN.match(chars[start - 1])
                   and chars[start - 1] not in lex.org_boundaries):
                start -= 1
            if m.start() - start >= lex.org_min_name_chars:
                name = "".join(chars[start : m.end()])
                found.append(Claim("organisation", name, ("o", name, suffix)))
                _mask(chars, start, m.end())
    return found


# ---------------------------------------------------------------- support


@dataclass(frozen=True)
class Evidence:
    """What the cited clauses state, in the claims' terms."""

    texts: tuple[str, ...]  # prepared clause texts
    numbers: frozenset[tuple[str, str]]  # (value, unit), unit "" for a bare number
    values: frozenset[str]
    dates: tuple[Date, ...]
    phones: frozenset[str]
    emails: frozenset[str]
    clause_ids: tuple[str, ...]


def evidence(texts: Sequence[str], clause_ids: Sequence[str], lex: ClaimLexicon) -> Evidence:
    """The claims of the cited clause texts, gathered once per sentence check."""
    prepared = tuple(prepare(t) for t in texts)
    found = [c for t in prepared for c in claims(t, lex, prepared=True)]
    numbers = {(c.key[1], c.key[2]) for c in found if c.key[0] == "n"}
    dates = tuple((c.key[1], c.key[2], c.key[3]) for c in found if c.key[0] == "d")
    values = {v for v, _u in numbers} | {str(p) for d in dates for p in d if p is not None}
    return Evidence(prepared, frozenset(numbers), frozenset(values), dates,
                    frozenset(c.key[1] for c in found if c.key[0] == "p"),
                    frozenset(c.key[1] for c in found if c.key[0] == "e"), tuple(clause_ids))


def supported(claim: Claim, ev: Evidence, lex: ClaimLexicon) -> bool:
    """Whether the cited clauses state `claim` (see claims.toml for what each kind must match)."""
    tag = claim.key[0]
    if tag == "n":
        value, unit = claim.key[1], claim.key[2]
        return value in ev.values if not unit else (value, unit) in ev.numbers
    if tag == "d":
        return any(all(p is None or p == q for p, q in zip(claim.key[1:], date, strict=True)) for date in ev.dates)
    if tag == "p":
        return claim.key[1] in ev.phones
    if tag == "e":
        return claim.key[1] in ev.emails
    if tag == "c":
        return any(cid == claim.key[1] or cid.startswith(claim.key[1]) for cid in ev.clause_ids)
    name, suffix = claim.key[1], claim.key[2]
    stem = name if not suffix else name[-(len(suffix) + lex.org_min_name_chars):]
    return any(stem in text for text in ev.texts)


def unsupported(sentence: str, ev: Evidence, lex: ClaimLexicon) -> tuple[Claim, ...]:
    """The claims of `sentence` that the cited clauses do not state."""
    return tuple(c for c in claims(sentence, lex) if not supported(c, ev, lex))


def is_connective(sentence: str, lex: ClaimLexicon) -> bool:
    """A short sentence with no claim (“具体如下:”) that may stay without a citation."""
    text = prepare(sentence)
    return len(re.findall(r"[^\W_]", text)) <= lex.connective_max_chars and not claims(text, lex, prepared=True)
