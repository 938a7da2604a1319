"""What a question is about, read against the corpus: its topic words, whether it names a topic or a section.

Shared by the follow-up rewriting (rag/followup.py), the part splitter (rag/parts.py) and the stages.
Pure functions over the lexicon and the index view.
"""

from __future__ import annotations

from rag.lexicon import Lexicon
from rag.normalize import is_english, normalize
from rag.view import IndexView


def plain(question: str, lexicon: Lexicon) -> str:
    """The normalised question without the spoken fillers it opens with (嗯 那个 我想问一下 就是 …), short forms
    spelled out (团标 → 团体标准)."""
    text = lexicon.spelled_out(normalize(question))
    return lexicon.spoken_opening.sub("", text, count=1) or text


def topic_of(part: str, lexicon: Lexicon, view: IndexView) -> str:
    """What `part` is about: its words the corpus knows, less generic words and how it asks (多少, 2025年)."""
    frame = lexicon.frame_words(part)
    words = [t for t in lexicon.tokenize(part)
             if view.known(t) and t not in lexicon.generic and t not in frame and not t.isdigit()]
    return " ".join(dict.fromkeys(words))


def names_topic(text: str, lexicon: Lexicon, view: IndexView) -> bool:
    """Whether `text` names what it is about, not only how it asks (“到2025年有哪些” names nothing)."""
    return any(len(w) >= lexicon.topic_min_chars for w in topic_of(text, lexicon, view).split())


def has_topic(text: str, lexicon: Lexicon, view: IndexView) -> bool:
    """A part worth answering on its own: it holds a word the corpus knows that is not generic."""
    return any(view.known(t) and t not in lexicon.generic for t in lexicon.tokenize(text))


def names_section(text: str, view: IndexView, titles: bool = False) -> bool:
    """Whether `text` names a section or item of the document by its title (保障措施, 发展目标…); with
    `titles`, a clause's title too (指导思想)."""
    return any(title in text for title in (*view.sections, *view.items, *(view.titles if titles else ())))


def asking_frame(text: str, lexicon: Lexicon, view: IndexView) -> str:
    """`text` less its topic words: how it asks (“到2025年企业标准总师要培育多少名?” → 到2025年要多少名)."""
    topic = set(topic_of(text, lexicon, view).split())
    kept = [w for w in lexicon.words(text) if not topic & set(lexicon.tokenize(w))]
    return (" " if is_english(text) else "").join(kept)
