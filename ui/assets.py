"""The app's CSS, theme and page script (kept apart so app.py stays about wiring)."""

from __future__ import annotations

import gradio as gr

CJK_FONTS = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]


def theme() -> gr.themes.Base:
    """Local fonts only: the app must render offline (the default theme fetches web fonts)."""
    return gr.themes.Soft(font=CJK_FONTS, font_mono=["DejaVu Sans Mono", "monospace"])


CSS = """
#pqa-bridge { display: none !important; }
.pqa-answer { line-height: 1.65; }
.pqa-meta { font-size: .8em; opacity: .75; margin: .35em 0; }
.pqa-refused .pqa-text { color: var(--body-text-color); }
.pqa-cards-title { font-weight: 600; margin-top: .6em; }
.pqa-card { border: 1px solid var(--border-color-primary); border-left: 4px solid #b03a2e; border-radius: 6px;
            padding: .45em .7em; margin: .45em 0; background: var(--background-fill-secondary); }
.pqa-card-head { font-weight: 600; }
.pqa-id { font-family: var(--font-mono); color: #7d3c98; font-weight: 500; margin-left: .2em; }
.pqa-doc { font-size: .8em; opacity: .7; }
.pqa-clause { max-height: 14em; overflow: auto; margin: .3em 0; white-space: normal; }
.pqa-answer mark, .pqa-clause mark { background: #ffe08a; color: inherit; padding: 0 1px; border-radius: 2px; }
.pqa-note { font-size: .8em; opacity: .7; }
a.pqa-open { cursor: pointer; text-decoration: none; color: #1f5fa8; }
a.pqa-open:hover { text-decoration: underline; }
.pqa-related ul { margin: .2em 0 .2em 1.2em; }
.pqa-copybox { margin-top: .5em; }
.pqa-copytext { display: none; }
button.pqa-copy { border: 1px solid var(--border-color-primary); border-radius: 4px; padding: 1px 8px;
                  font-size: .85em; cursor: pointer; background: var(--background-fill-primary); }
.pqa-tree, .pqa-tree *, #pqa-detail, #pqa-detail * { text-align: left; }
.pqa-tree { max-height: 68vh; overflow: auto; font-size: .92em; }
.pqa-tree details { margin-left: .7em; }
.pqa-tree summary { cursor: pointer; font-weight: 600; margin: .2em 0; }
.pqa-tree-doc { margin: .3em 0; }
.pqa-tree .pqa-missing { opacity: .65; margin-left: .7em; }
a.pqa-leaf { display: block; padding: 1px 4px 1px 1.2em; color: inherit; }
.pqa-clause-view { border-bottom: 1px solid var(--border-color-primary); padding: .6em 0; }
.pqa-clause-view .pqa-clause { max-height: none; font-size: 1.02em; }
.pqa-path { font-size: .8em; opacity: .7; }
.pqa-clause-title { font-weight: 600; font-size: 1.08em; margin: .2em 0; }
.pqa-hits { margin-bottom: .4em; }
.pqa-empty { opacity: .7; padding: .6em 0; }
.pqa-interp { margin: .35em 0; padding: .35em .6em; border-left: 3px solid #2e86c1; background: rgba(46,134,193,.08);
              border-radius: 4px; font-size: .93em; }
.pqa-interp-label { font-weight: 600; color: #1f5fa8; margin-right: .3em; }
.pqa-earlier-box { margin: .4em 0; }
.pqa-earlier { font-size: .9em; padding: .2em .5em; border-left: 3px solid #aaa; margin: .2em 0; }
.pqa-earlier-label { font-weight: 600; }
.pqa-compare-summary { font-weight: 600; margin: .3em 0 .6em; }
.pqa-compare-table { width: 100%; border-collapse: collapse; table-layout: fixed; text-align: left; }
.pqa-compare-table th, .pqa-compare-table td { border: 1px solid var(--border-color-primary); padding: .4em .55em;
                                               vertical-align: top; text-align: left; }
.pqa-cmp-head { font-weight: 600; font-size: .9em; margin-bottom: .2em; }
.pqa-cmp-kind { font-size: .78em; padding: 0 5px; border-radius: 3px; background: #eee; color: #333; }
.pqa-cmp-changed .pqa-cmp-kind, .pqa-cmp-moved .pqa-cmp-kind { background: #fdebd0; }
.pqa-cmp-added .pqa-cmp-kind { background: #d5f5e3; }
.pqa-cmp-removed .pqa-cmp-kind { background: #fadbd8; }
.pqa-cmp-same { opacity: .75; }
.pqa-compare del { background: #fadbd8; color: #922b21; }
.pqa-compare ins { background: #d5f5e3; color: #1e8449; text-decoration: none; }
.pqa-doc-preview, .pqa-hit, .pqa-doc-preview *, .pqa-hit * { text-align: left; }
.pqa-doc-summary { font-weight: 600; margin: .3em 0; }
.pqa-doc-errors { color: #922b21; }
.pqa-doc-warnings { color: #7e5109; }
.pqa-doc-errors ul, .pqa-doc-warnings ul { margin: .2em 0 .4em 1.2em; }
.pqa-doc-tree, .pqa-hit-table, .pqa-hit-kv { border-collapse: collapse; width: 100%; font-size: .9em; }
.pqa-doc-tree td, .pqa-hit-table td, .pqa-hit-table th, .pqa-hit-kv td, .pqa-hit-kv th {
  border-bottom: 1px solid var(--border-color-primary); padding: 2px 6px; vertical-align: top; }
.pqa-doc-heading td { font-weight: 600; opacity: .8; }
.pqa-doc-snippet { opacity: .8; }
.pqa-hit-sec { margin: .5em 0 .8em; }
.pqa-hit-kv th { width: 11em; font-weight: 600; white-space: nowrap; }
.pqa-hit-table td.pqa-s-clause, .pqa-hit-table td.pqa-c-clause { white-space: nowrap; }
.pqa-dash-summary { display: flex; flex-wrap: wrap; gap: .6em; margin: .3em 0; }
.pqa-dash-cell { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: .35em .8em;
                 min-width: 7em; }
.pqa-dash-k { font-size: .8em; opacity: .7; }
.pqa-dash-v { font-size: 1.25em; font-weight: 600; }
"""

# Runs once per page (the hidden bridge component's on-load script). One capturing listener on the
# document handles every “open clause” link and copy button, including those inside chat messages
# (the chat's sanitiser strips data-* attributes, so links carry the clause in their href).
BRIDGE_JS = r"""
window.__pqaOpen = (key) => { props.value = key; trigger('submit'); };
if (!window.__pqaWired) {
  window.__pqaWired = true;
  const copy = async (text) => {
    window.__pqaLastCopy = text;
    try { await navigator.clipboard.writeText(text); }
    catch (err) {
      const ta = document.createElement('textarea');
      ta.value = text; ta.style.position = 'fixed'; ta.style.opacity = '0';
      document.body.appendChild(ta); ta.select();
      try { document.execCommand('copy'); } finally { ta.remove(); }
    }
  };
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const link = target.closest('a.pqa-open');
    if (link) {
      event.preventDefault(); event.stopPropagation();
      const href = link.getAttribute('href') || '';
      const at = href.indexOf('pqa-open=');
      if (at >= 0) window.__pqaOpen(decodeURIComponent(href.slice(at + 9)));
      return;
    }
    const button = target.closest('button.pqa-copy');
    if (button) {
      event.preventDefault(); event.stopPropagation();
      const box = button.closest('.pqa-copybox');
      const lines = Array.from(box.querySelectorAll('.pqa-copyline')).map((s) => s.textContent);
      const label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      copy(lines.join('\n')).then(() => {
        button.textContent = '✓ ' + label;
        setTimeout(() => { button.textContent = label; }, 1500);
      });
    }
  }, true);
}
"""

# After an export handler put a one-time link (ui/exports.py) in a hidden box: download it in place.
DOWNLOAD_JS = r"""
(url) => {
  if (url) {
    const a = document.createElement('a');
    a.href = url; a.download = ''; a.rel = 'noopener';
    document.body.appendChild(a); a.click(); a.remove();
  }
  return [];
}
"""

# After a login (token) or logout (empty): the server sets or clears the HttpOnly admin cookie that the
# upload hook checks (ui/uploads.py); the token never goes into document.cookie.
SESSION_JS = r"""
(token) => {
  fetch('api/admin/session', {method: token ? 'POST' : 'DELETE', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'}, body: token ? JSON.stringify({token}) : null}).catch(() => {});
  return [];
}
"""
