"""Question normalisation, tokenisation and clause-number parsing (pure functions)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache

import jieba
import opencc

jieba.setLogLevel(60)

CN_DIGITS = "零一二三四五六七八九"
_CN = "一二三四五六七八九十"
# Function words, question words and conversational fillers that say nothing about the topic.
_STOPWORDS_TEXT = """
的 了 和 与 及 是 在 有 为 对 等 要 把 被 将 就 都 也 还 又 或 并 而 以 于 之 其 这 那 哪 个 些 吗 呢 吧 啊 呀 么
什么 怎么 怎样 如何 哪些 哪个 多少 几 是否 能否 可以 可否 有没有 是不是 请问 请 一下 我们 我 你 你们 他们 咱们
这个 那个 这些 那些 里 中 上 下 方面 问题 相关 具体 内容 规定 提到 讲 说 讲了 说了 主要 哪里 一些 需要
文件 意见 实施 实施意见 这份 本 该 条 条款 关于 能 会 想 知道 了解 告诉 一 二 三 给 让 从 到 如果 所以 因为
怎么样 时候 什么样 哪几 哪几个 几个 几项 几家 几种 几名 没有 不能 不会 一个 做 搞 跟 用 去 拿 出 来 打算 这次 这方面
这方 分别 包括 涉及 有关 提 写 那段 大家 现在 直接 最 后 成 靠 当 按 时 中要 时要 要往 要建 要评 能不能 会不会
可不可以 哪类 带来 准备 做到 里面 文件里 有没 没 嘛 啥 咋 呗 哦 诶 谁 哪儿 哪家 为什么 干什么 怎么办 多长
一家 这行 我开 我家 我司 公司 我们公司 我们厂 厂 县里 里有 有提 提吗 这块 这一块 那块 这件 这件事 事 东西 情况
的话 一下子 还能 能够
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)


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
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    return latin >= 6 and latin > 2 * cjk


def tokenize(text: str) -> list[str]:
    """Search tokens for BM25: jieba's search-mode words, lower-cased, stopwords and punctuation out."""
    tokens = []
    for token in jieba.cut_for_search(text.lower()):
        token = token.strip()
        if token and token not in STOPWORDS and not _PUNCT.match(token):
            tokens.append(token)
    return tokens


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


_NUM = rf"[{_CN}\d]{{1,3}}"
_COMPACT = re.compile(rf"([{_CN}]{{1,3}})、?\(([{_CN}]{{1,3}})\)(?:(\d{{1,2}})(?![\d年月日%])|-(\d))?")
_PART = re.compile(rf"第({_NUM})(?:部分|章|大部分)")
_ARTICLE = re.compile(rf"第({_NUM})(?:条|小节|节)")
_ORDINAL = re.compile(rf"第({_NUM})(?:个|段)")
_PREAMBLE = re.compile(r"序言|前言|引言|文件开头|开头部分|开篇")
_ITEM = re.compile(rf"第({_NUM})(?:项|点|款|小项|小点)")


def parse_clause_ref(question: str, sections: Mapping[str, str], items: Mapping[str, str] | None = None) -> str | None:
    """The clause-id prefix a question names, or None.

    Understands “二(七)2”, “二、(七)2”, “一(二)-4”, “第二部分第七条第2项”, “序言”/“文件开头”, and,
    through `sections` (section name → numeral, e.g. 主要举措 → 二), “主要举措第七条”; through
    `items` (item title → id, e.g. 发展目标 → 一(二)), “发展目标第四个破折号”. A bare “二(七)”
    names the whole item; the caller expands it to the clauses it contains.
    """
    text = normalize(question)
    if m := _COMPACT.search(text):
        if m[3]:
            return f"{m[1]}({m[2]}){m[3]}"
        return f"{m[1]}({m[2]})-{m[4]}" if m[4] else f"{m[1]}({m[2]})"
    if _PREAMBLE.search(text):
        return "序言"
    article = _ARTICLE.search(text) or _ORDINAL.search(text) or _ITEM.search(text)
    if article and (item := next((cid for name, cid in (items or {}).items() if name and name in text), None)):
        return f"{item}{cn_to_int(article[1])}"
    section = None
    if m := _PART.search(text):
        section = int_to_cn(cn_to_int(m[1]))
    else:
        section = next((num for name, num in sections.items() if name and name in text), None)
    article = _ARTICLE.search(text)
    if section is None or article is None:
        return None
    ref = f"{section}({int_to_cn(cn_to_int(article[1]))})"
    if item_m := _ITEM.search(text):
        ref += str(cn_to_int(item_m[1]))
    return ref
