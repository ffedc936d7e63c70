"""Stories, prompts, solutions and explanations as safe HTML: the one Markdown renderer.

Authors write these texts in Markdown (``**REML**``, `` `lm(y ~ x)` ``), and YAML folds
them with line breaks mid-sentence, which Markdown joins into one paragraph. Every page
(student, instructor preview, analytics) and the API's ``*_html`` fields render through
:func:`to_html`, so a text looks the same everywhere.

Safety: a spec is written by any instructor, so raw HTML is never passed through (it is
shown as text), a link is kept only to an http(s) or mailto URL or a relative one (never
``javascript:``, ``data:`` …) and gets ``rel="nofollow noopener noreferrer"``, and images
are off (a page must not fetch from hosts an author chose). Headings and rules are off
too: a story's ``#`` or ``---`` must not break the page's own outline.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markupsafe import Markup

#: A link's URL must start with one of these, or have no scheme at all (relative).
SAFE_SCHEMES = ("http:", "https:", "mailto:")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _safe_link(url: str) -> bool:
    """markdown-it hands over the URL after decoding entities: check that text."""
    bare = re.sub(r"[\x00-\x20]", "", url).lower()
    return bare.startswith(SAFE_SCHEMES) or not _SCHEME.match(bare)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "heading", "lheading", "hr", "html_block", "html_inline"])
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def link_open(
        renderer: RendererHTML, tokens: list[Any], idx: int, options: Any, env: Any
    ) -> str:
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MARKDOWN = _parser()


def to_html(text: str | None) -> Markup:
    """``text`` (Markdown) as HTML blocks (paragraphs, lists, code), safe to embed."""
    if not text:
        return Markup("")
    return Markup(_MARKDOWN.render(text).strip())


def init_app(app: Flask) -> None:
    """The ``prose`` template filter: ``{{ part.prompt|prose }}`` inside a ``<div>``."""
    app.add_template_filter(to_html, "prose")
