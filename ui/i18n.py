"""UI strings in Chinese (the default) and English, and the registry that re-labels components on a toggle.

Gradio's own i18n follows the browser locale; the office wants Chinese by default with an explicit
English switch, so labels are plain strings swapped by one event.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.i18n_office import OFFICE

LANGS = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "code": "zh",  # which language a table of strings is (notes and 解读 pick theirs by it)
        "title": "## 三门县标准化政策问答\n"
                 "依据《关于贯彻落实国家标准化发展纲要的实施意见(征求意见稿)》原文作答,每条回答附条款出处。",
        "lang": "界面语言",
        "tab_chat": "问答",
        "tab_browse": "条文查阅",
        "tab_admin": "管理",
        "question": "您的问题",
        "question_ph": "例如:企业标准总师要培育多少名?",
        "send": "发送",
        "mode": "回答方式",
        "mode_extractive": "条文原文",
        "mode_llm": "通俗解读",
        "mode_faq": "常见问题(人工审核)",
        "examples": "示例问题",
        "chat_placeholder": "请输入问题。每条回答都会引用实施意见的条款原文。",
        "thinking": "正在检索条文…",
        "comment": "补充说明(可选)",
        "comment_ph": "哪里不对或缺了什么?",
        "comment_send": "提交说明",
        "fb_saved_up": "已记录“赞”,谢谢!可补充说明。",
        "fb_saved_down": "已记录“踩”,谢谢!可补充说明哪里不对。",
        "fb_comment_saved": "说明已保存。",
        "fb_unknown": "这条回答不在本次会话的记录中,无法评价。",
        "cited": "引用条款",
        "related": "你可能想看",
        "open": "在条文查阅中打开",
        "copy": "复制回答及出处",
        "copy_cite": "复制出处",
        "copied": "已复制",
        "mode_label": "模式",
        "fallback": "通俗解读暂不可用,已改用条文原文",
        "degraded": "向量检索暂不可用,仅用关键词检索",
        "quote_missing": "(引文未能在条文中定位,以下为引文原文)",
        "jump": "按条款号跳转",
        "jump_ph": "如 二(七)2、第二部分第七条第2项、主要举措第七条",
        "jump_btn": "跳转",
        "search": "关键词搜索",
        "search_ph": "如 二维码",
        "search_btn": "搜索",
        "tab_clauses": "条文",
        "tab_targets": "指标表",
        "targets_export": "导出 CSV",
        "targets_missing": "指标表尚未生成。",
        "not_found": "未找到条款:",
        "no_hits": "没有条款包含:",
        "hits": "条条款包含",
        "pick_clause": "从左侧目录选择条款,或按条款号跳转、按关键词搜索。",
        "metadata_only": "仅有目录信息,正文暂未收录",
        "login": "登录",
        "password": "管理密码",
        "login_bad": "密码不正确。",
        "logout": "退出",
        "tab_feedback": "反馈与待办",
        "tab_faq": "FAQ",
        "tab_index": "索引",
        "refresh": "刷新",
        "feedback_title": "#### 用户反馈(最新在前)",
        "backlog_title": "#### 待办:拒答或被“踩”的问题(最新在前),选中一行后点“加为 FAQ”",
        "export_feedback": "导出反馈 CSV",
        "export_backlog": "导出待办 CSV",
        "add_faq": "加为 FAQ",
        "faq_question": "问题",
        "faq_answer": "答案",
        "faq_clauses": "条款(如 sanmen:二(七)2,多个用逗号分隔)",
        "faq_paraphrases": "相似问法(每行一条)",
        "faq_editor": "编辑人",
        "faq_save": "保存",
        "faq_new": "新建",
        "faq_delete": "删除",
        "reindex": "重建索引",
        "index_info": "索引信息",
        "too_long": "问题有 {n} 个字,超过了 {limit} 字的上限,请精简后再问。",
        "search_too_long": "搜索内容有 {n} 个字,超过了 {limit} 字的上限。",
        "busy": "当前提问的人较多,请稍后再试。",
        "login_wait": "密码错误次数过多,请 {s} 秒后再试。",
        "export_started": "已开始下载(链接仅可使用一次)。",
    },
    "en": {
        "code": "en",
        "title": "## Sanmen County standardisation policy assistant\nAnswers quote the draft opinion "
                 "verbatim and cite the clause of every quote.",
        "lang": "Language",
        "tab_chat": "Ask",
        "tab_browse": "Browse clauses",
        "tab_admin": "Admin",
        "question": "Your question",
        "question_ph": "e.g. 企业标准总师要培育多少名?",
        "send": "Send",
        "mode": "Answer style",
        "mode_extractive": "Verbatim clauses",
        "mode_llm": "Plain-language summary",
        "mode_faq": "FAQ (curated)",
        "examples": "Example questions",
        "chat_placeholder": "Ask a question. Every answer quotes the clauses of the opinion.",
        "thinking": "Searching the clauses…",
        "comment": "Comment (optional)",
        "comment_ph": "What was wrong or missing?",
        "comment_send": "Send comment",
        "fb_saved_up": "Thumbs-up recorded, thank you. You may add a comment.",
        "fb_saved_down": "Thumbs-down recorded, thank you. Tell us what was wrong.",
        "fb_comment_saved": "Comment saved.",
        "fb_unknown": "This answer is not in this session's log and cannot be rated.",
        "cited": "Cited clauses",
        "related": "You may want to read",
        "open": "Open in clause browser",
        "copy": "Copy answer with sources",
        "copy_cite": "Copy citation",
        "copied": "Copied",
        "mode_label": "Mode",
        "fallback": "plain-language mode unavailable, verbatim clauses shown instead",
        "degraded": "vector search unavailable, keyword search only",
        "quote_missing": "(quote could not be located in the clause; shown as quoted)",
        "jump": "Go to clause number",
        "jump_ph": "e.g. 二(七)2, 第二部分第七条第2项, 主要举措第七条",
        "jump_btn": "Go",
        "search": "Keyword search",
        "search_ph": "e.g. 二维码",
        "search_btn": "Search",
        "tab_clauses": "Clauses",
        "tab_targets": "Targets",
        "targets_export": "Export CSV",
        "targets_missing": "The targets table has not been generated yet.",
        "not_found": "No clause found for:",
        "no_hits": "No clause contains:",
        "hits": "clauses contain",
        "pick_clause": "Pick a clause from the outline, or go to a clause number, or search a keyword.",
        "metadata_only": "catalog entry only, text not in the corpus",
        "login": "Log in",
        "password": "Admin password",
        "login_bad": "Wrong password.",
        "logout": "Log out",
        "tab_feedback": "Feedback & backlog",
        "tab_faq": "FAQ",
        "tab_index": "Index",
        "refresh": "Refresh",
        "feedback_title": "#### Feedback (newest first)",
        "backlog_title": "#### Backlog: refused or thumbs-down questions (newest first); select a row, then Add as FAQ",
        "export_feedback": "Export feedback CSV",
        "export_backlog": "Export backlog CSV",
        "add_faq": "Add as FAQ",
        "faq_question": "Question",
        "faq_answer": "Answer",
        "faq_clauses": "Clauses (e.g. sanmen:二(七)2, comma separated)",
        "faq_paraphrases": "Paraphrases (one per line)",
        "faq_editor": "Edited by",
        "faq_save": "Save",
        "faq_new": "New",
        "faq_delete": "Delete",
        "reindex": "Rebuild index",
        "index_info": "Index",
        "too_long": "The question has {n} characters, over the limit of {limit}; please shorten it.",
        "search_too_long": "The search has {n} characters, over the limit of {limit}.",
        "busy": "Many people are asking right now; please try again shortly.",
        "login_wait": "Too many wrong passwords; try again in {s} s.",
        "export_started": "Download started (the link works once).",
    },
}


for _lang, _strings in OFFICE.items():
    STRINGS[_lang].update(_strings)


def t(lang: str, key: str) -> str:
    """The string for `key` in `lang`, falling back to Chinese (never a KeyError in the UI)."""
    return STRINGS.get(lang, STRINGS["zh"]).get(key) or STRINGS["zh"][key]


def mode_choices(lang: str, llm: bool) -> list[tuple[str, str]]:
    """条文原文 always; 通俗解读 only when an LLM endpoint is configured."""
    choices = [(t(lang, "mode_extractive"), "extractive")]
    return [*choices, (t(lang, "mode_llm"), "llm")] if llm else choices


class Translator:
    """Components and which of their props show which string; `updates(lang)` re-labels them all."""

    def __init__(self) -> None:
        self.entries: list[tuple[Any, dict[str, str]]] = []
        self.extra: list[tuple[Any, Any]] = []  # (component, lang -> update) for non-string props

    def add(self, component: Any, **props: str) -> Any:
        self.entries.append((component, props))
        return component

    def add_fn(self, component: Any, fn: Any) -> Any:
        self.extra.append((component, fn))
        return component

    @property
    def components(self) -> list[Any]:
        return [c for c, _ in self.entries] + [c for c, _ in self.extra]

    def updates(self, lang: str) -> list[Any]:
        plain = [gr.update(**{prop: t(lang, key) for prop, key in props.items()})  # type: ignore[arg-type]
                 for _, props in self.entries]
        return plain + [fn(lang) for _, fn in self.extra]
