"""Question normalisation and clause-number parsing (pure functions).

The numbering grammar's vocabulary (部分, 条, 项, 序言…) comes from the lexicon's `References`;
the numerals are the parser's (index.parse.CN_NUM).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache

import opencc

from index.parse import CN_NUM
from rag.lexicon import References

HAN = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character (CJK Unified Ideographs), for every module
CN_DIGITS = "零" + CN_NUM[:-1]  # 零一二…九: positional digits; 十 is handled by cn_to_int


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def normalize(text: str) -> str:
    """NFKC (full-width → ASCII), Traditional → Simplified, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"\s+", " ", _t2s().convert(text)).strip()


def to_traditional(text: str) -> str:
    return str(_s2t().convert(text))


def is_traditional(text: str) -> bool:
    """True when converting to Simplified changes the text (it was written in Traditional)."""
    nfkc = unicodedata.normalize("NFKC", text)
    return _t2s().convert(nfkc) != nfkc


def is_english(text: str) -> bool:
    latin = len(re.findall(r"[A-Za-z]", text))
    cjk = len(HAN.findall(text))
    return latin >= 6 and latin > 2 * cjk


def clip(text: str, limit: int) -> str:
    """At most `limit` characters: the head and the tail (a long question asks at its end)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + " " + text[-(limit - half) :]


def cn_to_int(numeral: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十 → 20; ASCII digits pass through."""
    if numeral.isdigit():
        return int(numeral)
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        return (CN_DIGITS.index(tens) if tens else 1) * 10 + (CN_DIGITS.index(ones) if ones else 0)
    return CN_DIGITS.index(numeral)


def int_to_cn(number: int) -> str:
    if number < 10:
        return CN_DIGITS[number]
    tens, ones = divmod(number, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


@cache
def _grammar(refs: References) -> dict[str, re.Pattern[str]]:
    num = rf"[{CN_NUM}\d]{{1,3}}"
    one = rf"[{CN_NUM}]|\d"
    generic = "|".join(u for u in (refs.article, refs.item, refs.ordinal) if u)
    levels = "|".join(u for u in (refs.level2, refs.level3) if u)
    return {
        "compact": re.compile(rf"([{CN_NUM}]{{1,3}})、?\(([{CN_NUM}]{{1,3}})\)(?:(\d{{1,2}})(?![\d年月日%])|-(\d))?"),
        # a hotline's shorthand: three numerals alone before a lookup (“二七三 讲的啥”, “2.7.3”, “二、七、3”)
        "shorthand": re.compile(rf"^({one})[\s.、·-]?({one})[\s.、·-]?({one})(?![\d{CN_NUM}])(.*)$"),
        "part": re.compile(rf"第?({num})(?:{refs.part})|^(?:{refs.ask_prefix or '(?!)'})?({num})的(?=第)"),
        # an ordinal: 第N + any unit, or N + a level word (三大项, 第二小点)
        "ordinal": re.compile(rf"第({num})({levels + '|' if levels else ''}{generic})|({num})({levels})"
                              if levels else rf"第({num})({generic})"),
        "level2": re.compile(rf"^(?:{refs.level2})$") if refs.level2 else re.compile(r"(?!)"),
        "level3": re.compile(rf"^(?:{refs.level3})$") if refs.level3 else re.compile(r"(?!)"),
    }


def _numbers(text: str, g: dict[str, re.Pattern[str]]) -> tuple[int | None, int | None]:
    """The (一)-level and 1.-level numbers a reference gives, in order, honouring level words."""
    item = article = None
    for m in g["ordinal"].finditer(text):
        value, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
        n = cn_to_int(value)
        if g["level3"].match(unit) or (item is not None and not g["level2"].match(unit)):
            article = n if article is None else article
        else:
            item = n if item is None else item
    return item, article


def named_section(question: str, refs: References, sections: Mapping[str, str]) -> str | None:
    """The top-level section a question names as a whole (“第三部分”, “保障措施” → 三), or None."""
    g = _grammar(refs)
    return _section(_part_of_section(normalize(question), g, sections), g, sections)


def _part_of_section(text: str, g: Mapping[str, re.Pattern[str]], sections: Mapping[str, str]) -> str:
    """“主要举措第七部分”: a part named after a section's title is an item of that section (第七个)."""
    ends = [text.find(name) + len(name) for name in sections if name and name in text]
    if ends and (m := g["part"].search(text, min(ends))) and m[1]:
        return f"{text[:m.start()]}第{m[1]}个{text[m.end():]}"
    return text


def _last_part(text: str, refs: References, sections: Mapping[str, str]) -> str:
    """“最后一部分的第一条”: the last part is the highest-numbered section (三 of three)."""
    if refs.last_part is None or not sections or not (m := refs.last_part.search(text)):
        return text
    last = max(sections.values(), key=cn_to_int)
    return f"{text[:m.start()]}第{last}部分{text[m.end():]}"


def _with_part(text: str, ids: list[str]) -> str:
    """“(七)第2点”: an item written without its part belongs to the one part that has an item of that number."""
    m = re.search(rf"(?<![{CN_NUM}\d、.])\(([{CN_NUM}]{{1,3}})\)", text)
    if not m:
        return text
    parts = {i.split("(", 1)[0] for i in ids if "(" in i and i.split("(", 1)[1].startswith(m[1] + ")")}
    parts.discard("")
    return f"{text[:m.start()]}{parts.pop()}{text[m.start():]}" if len(parts) == 1 else text


def _section(text: str, g: Mapping[str, re.Pattern[str]], sections: Mapping[str, str]) -> str | None:
    if m := g["part"].search(text):
        return int_to_cn(cn_to_int(m[1] or m[2]))
    return next((num for name, num in sections.items() if name and name in text), None)


def clause_inside(clause_id: str, prefix: str) -> bool:
    """二(七)2 is inside 二(七); 二(七)12 is not inside 二(七)1; 三(一) is inside the section 三."""
    if not clause_id.startswith(prefix) or clause_id == prefix:
        return False
    nxt = clause_id[len(prefix)]
    return nxt == "-" or (prefix.endswith(")") and nxt.isdigit()) or (nxt == "(" and "(" not in prefix)


def _last_clause(prefix: str | None, order: Sequence[str]) -> str | None:
    """The last numbered clause (one with a section number) of `order`, within `prefix` when one is named."""
    numbered = [c for c in order if "(" in c and (not prefix or clause_inside(c, prefix))]
    return numbered[-1] if numbered else None


def _compact_id(m: re.Match[str]) -> str:
    """The id a match of the compact grammar writes: 二(七)2, 一(二)-4, or the item 二(七)."""
    return f"{m[1]}({m[2]}){m[3]}" if m[3] else f"{m[1]}({m[2]})-{m[4]}" if m[4] else f"{m[1]}({m[2]})"


def written_refs(question: str, refs: References) -> list[str]:
    """Every clause id a question writes out (“一(二)-4和二(七)1都提到…”), in order, each once."""
    return list(dict.fromkeys(_compact_id(m) for m in _grammar(refs)["compact"].finditer(normalize(question))))


def parse_clause_ref(question: str, refs: References, sections: Mapping[str, str],
                     items: Mapping[str, str] | None = None, titles: Mapping[str, str] | None = None,
                     order: Sequence[str] = ()) -> str | None:
    """The clause-id prefix a question names, or None.

    Understands “二(七)2”, “二、(七)2”, “一(二)-4”, a hotline's “二七三”/“2.7.3”, the preamble words,
    “第二部分第七条第2项”,
    “二部分三大项里的第二条”, “二的第五个第二小点”, and through `sections` (section name → numeral,
    e.g. 主要举措 → 二) “主要举措第四点第一条”; through `items` (item title → id, e.g. 发展目标 → 一(二))
    “发展目标第四个破折号”; through `titles` (a clause's own title → id) “优化标准供给结构”. A bare
    “二(七)” names the whole item; the caller expands it to the clauses it contains. With the clause ids
    in document `order`, “最后一条” / “第二部分最后一条” name the last numbered clause (of that part).
    """
    g = _grammar(refs)
    text = _last_part(normalize(question), refs, sections)
    text = _part_of_section(text, g, sections)
    text = _with_part(text, [*(items or {}).values(), *(titles or {}).values()])
    if m := g["compact"].search(text):
        if m[3] or m[4]:
            return _compact_id(m)
        rest = text[m.end():]  # “二、(四)第1条”: an ordinal right after the item is its article
        article = _numbers(rest, g)[0] if rest.startswith("第") else None
        return f"{m[1]}({m[2]})" + (str(article) if article is not None else "")
    if (m := g["shorthand"].match(text)) and (not re.sub(r"[\W_]+", "", m[4]) or m[4][:1].isspace()
                                              or refs.lookup_words.search(m[4])):
        return f"{int_to_cn(cn_to_int(m[1]))}({int_to_cn(cn_to_int(m[2]))}){cn_to_int(m[3])}"
    if refs.preamble.search(text):
        return "序言"
    item_no, article_no = _numbers(text, g)
    named_item = next((cid for name, cid in sorted((items or {}).items(), key=lambda kv: -len(kv[0]))
                       if name and name in text), None)
    if refs.last and order and refs.last.search(text):
        return _last_clause(named_item or _section(text, g, sections), order)
    if named_item and item_no is not None:
        return f"{named_item}{item_no}"  # 发展目标第四条 → 一(二)4 (the caller also tries 一(二)-4)
    section = _section(text, g, sections)
    if section is not None and item_no is not None:
        return f"{section}({int_to_cn(item_no)})" + (str(article_no) if article_no is not None else "")
    if section is not None and sections and section not in sections.values():
        return section  # “第四部分” of a document with three: the caller says there is none
    if named_item:
        return named_item
    return next((cid for title, cid in sorted((titles or {}).items(), key=lambda kv: -len(kv[0]))
                 if len(title) >= 4 and title in text), None)


def scoped_clause(question: str, refs: References, titles: Mapping[str, str]) -> str | None:
    """“先进制造业那部分”, “贸易便利化这条”: the words right before a scope word, when they are a piece of one
    clause's title only (at least `piece_min` characters) and start where a phrase may start (`piece_lead`
    before them: 社会治理标准化 is no piece of 生态治理标准化), name the clause the question is asked within.
    Looser than a reference: retrieval keeps to that clause, the answer is chosen there as usual."""
    if refs.scope is None:
        return None
    text = normalize(question)
    for m in refs.scope.finditer(text):
        head = text[max(0, m.start() - 16):m.start()]
        longest: dict[str, int] = {}
        for title, cid in titles.items():
            n = next((k for k in range(len(head), refs.piece_min - 1, -1) if head[-k:] in title
                      and (k == len(head) or (refs.piece_lead and refs.piece_lead.fullmatch(head[-k - 1])))), 0)
            if n:
                longest[cid] = max(longest.get(cid, 0), n)
        best = max(longest.values(), default=0)
        named = [cid for cid, n in longest.items() if n == best]
        if len(named) == 1:
            return named[0]
    return None
