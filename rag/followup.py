"""A follow-up made standalone with the conversation before it (“那第3条呢?” → “二(一)3 …”).

The rules are the lexicon's (this_clause, next_clause, article_only, swaps_topic…); this module only
decides which applies and what it leans on: the clause the last answer cited, the clause or section the
last question named, or the last question itself. Pure functions over the lexicon and the index view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.lexicon import Lexicon, References
from rag.normalize import CN_NUM, cn_to_int, int_to_cn, is_english, normalize, parse_clause_ref, written_refs
from rag.topics import asking_frame, names_section, names_topic, plain, topic_of
from rag.view import IndexView

Turn = Mapping[str, str]
_CITED = re.compile(r"【([^】]+)】|\[([a-z0-9._-]+):([^\]]+)\]")


def _user_turns(history: Sequence[Turn]) -> list[str]:
    return [str(t.get("content", "")) for t in history if t.get("role", "user") == "user"]


def last_cited_clause(history: Sequence[Turn], references: References | None = None) -> str | None:
    """The first clause id cited by the most recent assistant turn ([sanmen:二(七)2] or 【二(七)2】); with
    `references`, also one it writes out plainly (“二(四)1 统筹推动…”, a history typed by an API client)."""
    for turn in reversed(history):
        if turn.get("role") != "assistant":
            continue
        content = str(turn.get("content", ""))
        if m := _CITED.search(content):
            return m[1] or m[3]
        if references is not None and (written := written_refs(content, references)):
            return written[0]
    return None


def _earlier_ref(history: Sequence[Turn], lexicon: Lexicon, view: IndexView) -> str | None:
    """The clause the last user turn named once read with the turns before it (“二(一)讲什么?” → “第1条提到…?”
    names 二(一)1), so that “那第3条呢?” after it is 二(一)3."""
    at = max((i for i, t in enumerate(history) if t.get("role") == "user"), default=None)
    if at is None or not _user_turns(history[:at]):
        return None
    earlier = standalone(str(history[at].get("content", "")), history[:at], lexicon, view)
    return parse_clause_ref(earlier, lexicon.references, view.sections, view.items, order=view.clause_order())


def standalone(question: str, history: Sequence[Turn], lexicon: Lexicon, view: IndexView) -> str:
    """A standalone version of `question`; unchanged when it does not lean on the history."""
    users = _user_turns(history)
    text = plain(question, lexicon)
    if not users or parse_clause_ref(text, lexicon.references, view.sections, view.items, order=view.clause_order()):
        return text
    previous = lexicon.spelled_out(normalize(users[-1]))
    cited = last_cited_clause(history)
    if lexicon.this_clause.search(text) and (this := cited or last_cited_clause(history, lexicon.references)):
        return f"{this} {text}"
    prev_ref = parse_clause_ref(previous, lexicon.references, view.sections, view.items, order=view.clause_order())
    # “下一条呢?”: after the clause the last answer cited, the last question named or, failing both, the last
    # answer wrote out plainly (an API client's history: “二(四)1 统筹推动…”)
    if lexicon.next_clause.search(text) and \
            (last := cited or prev_ref or last_cited_clause(history, lexicon.references)) and \
            (following := view.following(last)):
        return f"{following} {text}"
    # “第二条说了啥?” after an answer that listed a section's clauses: the article of what was last asked or,
    # when the question named no clause (“绿色发展那部分有几条”), of what the answer cited
    if (article := lexicon.article_only.search(text)) and (
            base := prev_ref or cited or _titled(previous, view) or _earlier_ref(history, lexicon, view)
            or last_cited_clause(history, lexicon.references)):
        return f"{_next_article(base, article.group(0), bool(lexicon.article_only.search(previous)))} {text}"
    content = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)
    lowered = text.lower()
    # a question that names no topic of its own (“能列一下是哪些吗”) asks about the previous one's
    if lexicon.dependent.search(lowered) or len(content) <= lexicon.short_chars or not names_topic(text, lexicon, view):
        named = [w for w in topic_of(text, lexicon, view).split()
                 if len(w) >= lexicon.topic_min_chars and not lexicon.qualifier.fullmatch(w)] \
            or view.generic_phrases(text)  # “那企业标准呢?” names a topic of two general words
        if lexicon.swaps_topic.search(lowered) and not lexicon.refers_back.search(lowered) and named:
            if not is_english(text) and (swapped := _swap_head(previous, named, lexicon)):
                return swapped
            previous = asking_frame(previous, lexicon, view)  # “那专利企业呢?”: the topic is swapped, not added
        elif swapped := _swap_level(previous, text, lexicon):
            return swapped
        if names_section(text, view):  # “那保障措施里对这个…?” after “发展目标里…?”: asked within its own section
            previous = _without_titles(previous, view)
        return f"{previous} {text}"
    return text


def _without_titles(text: str, view: IndexView) -> str:
    """`text` without the section and item titles it names (发展目标), longest first."""
    for title in sorted((*view.sections, *view.items), key=len, reverse=True):
        text = text.replace(title, " ")
    return text


def _titled(text: str, view: IndexView) -> str | None:
    """The section or item a question names by its title, whole (“保障措施有几条”) or in part (“绿色发展那部分”)."""
    if scoped := view.scope(text, items=True):
        return scoped
    found = [(len(title), ref) for title, ref in {**view.sections, **view.items}.items() if title in text]
    return max(found)[1] if found else None


def _next_article(previous: str, article: str, sibling: bool) -> str:
    """“第2条” after a question about 二(四)1 is 二(四)2, after “保障措施第一条” (三(一)) it is 三(二): the number
    replaces the last level the previous question counted; after an item named as a whole (“二(七)讲什么”) it
    is that item's article 二(七)2; after a whole section (二) it is 第二部分第2条."""
    number = cn_to_int(re.sub(rf"[^{CN_NUM}\d]", "", article))
    if previous.endswith(")") and not sibling:
        return f"{previous}{number}"
    if m := re.fullmatch(r"(.+\()[^)]+\)", previous):
        return f"{m[1]}{int_to_cn(number)})"
    if m := re.fullmatch(r"(.+?[)-])\d+", previous):
        return f"{m[1]}{number}"
    return f"第{previous.split('(')[0]}部分"


def _swap_head(previous: str, named: Sequence[str], lexicon: Lexicon) -> str | None:
    """“三门要牵头制修订几项国家标准?” + “那国际标准这块呢?” → “…几项国际标准?”: a new topic with the head noun of
    a word of the previous question (…标准, …企业; three characters or more) takes that word's place."""
    for new in (w for w in named if len(w) >= 3):
        old = next((w for w in lexicon.words(previous) if len(w) >= 3 and w != new and w[-2:] == new[-2:]), None)
        if old:
            return previous.replace(old, new, 1)
    return None


def _swap_level(previous: str, text: str, lexicon: Lexicon) -> str | None:
    """“国家标准要牵头制修订几项?” + “那国际的呢?” → “国际标准要牵头制修订几项?”: a follow-up that names only a
    level asks the previous question of that level (a level of two or more characters; a seat of government,
    group `seat` of the qualifier pattern (县里/省里), is left to the plain concatenation)."""
    if lexicon.swaps_topic.search(text.lower()) is None or not (asked := lexicon.qualifier.search(text)):
        return None
    levels = [m for m in lexicon.qualifier.finditer(previous) if len(m.group(0)) >= 2 and not _seat(m)]
    if not levels or _seat(asked) or levels[0].group(0) == asked.group(0):
        return None
    return f"{previous[: levels[0].start()]}{asked.group(0)}{previous[levels[0].end():]}"


def _seat(match: re.Match[str]) -> bool:
    return "seat" in match.re.groupindex and match.group("seat") is not None
