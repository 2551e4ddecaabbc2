"""results/report.html: the report's blocks as one self-contained page.

Figures are embedded as base64 PNG, mathematics is MathML (latex2mathml), the Markdown is rendered by
markdown-it-py and the page shell is a Jinja2 template. No JavaScript, no request leaves the file (a
Content-Security-Policy forbids any), and a print stylesheet keeps figures and their numbers together.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import jinja2
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt

from jaxrnn.io.report import document
from jaxrnn.io.report.document import Doc, Figure, Numbering

_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


def _mathml(latex: str, display: bool) -> str:
    try:
        out = latex_to_mathml(latex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - an unsupported macro must not stop the report: show the source
        return f"<code>{html.escape(latex)}</code>"
    return out


def _figure_html(fig: Figure, results_dir: Path) -> str:
    data = base64.b64encode((Path(results_dir) / fig.path).read_bytes()).decode("ascii")
    caption = html.escape(fig.caption)
    return (f'<figure id="figure-{fig.number}"><img src="data:image/png;base64,{data}" '
            f'alt="Figure {fig.number}: {caption}"><figcaption><strong>Figure {fig.number}.</strong> '
            f"{caption}</figcaption></figure>")


def render(doc: Doc, num: Numbering, results_dir: Path) -> str:
    maths: list[str] = []

    def protect(m: re.Match) -> str:
        maths.append(_mathml(m.group(1) if m.group(1) is not None else m.group(2), m.group(1) is not None))
        return f"MATHPLACEHOLDER{len(maths) - 1}X"

    figures: list[str] = []
    chunks = []
    for block in doc.blocks:
        if isinstance(block, Figure):
            figures.append(_figure_html(block, results_dir))
            chunks.append(f"FIGUREPLACEHOLDER{len(figures) - 1}X")
        elif block == document.HEADER:
            continue
        else:
            chunks.append(_MATH.sub(protect, block))
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    body = md.render("\n\n".join(chunks))
    body = re.sub(r"<p>FIGUREPLACEHOLDER(\d+)X</p>", lambda m: figures[int(m.group(1))], body)
    body = re.sub(r"MATHPLACEHOLDER(\d+)X", lambda m: maths[int(m.group(1))], body)
    # heading ids, as GitHub makes them, so the front table's links work on the page too
    toc = []

    def heading(m: re.Match) -> str:
        level, inner = m.group(1), m.group(2)
        ident = document.slug(html.unescape(re.sub(r"<[^>]+>", "", inner)))
        if level == "2":
            toc.append((ident, html.unescape(re.sub(r"<[^>]+>", "", inner))))
        return f'<h{level} id="{ident}">{inner}</h{level}>'

    body = re.sub(r"<h([1-3])>(.*?)</h\1>", heading, body)
    first_h2 = body.find("<h2")  # the contents go after the title and the two-sentence introduction
    env = jinja2.Environment(loader=jinja2.PackageLoader("jaxrnn.io.report", "."), autoescape=True)
    nav = env.get_template("toc.html.j2").render(toc=toc)
    if first_h2 >= 0:
        body = body[:first_h2] + nav + body[first_h2:]
    return env.get_template("page.html.j2").render(title="Training recurrent networks: a homework, checked",
                                                   body=body)
