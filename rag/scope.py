"""Scope checks before retrieval is trusted: other places, cited documents, English coverage.

Pure functions. The opinion governs Sanmen County; a question about another county's policy is
out of scope even when its words match. A question about the content of a cited document whose
text is not in the corpus is answered with what the catalog knows, never with the opinion's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import jieba.posseg as posseg

from index.models import Document
from rag.glossary import GLOSSARY

_GENERIC_PLACES = frozenset(
    "国内 国外 海外 全国 全省 全市 地方 山区 沿海 农村 城市 城乡 城镇 乡镇 街道 县城 区域 "
    "省级 市级 县级 当地 本地".split()
)
_PLACE_SUFFIX = re.compile(r"(省|市|县|区|镇|乡|村)$")


def foreign_places(question: str, corpus_text: str) -> list[str]:
    """Place names in the question that the corpus never mentions (e.g. 仙居县, 临海市)."""
    found = []
    for pair in posseg.cut(question):
        word, flag = pair.word, pair.flag
        if flag != "ns" or len(word) < 2 or word in _GENERIC_PLACES:
            continue
        stem = _PLACE_SUFFIX.sub("", word) if len(word) > 2 else word
        if word not in corpus_text and stem not in corpus_text:
            found.append(word)
    return found


_BASIS = re.compile(
    r"依据|根据|依照|贯彻落实|上位|哪些文件|哪份文件|什么文件|文号|based on|which document|cites?|refer"
)
_CONTENT = re.compile(r"提出|规定|要求|内容|目标|怎么说|说了|讲了|有哪些|写了|提到|say|says|state|require|content|goal")


_ASKS_BASIS = re.compile(
    r"(根据|依据|依照)(了)?(哪些|哪份|什么|哪几份)|(贯彻|落实).{0,12}(哪份|哪些|什么)文件|上位文件|"
    r"based on|which documents? (is|does|are)"
)


def asks_basis(question: str) -> bool:
    """“这个意见依据哪些文件?”: answered from the catalog with the 序言 citation."""
    return bool(_ASKS_BASIS.search(question.lower()))


@dataclass(frozen=True)
class CitedQuestion:
    """A question about cited documents: which ones, and whether it asks for their content."""

    documents: tuple[Document, ...]
    asks_content: bool


def _aliases(doc: Document) -> list[str]:
    names = [doc.title.strip("《》"), doc.number] if doc.number else [doc.title.strip("《》")]
    core = re.sub(r"^(中共)?.*?关于", "", doc.title).strip("《》")
    if doc.number:
        names.append(re.sub(r"〔.*", "", doc.number))  # 浙委发
    if "纲要" in doc.title and "关于" not in doc.title:
        names += ["国家标准化发展纲要", "国家纲要", "纲要", "national standardization outline", "national outline"]
    return [n for n in names if n and n != core]


def cited_question(question: str, documents: list[Document]) -> CitedQuestion | None:
    """The cited documents (without text in the corpus) a question is about, if any."""
    lowered = question.lower()
    mentioned = tuple(d for d in documents if not d.has_text and any(a.lower() in lowered for a in _aliases(d)))
    if not mentioned:
        return None
    asks_content = bool(_CONTENT.search(lowered)) and not _BASIS.search(lowered)
    return CitedQuestion(mentioned, asks_content)


_EN_STOP = frozenset(
    "a an the of to in on for and or is are be will should would can could do does did what which who whom how "
    "when where why this that these those it its by with from at as about according opinion document say says "
    "mention mentioned any there their they i we my our you your please give tell me list much many long".split()
)


@cache
def _glossary_words() -> frozenset[str]:
    return frozenset(w for key in GLOSSARY for w in re.findall(r"[a-z0-9]+", key))


def english_coverage(question: str) -> float:
    """Share of an English question's content words that the domain glossary knows."""
    words = [w for w in re.findall(r"[a-z0-9]+", question.lower()) if w not in _EN_STOP]
    words = [w.rstrip("s") if w.rstrip("s") in _glossary_words() else w for w in words]
    return sum(w in _glossary_words() for w in words) / len(words) if words else 0.0
