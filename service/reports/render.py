"""Markdown and HTML renderings of a report's content.

Nothing in a report is trusted markup: quotes come from uploaded documents and answers from a model.
HTML escapes every piece of content (no Markdown-to-HTML conversion, so a model cannot inject tags);
Markdown turns HTML characters into entities and backslash-escapes the characters that would start
markup; a model's own Markdown keeps its emphasis and lists but loses raw HTML, links and images. Citations are numbered once per report and link to the cited page or
lines of `/v1/documents/{id}/text`.
"""

from __future__ import annotations

import html
import re

from service.reports.models import Cite, Item, Report, ReportContent, Section

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_text(text: str) -> str:
    """Plain text as Markdown that renders literally (HTML characters as entities, markup escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", _entities(text))


def md_code(text: str) -> str:
    """An inline code span that holds any text (a fence longer than any backtick run inside)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {' '.join(text.split())} {fence}"


def md_model(text: str) -> str:
    """A model's Markdown keeping its emphasis and lists, without raw HTML, links or images."""
    return re.sub(r"([\[\]])", r"\\\1", _entities(text))


class _Numbering:
    def __init__(self) -> None:
        self.cites: list[Cite] = []
        self._index: dict[tuple[object, ...], int] = {}

    def number(self, c: Cite) -> int:
        key = (c.document_id, c.page, c.line_start, c.line_end, c.quote)
        if key not in self._index:
            self.cites.append(c)
            self._index[key] = len(self.cites)
        return self._index[key]


def _sections(content: ReportContent) -> list[Section]:
    return ([content.changes] if content.changes else []) + content.sections


def _meta_lines(report: Report, content: ReportContent) -> list[str]:
    lines = [
        f"template {report.template}",
        f"engine {content.engine} ({content.model})",
        f"generated {content.generated_at:%Y-%m-%d %H:%M} UTC",
        f"job {report.job_id}",
    ]
    if content.window:
        lines.append(
            f"window {content.window['start']:%Y-%m-%d %H:%M} to {content.window['end']:%Y-%m-%d %H:%M} UTC"
        )
    if report.schedule_id:
        lines.append(f"schedule {report.schedule_id}, run {report.run_id}")
    return lines


def to_markdown(report: Report, content: ReportContent) -> str:
    numbers = _Numbering()
    out = [f"# {md_text(content.title)}", "", f"> **{md_text(content.label)}**", ""]
    out += [" · ".join(md_text(m) for m in _meta_lines(report, content)), ""]
    out += [f"- {md_text(d['name'])} ({md_code(d['id'])})" for d in content.documents] + [""]
    for section in _sections(content):
        out += [f"## {md_text(section.title)}", ""]
        if section.note:
            out += [f"_{md_text(section.note)}_", ""]
        for item in section.items:
            out.append(_md_item(item, content.engine != "offline", numbers))
        out.append("")
    if numbers.cites:
        out += ["## Citations", ""]
        for n, c in enumerate(numbers.cites, 1):
            quote = md_text(" ".join(c.quote.split()))
            out.append(f"{n}. [{md_text(c.where)}]({c.href}) ({c.status}): \u201c{quote}\u201d")
        out.append("")
    return "\n".join(out)


def _md_item(item: Item, from_model: bool, numbers: _Numbering) -> str:
    marks = "".join(f" [\\[{numbers.number(c)}\\]](#citations)" for c in item.citations)
    code = f" {md_code(item.code)}" if item.code else ""
    if from_model:
        body = md_model(item.text).replace("\n", "\n  ")
        return f"- {body}{code}{marks}"
    return f"- {md_text(item.text)}{code}{marks}"


_CSS = """
body{font:15px/1.5 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:1.8rem}
.label{background:#fff8c5;border:1px solid #d4a72c;padding:.4rem .7rem;border-radius:4px}
.meta{color:#57606a;font-size:.85rem}.note{color:#57606a;font-style:italic}
.answer{white-space:pre-wrap}code{background:#f6f8fa;padding:0 .25rem;border-radius:3px;word-break:break-all}
sup a{text-decoration:none}ol.cites li{margin-bottom:.4rem}.quote{color:#424a53}
@media print{a{color:inherit;text-decoration:none}body{margin:0;max-width:none}h2{break-after:avoid}li{break-inside:avoid}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def to_html(report: Report, content: ReportContent) -> str:
    """A self-contained, printable page (inline CSS, no scripts, no external resources)."""
    numbers = _Numbering()
    body: list[str] = [f"<h1>{_e(content.title)}</h1>", f'<p class="label">{_e(content.label)}</p>']
    body.append(f'<p class="meta">{" &middot; ".join(_e(m) for m in _meta_lines(report, content))}</p>')
    docs = "".join(f"<li>{_e(d['name'])} <code>{_e(d['id'])}</code></li>" for d in content.documents)
    body.append(f'<ul class="meta">{docs}</ul>')
    for section in _sections(content):
        body.append(f'<section id="{_e(section.key)}"><h2>{_e(section.title)}</h2>')
        if section.note:
            body.append(f'<p class="note">{_e(section.note)}</p>')
        if section.items:
            body.append(
                "<ul>"
                + "".join(_html_item(i, content.engine != "offline", numbers) for i in section.items)
                + "</ul>"
            )
        body.append("</section>")
    if numbers.cites:
        body.append('<section id="citations"><h2>Citations</h2><ol class="cites">')
        for n, c in enumerate(numbers.cites, 1):
            quote = _e(" ".join(c.quote.split()))
            body.append(
                f'<li id="cite-{n}"><a href="{_e(c.href)}">{_e(c.where)}</a> '
                f'<span class="meta">({_e(c.status)})</span><br><span class="quote">\u201c{quote}\u201d</span></li>'
            )
        body.append("</ol></section>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(content.title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _html_item(item: Item, from_model: bool, numbers: _Numbering) -> str:
    marks = "".join(
        f'<sup><a href="#cite-{numbers.number(c)}">[{numbers.number(c)}]</a></sup>' for c in item.citations
    )
    code = f" <code>{_e(item.code)}</code>" if item.code else ""
    text = f'<div class="answer">{_e(item.text)}</div>' if from_model else _e(item.text)
    return f"<li>{text}{code} {marks}</li>"
