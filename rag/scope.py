"""Scope checks before retrieval is trusted: cited documents, the basis question, other places.

Pure functions over the catalog and the lexicon. A question about the content of a cited document
whose text is not in the corpus is answered with what the catalog knows, never with the opinion's
text. A question about another city's or county's policy is out of scope even when its words
match; the place named in the refusal is the gazetteer's name, never text copied from the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.models import Document
from rag.lexicon import Lexicon, Place
from rag.normalize import HAN

_MAX_NAME = 10  # longest place name looked up at each position (linear in the question's length)


@dataclass(frozen=True)
class CitedQuestion:
    """A question about cited documents: which ones, and whether it asks for their content."""

    documents: tuple[Document, ...]
    asks_content: bool


# 发文字号 grammar (GB/T 9704): 机关代字〔年份〕序号号, e.g. 浙委发〔2022〕11号
_NUMBER = re.compile(r"^(?P<code>[^〔\[(（]+)[〔\[(（](?P<year>\d{4})[〕\])）](?P<serial>\d+)号$")


def number_forms(number: str) -> list[str]:
    """The 文号 as people type it: in full, without brackets, without the year (浙委发11号, 浙委发2022-11号)."""
    m = _NUMBER.match(number.strip())
    if not m:
        return [number] if number else []
    code, year, serial = m["code"], m["year"], m["serial"]
    return [number, f"{code}{year}{serial}号", f"{code}{year}年{serial}号", f"{code}{serial}号",
            f"{code}({year}){serial}号", f"{code}[{year}]{serial}号", f"{code}{year}-{serial}号"]


def names_of(doc: Document) -> list[str]:
    """Every way a question may name a document: title, 文号 (and its short forms) and the catalog's aliases."""
    return [n for n in (doc.title.strip("《》"), *number_forms(doc.number), *doc.aliases) if n]


def _by_issuer(question: str, doc: Document, lexicon: Lexicon, corpus_text: str) -> bool:
    """“省里那个文件”, “台州市委的意见”: an issuer's name followed closely by a document word — unless the
    words after the name are the corpus's own (浙江标准, 台州市标准创新贡献奖 are not documents)."""
    for name in doc.issued_by:
        gap = lexicon.issuer_gap[1] if name.isascii() else lexicon.issuer_gap[0]
        pattern = re.compile(rf"{re.escape(name.lower())}.{{0,{gap}}}?({lexicon.document_words})", re.IGNORECASE)
        for m in pattern.finditer(question):
            following = question[m.start() : m.start() + len(name) + 2]
            if (following.lower() not in corpus_text.lower() or len(following) <= len(name)) \
                    and not _topic_between(m.group(0)[len(name) : -len(m.group(1))], lexicon, corpus_text):
                return True
    return False


def _topic_between(gap: str, lexicon: Lexicon, corpus_text: str) -> bool:
    """A topic of the corpus between the issuer and the document word (“台州的那个嘱托,文件里…”): the
    question is about that topic of our text, and the issuer is only a place in it."""
    return any(len(w) >= 2 and HAN.search(w) and w not in lexicon.generic and w not in lexicon.stopwords
               and w in corpus_text for w in lexicon.words(gap))


def cited_question(question: str, documents: list[Document], primary: str, lexicon: Lexicon,
                   corpus_text: str = "") -> CitedQuestion | None:
    """The cited documents (without text in the corpus) a question is about, if any.

    The primary document's own names are removed first: its title contains the cited outline's.
    """
    lowered = question.lower()
    for doc in documents:
        if doc.doc_id == primary:
            for name in sorted(names_of(doc), key=len, reverse=True):
                lowered = lowered.replace(name.lower(), " ")
    mentioned = tuple(d for d in documents
                      if not d.has_text and d.doc_id != primary and (
                          any(n.lower() in lowered for n in names_of(d))
                          or _by_issuer(lowered, d, lexicon, corpus_text)))
    if not mentioned:
        return None
    # anything asked about a cited document is about its content, unless it asks about the citing itself
    return CitedQuestion(mentioned, not lexicon.basis_citing.search(lowered))


def asks_basis(question: str, lexicon: Lexicon) -> bool:
    """“这个意见依据哪些文件?”: answered from the catalog with the 序言 citation."""
    return bool(lexicon.basis_asks.search(question.lower()))


def _inside(place: Place, home: Place | None, jurisdiction: str) -> bool:
    """The jurisdiction itself, a place within it, or one that contains it (台州市, 浙江省)."""
    if place.name == jurisdiction or jurisdiction in place.city:
        return True
    return home is not None and place.name in (home.province, home.city)


def foreign_places(question: str, corpus_text: str, jurisdiction: str, lexicon: Lexicon) -> list[str]:
    """Cities, counties and towns elsewhere that the question names (仙居县, 杭州) and the corpus never
    mentions; none when the question also names the jurisdiction (a comparison, not another policy)."""
    home = lexicon.places.get(jurisdiction)
    if not jurisdiction or (home and any(n in question for n in _short_and_full(home, lexicon))):
        return []
    found: list[str] = []
    i = 0
    while i < len(question):
        match = next(((question[i:j], lexicon.places[question[i:j]]) for j in range(min(len(question), i + _MAX_NAME),
                      i + 1, -1) if question[i:j] in lexicon.places), None)
        if match is None:
            i += 1
            continue
        text, place = match
        full = text == place.name
        if (not full or len(text) >= lexicon.place_min_full) and place.level != "province" \
                and not _inside(place, home, jurisdiction) and text not in corpus_text \
                and place.name not in corpus_text and place.name not in found:
            found.append(place.name)
        i += len(text)
    return found


def _short_and_full(place: Place, lexicon: Lexicon) -> tuple[str, ...]:
    return lexicon.place_names.get(place, (place.name,))
