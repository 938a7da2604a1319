"""A question split into its separately asked parts (“…几项?另外…多少?”, “A和B分别…”).

Each part is answered on its own by the retrieve stage; a part that asks something further about the
part before it borrows that part's topic and is marked `further`. Pure functions over the lexicon and
the index view.
"""

from __future__ import annotations

import re

from rag.lexicon import Lexicon
from rag.topics import has_topic, names_section, names_topic, topic_of
from rag.view import IndexView


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
    pieces = [(q, i == 0 and joined) for p, joined in _pieces(rest, splitter, pair, lexicon)
              for i, q in enumerate(_split_asked(p, lexicon))]
    if pair and len(pieces) >= 3 and lexicon.pair_marker.search(pieces[-1][0]) and _comma_before_last(rest, splitter):
        # “国际标准和国家标准,牵头制修订的目标各是几项?”: after a comma, the pair's question, asked of each of it
        pieces = [(f"{p} {pieces[-1][0]}", j) for p, j in pieces[:-1]]
    elif pair and pieces and (tail := lexicon.pair_marker.search(pieces[-1][0])) and tail.start() > 0:
        # “A和B各自的数量目标是多少?”: what the pair asks is asked of each of it
        pieces = [(f"{p}{pieces[-1][0][tail.start():]}", j) for p, j in pieces[:-1]] + pieces[-1:]
    if shared and len(pieces) >= 2:  # each of the pair asks about another side of the shared topic: further parts,
        # unless a side names a topic of its own (“对外开放里,秘书处和结对子各是怎么说的”: both may be one clause)
        own = {i for i, (piece, _j) in enumerate(pieces)
               if names_topic(piece, lexicon, view) and not lexicon.follow_on.search(piece)}
        return (tuple(f"{shared} {piece}" for piece, _j in pieces[:limit]),
                frozenset(i for i in range(1, min(len(pieces), limit)) if i not in own))
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
        elif not pair and parts and names_section(piece, view) and names_section(parts[-1], view, titles=True) \
                and not lexicon.further_adverb.search(piece):  # (“…保障措施里又是怎么说的?” asks more of the topic)
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


def _comma_before_last(text: str, splitter: re.Pattern[str]) -> bool:
    """Whether the last piece of `text` follows a comma (“A和B,各是几项”), not a pair's 和 (“A和B各是几项”)."""
    found = [m.group(0).strip() for m in splitter.finditer(text.rstrip(" ?？!！。"))]
    return bool(found) and found[-1] in (",", "，")


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


def _pieces(text: str, splitter: re.Pattern[str], pair: bool, lexicon: Lexicon) -> list[tuple[str, bool]]:
    """The pieces between the splitter's matches, each with whether a connective word (另外, 还有…) joined it
    to the piece before (a pair's 和 does not count: “A和B” asks about both, not about more). A pair's 和/与/及
    inside a word (涉及, 以及) joins nothing."""
    out, start, joined = [], 0, False
    inside = _inside_words(text, lexicon) if pair else set()
    for m in splitter.finditer(text):
        if m.end() - m.start() == 1 and m.start() in inside:
            continue
        out.append((text[start:m.start()], joined))
        # a connective is anything but a sentence's end (另外, also, a hotline's “+”)
        start, joined = m.end(), not pair and not re.fullmatch(r"[\s?？!！;；。]*", m.group(0))
    out.append((text[start:], joined))
    return [(p.strip(" ,，"), j) for p, j in out if p.strip(" ,，")]


def _inside_words(text: str, lexicon: Lexicon) -> set[int]:
    """Offsets of the characters that lie inside a word of two or more characters (jieba's precise cut)."""
    inside: set[int] = set()
    at = 0
    for word in lexicon.words(text):
        at = text.find(word, at)
        if at < 0:
            break
        if len(word) > 1:
            inside.update(range(at, at + len(word)))
        at += len(word)
    return inside


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
