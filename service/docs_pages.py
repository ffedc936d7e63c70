"""The repository's docs as pages of the app, so the editor's docs are one click away.

Only files we ship are rendered (no path comes from the request), with raw HTML off like
every other Markdown on our pages. Unlike a story (service/prose.py), a doc keeps its
headings and tables: they are its outline.
"""

from __future__ import annotations

import functools
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup

#: docs/ beside the packages: the repository, or /app in the Docker image.
DOCS = Path(__file__).resolve().parent.parent / "docs"


@functools.cache
def authoring_html() -> Markup | None:
    """docs/authoring.md as HTML; None when the docs are not installed."""
    path = DOCS / "authoring.md"
    if not path.is_file():
        return None
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.disable(["image"])
    html = md.render(path.read_text(encoding="utf-8"))
    # A code block scrolls sideways inside itself: reachable by the keyboard too.
    return Markup(html.replace("<pre>", '<pre tabindex="0">'))
