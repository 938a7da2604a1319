"""The question as the chain reads it, built once: `Query`.

Normalised (NFKC, Simplified), made standalone with the history (follow-up rules from the
lexicon), its language, the kinds of detail it asks for, its separately asked parts and the rare
terms it shares with the corpus. Pure functions over the lexicon and the index view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rag.config import AnswererConfig
from rag.detail_kinds import DetailKind
from rag.lexicon import Lexicon, References
from rag.normalize import (
    CN_NUM,
    clip,
    cn_to_int,
    int_to_cn,
    is_english,
    is_traditional,
    normalize,
    parse_clause_ref,
    written_refs,
)
from rag.view import IndexView

Turn = Mapping[str, str]
_CITED = re.compile(r"【([^】]+)】|\[([a-z0-9._-]+):([^\]]+)\]")


@dataclass(frozen=True)
class Query:
    raw: str
    text: str  # normalised
    standalone: str  # normalised, with what a follow-up leans on from the history
    focus: str  # a follow-up's own words ("" when the question stands alone)
    english: bool
    traditional: bool
    details: tuple[DetailKind, ...]
    parts: tuple[str, ...]  # the separately asked parts (one when the question asks one thing)
    rare: dict[str, list[str]]  # rare terms of the corpus in the question → their clauses
    further: frozenset[int] = frozenset()  # parts asking something further about the part before (又/还/配套)
    answered: frozenset[str] = frozenset()  # clause ids a further follow-up asks beyond (the last answer's)

    @property
    def lang(self) -> str:
        return "en" if self.english else "zh"


def _user_turns(history: Sequence[Turn]) -> list[str]:
    return [str(t.get("content", "")) for t in history if t.get("role", "user") == "user"]


def plain(question: str, lexicon: Lexicon) -> str:
    """The normalised question without the spoken fillers it opens with (嗯 那个 我想问一下 就是 …), short forms
    spelled out (团标 → 团体标准)."""
    text = lexicon.spelled_out(normalize(question))
    return lexicon.spoken_opening.sub("", text, count=1) or text


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
    if lexicon.this_clause.search(text) and cited:
        return f"{cited} {text}"
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
            base := prev_ref or cited or _titled(previous, view) or _earlier_ref(history, lexicon, view)):
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


def asking_frame(text: str, lexicon: Lexicon, view: IndexView) -> str:
    """`text` less its topic words: how it asks (“到2025年企业标准总师要培育多少名?” → 到2025年要多少名)."""
    topic = set(topic_of(text, lexicon, view).split())
    kept = [w for w in lexicon.words(text) if not topic & set(lexicon.tokenize(w))]
    return (" " if is_english(text) else "").join(kept)


def has_topic(text: str, lexicon: Lexicon, view: IndexView) -> bool:
    """A part worth answering on its own: it holds a word the corpus knows that is not generic."""
    return any(view.known(t) and t not in lexicon.generic for t in lexicon.tokenize(text))


def names_topic(text: str, lexicon: Lexicon, view: IndexView) -> bool:
    """Whether `text` names what it is about, not only how it asks (“到2025年有哪些” names nothing)."""
    return any(len(w) >= lexicon.topic_min_chars for w in topic_of(text, lexicon, view).split())


def _split_asked(text: str, lexicon: Lexicon) -> list[str]:
    """Split at each comma that closes a question (“目标几项,新型橡塑领域要争取做什么”); a space between
    two Chinese characters is a typed comma (“RCEP那块咋说 技术性贸易壁垒那块又咋说”)."""
    out, current = [], ""
    for piece in re.split(r"(?<=[,，])|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", text):
        current += piece
        if lexicon.asked_before_comma.search(current.rstrip(" ,，")):
            out.append(current.strip(" ,，"))
            current = ""
    return [p for p in [*out, current.strip(" ,，")] if p]


def split_parts(text: str, lexicon: Lexicon, view: IndexView, limit: int) -> tuple[tuple[str, ...], frozenset[int]]:
    """“…几项?另外…多少?” → the two asked parts; “A和B分别…” splits at 和 too. Parts without a topic of
    their own (“具体如下”, “and by when?”) stay with the part before them. A part that asks something
    further about the same topic (“…目标几家,主要举措里又是怎么说的?”) borrows the topic of the part before
    it and is marked `further`: it is answered by another clause than the parts before it."""
    told = ""  # what the asker tells before asking anything (“我是做橡胶密封圈的小厂,…。…能不能被选上?”)
    whole = text
    if (end := lexicon.statement_end.search(text)) and _tells(text[:end.start()], lexicon):
        told, text = text[:end.start()].strip(), text[end.end():]  # “We export a lot. Does the plan…?”
    pair = bool(lexicon.pair_marker.search(text))
    splitter = lexicon.pair_split if pair else lexicon.multipart_split
    shared, rest = _shared_subject(text, lexicon, view) if pair else ("", text)
    pieces = [(q, i == 0 and joined) for p, joined in _pieces(rest, splitter, pair)
              for i, q in enumerate(_split_asked(p, lexicon))]
    if pair and pieces and (tail := lexicon.pair_marker.search(pieces[-1][0])) and tail.start() > 0:
        # “A和B各自的数量目标是多少?”: what the pair asks is asked of each of it
        pieces = [(f"{p}{pieces[-1][0][tail.start():]}", j) for p, j in pieces[:-1]] + pieces[-1:]
    if shared and len(pieces) >= 2:  # each of the pair asks about another side of the shared topic: further parts
        return tuple(f"{shared} {piece}" for piece, _j in pieces[:limit]), frozenset(range(1, min(len(pieces), limit)))
    parts: list[str] = []
    further: set[int] = set()
    dropped = False
    for piece, joined in pieces:
        topic = has_topic(piece, lexicon, view) or (pair and _generic_phrase(piece, lexicon, view))
        if _tells(piece, lexicon):
            if not parts:
                told = f"{told} {piece}".strip()
                continue
            dropped = True  # what the asker tells after asking (“…?我给企业转一下”) asks nothing: no topic either
            continue
        elif told:  # …is read with the question after it, unless that names its own topic
            dropped = names_topic(piece, lexicon, view) and not lexicon.asker.search(piece.lower()) \
                and not lexicon.refers_back.search(piece.lower())
            parts.append(piece if dropped else f"{told} {piece}")
            told = ""
        elif not pair and parts and names_section(piece, view) and names_section(parts[-1], view, titles=True):
            parts.append(piece)  # each asks within the section it names (“指导思想里…?发展目标定到哪年?”)
        elif parts and (names_section(piece, view) or (joined and not topic)
                        or lexicon.follow_on.search(piece)
                        or (lexicon.further_adverb.search(piece) and not names_topic(piece, lexicon, view))):
            further.add(len(parts))
            parts.append(f"{topic_of(parts[-1], lexicon, view)} {piece}")
        elif parts and lexicon.part_refers_back.search(piece.lower()):  # “…对这类企业的培育还有什么说法?”
            if lexicon.further_adverb.search(piece):
                further.add(len(parts))
            parts.append(f"{topic_of(parts[-1], lexicon, view)} {piece}")
        elif parts and topic and not names_topic(piece, lexicon, view) \
                and any(not k.corpus for k in lexicon.asked_details(piece)):
            # “…开始申报?截止到哪天?” asks another detail of the same (a figure of its own, “有没有2035年的
            # 远景目标”, is a topic of its own)
            parts[-1] = f"{parts[-1]} {piece}"
        elif topic:
            parts.append(piece)
        elif parts:
            parts[-1] = f"{parts[-1]} {piece}"
    if len(parts) < 2:
        return ((parts[0],) if dropped and parts else (whole,)), frozenset()
    return tuple(parts[:limit]), frozenset(i for i in further if i < limit)


def _tells(piece: str, lexicon: Lexicon) -> bool:
    """Whether `piece` tells about the asker (我们是做阀门的, We export a lot) without asking anything."""
    return bool(lexicon.context.search(piece.lower())) and not lexicon.asking.search(piece.lower())


def _generic_phrase(piece: str, lexicon: Lexicon, view: IndexView) -> bool:
    """“(团体标准和)企业标准各自…”: two general words the corpus writes as one phrase (企业+标准) name one side
    of a pair as well as a word of its own would."""
    return bool(view.generic_phrases(piece))


def _shared_subject(text: str, lexicon: Lexicon, view: IndexView) -> tuple[str, str]:
    """“企业标准总师这个事,数量目标和制度分别怎么写?”: a topic set off by a comma before a pair is what both
    of the pair's parts are about → (that topic, the rest); ("", text) for other shapes."""
    first = lexicon.pair_split.search(text)
    if not first or first.group(0).strip() not in (",", "，"):
        return "", text
    head, rest = text[: first.start()].strip(), text[first.end() :]
    after = lexicon.pair_split.search(rest)
    if not after or after.group(0).strip() in (",", "，") or not names_topic(head, lexicon, view):
        return "", text
    return head, rest


def names_section(text: str, view: IndexView, titles: bool = False) -> bool:
    """Whether `text` names a section or item of the document by its title (保障措施, 发展目标…); with
    `titles`, a clause's title too (指导思想)."""
    return any(title in text for title in (*view.sections, *view.items, *(view.titles if titles else ())))


def _pieces(text: str, splitter: re.Pattern[str], pair: bool) -> list[tuple[str, bool]]:
    """The pieces between the splitter's matches, each with whether a connective word (另外, 还有…) joined it
    to the piece before (a pair's 和 does not count: “A和B” asks about both, not about more)."""
    out, start, joined = [], 0, False
    for m in splitter.finditer(text):
        out.append((text[start:m.start()], joined))
        # a connective is anything but a sentence's end (另外, also, a hotline's “+”)
        start, joined = m.end(), not pair and not re.fullmatch(r"[\s?？!！;；。]*", m.group(0))
    out.append((text[start:], joined))
    return [(p.strip(" ,，"), j) for p, j in out if p.strip(" ,，")]


def topic_of(part: str, lexicon: Lexicon, view: IndexView) -> str:
    """What `part` is about: its words the corpus knows, less generic words and how it asks (多少, 2025年)."""
    frame = lexicon.frame_words(part)
    words = [t for t in lexicon.tokenize(part)
             if view.known(t) and t not in lexicon.generic and t not in frame and not t.isdigit()]
    return " ".join(dict.fromkeys(words))


def build_query(raw: str, history: Sequence[Turn], lexicon: Lexicon, view: IndexView,
                config: AnswererConfig, exclude: frozenset[str] = frozenset()) -> Query:
    limit = config.retrieval.query_chars
    text = clip(plain(raw, lexicon), limit)
    alone = clip(standalone(raw, history, lexicon, view), limit)
    rewritten = alone != text
    parts, further = ((alone,), frozenset[int]()) if rewritten else split_parts(alone, lexicon, view,
                                                                               config.limits.max_parts)
    answered: frozenset[str] = frozenset()
    # “这个奖后面/在保障措施里怎么说?”: beyond the last answer
    beyond = lexicon.follow_on.search(text) or lexicon.further_adverb.search(text) or names_section(text, view)
    if rewritten and beyond:  # asks for more, whether or not the last answer's clause can be read back
        last = last_cited_clause(history)
        further, answered = frozenset({0}), frozenset({last} if last else ())
    cfg = config.retrieval
    details = lexicon.asked_details(text)
    lowered = text.lower()
    if rewritten and not details and lexicon.swaps_topic.search(lowered) and not lexicon.general_ask.search(lowered):
        # “企业标准总师要培养多少?” + “那专利标准融合发展企业呢?”: another topic asked the same thing, as rewritten
        details = lexicon.asked_details(alone)
    # a follow-up naming its own topic (“那外贸企业碰到技术壁垒呢?”) is not pinned by the last question's rare terms
    own = text if rewritten and names_topic(text, lexicon, view) else alone
    return Query(
        raw=raw,
        text=text,
        standalone=alone,
        focus=text if rewritten else "",
        english=is_english(text),
        traditional=is_traditional(raw),
        details=details,
        parts=parts,
        further=further,
        answered=answered,
        rare=view.rare_terms(own, cfg.rare_max_df, cfg.rare_min_han, cfg.rare_min_latin, cfg.rare_min_digits, exclude),
    )
