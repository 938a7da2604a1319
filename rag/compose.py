"""Answer and refusal texts (pure functions): what the documents say, and what they do not."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from index.models import Document
from rag.models import Citation, Related

INJECTION_TEXT = (
    "我只能依据政策原文回答有关三门县标准化实施意见的问题,不能执行改变规则或泄露设置的指令。"
    "请直接提问,例如:“企业标准总师要培育多少名?”"
)


def answer_text(citations: Sequence[Citation], title: Callable[[str], str], english: bool) -> str:
    if english:
        lines = [f"According to {title(citations[0].doc_id)} (quoted in the original Chinese):"]
        lines += [f"• {c.label}【{c.clause_id}】: “{c.quote}”" for c in citations]
        return "\n".join(lines)
    first = citations[0].doc_id
    lines = [f"根据{title(first)}:"]
    for c in citations:
        source = title(c.doc_id) if c.doc_id != first else ""
        lines.append(f"· {source}{c.label}【{c.clause_id}】:“{c.quote}”")
    return "\n".join(lines)


def _names(related: Sequence[Related]) -> str:
    return "、".join(f"{r.label}【{r.clause_id}】" for r in related)


def refusal(title: str, detail: str | None, related: Sequence[Related], english: bool) -> str:
    if english:
        head = f"Sorry, {title} does not answer this question."
        return head + (f"\nRelated clauses you may want to read: {_names(related)}" if related else "")
    if detail:
        head = f"抱歉,{title}涉及相关内容,但没有规定{detail}。"
        tail = "可以查阅以下相关条款,或向县市场监督管理局咨询:"
    else:
        head = f"抱歉,{title}中没有找到能回答这个问题的内容(该文件是三门县贯彻落实国家标准化发展纲要的实施意见)。"
        tail = "以下条款可能相关,供参考:"
    return head + (f"\n{tail}{_names(related)}" if related else "")


def place_text(title: str, places: Sequence[str], english: bool) -> str:
    where = "、".join(places)
    if english:
        return f"Sorry, {title} is Sanmen County's policy; it says nothing about {where}."
    return f"抱歉,{title}是三门县的政策文件,没有涉及{where}的规定。请咨询当地主管部门。"


def _describe(doc: Document) -> str:
    parts = [doc.citation_title]
    if doc.issuer:
        parts.append(f"发文机关:{doc.issuer}")
    if doc.date:
        parts.append(f"日期:{doc.date}")
    return ",".join(parts)


def missing_text(documents: Sequence[Document], english: bool) -> str:
    listed = ";".join(_describe(d) for d in documents)
    if english:
        return (f"The full text of {listed} is not in this assistant's corpus, so it cannot say what that "
                "document contains. The Sanmen opinion only cites it (序言).")
    return (f"抱歉,本系统只收录了该文件的目录信息,未收录其全文:{listed}。因此无法回答其中的具体内容。"
            "三门县实施意见在序言中引用了该文件,如需了解原文请查阅发文机关公开的文本。")


def basis_text(title: str, cited: Sequence[Document], citation: Citation, english: bool) -> str:
    lines = [f"{title}依据以下文件制定:" if not english else f"{title} is based on:"]
    for doc in cited:
        note = "" if doc.has_text else ("(全文未收录)" if not english else " (full text not in corpus)")
        lines.append(f"· {_describe(doc)}{note}")
    lines.append(f"出处 {citation.label}【{citation.clause_id}】:“{citation.quote}”")
    return "\n".join(lines)
