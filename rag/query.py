"""The question as the chain reads it, built once: `Query`.

Normalised (NFKC, Simplified), made standalone with the history (rag/followup.py), its language, the
kinds of detail it asks for, its separately asked parts (rag/parts.py) and the rare terms it shares
with the corpus. Pure functions over the lexicon and the index view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.config import AnswererConfig
from rag.detail_kinds import DetailKind
from rag.followup import Turn, last_cited_clause, standalone
from rag.lexicon import Lexicon
from rag.normalize import clip, is_english, is_traditional
from rag.parts import split_parts
from rag.topics import names_section, names_topic, plain
from rag.view import IndexView


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
