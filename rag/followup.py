"""Rule-based rewriting of follow-up questions into standalone ones (extractive mode).

“那省级的呢?” after a question about 国家级试点 becomes that question plus the new focus;
“这一条是谁牵头的?” is pinned to the clause the last answer cited; “第三条呢?” inherits the section
of the previous question. The LLM mode may rewrite with the model instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.normalize import normalize, parse_clause_ref

_THIS_CLAUSE = re.compile(
    r"这一条|这条|该条|这个条款|上面那条|刚才那条|这一项|这项|这一款|this clause|that clause", re.I
)
_DEPENDENT = re.compile(
    r"^(那|那么|还有|另外|再问|那这个|其中)|呢[?？]?$|他|她|它|这些|那些|这个|那个|上述|其|此|"
    r"^(and|what about|how about|also)\b|\b(it|its|they|their|that|those|this)\b",
    re.I,
)
_CITED = re.compile(r"【([^】]+)】|\[([a-z0-9._-]+):([^\]]+)\]")
_ARTICLE_ONLY = re.compile(r"第[一二三四五六七八九十\d]{1,3}(条|项|点)")


def _user_turns(history: Sequence[Mapping[str, str]]) -> list[str]:
    return [str(t.get("content", "")) for t in history if t.get("role", "user") == "user"]


def last_cited_clause(history: Sequence[Mapping[str, str]]) -> str | None:
    """The first clause id cited by the most recent assistant turn ([sanmen:二(七)2] or 【二(七)2】)."""
    for turn in reversed(history):
        if turn.get("role") == "assistant" and (m := _CITED.search(str(turn.get("content", "")))):
            return m[1] or m[3]
    return None


def rewrite(question: str, history: Sequence[Mapping[str, str]], sections: Mapping[str, str]) -> str:
    """A standalone version of `question`; unchanged when it does not lean on the history."""
    users = _user_turns(history)
    if not users:
        return question
    text = normalize(question)
    if parse_clause_ref(text, sections):
        return question
    previous = normalize(users[-1])
    if _THIS_CLAUSE.search(text) and (clause := last_cited_clause(history)):
        return f"{clause} {text}"
    if _ARTICLE_ONLY.search(text) and (prev_ref := parse_clause_ref(previous, sections)):
        section = re.match(r"^[一二三四五六七八九十]+", prev_ref)
        if section:
            return f"第{section[0]}部分{text}"
    if _DEPENDENT.search(text) or len(re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)) <= 6:
        return f"{previous} {text}"
    return question
