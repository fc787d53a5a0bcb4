"""Markdown to HTML that is safe to put in a page: no scripts, no handlers, no javascript: URLs.

Raw HTML in the text keeps only the tags the page allows; any other tag (`<style>`, `<script>`,
`<img>`, a comment...) is shown as the text the user typed. The sanitizer would otherwise drop
it, and with an unclosed `<style>` or `<script>` everything after it. nh3 still cleans the
result: it is what makes the output safe, the escaping only keeps text from disappearing.
"""

from __future__ import annotations

import re
import threading
from html import escape as html_escape

import markdown as md
import nh3
from markdown.extensions import Extension
from markdown.postprocessors import RawHtmlPostprocessor
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

# A start or end tag, attributes quoted or not (a quoted value may hold ">").
_TAG = re.compile(r"""</?([A-Za-z][A-Za-z0-9]*)(?:\s(?:"[^"]*"|'[^']*'|[^'">])*)?/?>""")


def escape_unallowed_tags(html: str) -> str:
    """Raw HTML with every `<` that does not open an allowed tag written as `&lt;`."""
    kept: list[str] = []
    start = 0
    for match in _TAG.finditer(html):
        if match.group(1).lower() in ALLOWED_TAGS:
            kept.append(html[start:match.start()].replace("<", "&lt;"))
            kept.append(match.group(0))
            start = match.end()
    kept.append(html[start:].replace("<", "&lt;"))
    return "".join(kept)


class _AllowedRawHtml(RawHtmlPostprocessor):
    """Puts the stashed raw HTML (and the extensions' own output) back, unallowed tags as text."""

    def stash_to_string(self, text: str) -> str:
        return escape_unallowed_tags(str(text))


class _ImagesAsLinks(Treeprocessor):
    """`![chart](https://…)` as a link to the image, named by its alt text: pages show no images
    (the sanitizer would drop the element, alt text and all)."""

    def run(self, root) -> None:
        for element in root.iter("img"):
            src, alt, title = element.get("src", ""), element.get("alt", ""), element.get("title")
            element.tag = "a"
            element.attrib = {"href": src, **({"title": title} if title else {})}
            element.text = alt or src


class _KeepTheTextExtension(Extension):
    def extendMarkdown(self, md_: md.Markdown) -> None:  # noqa: N802 - Markdown's API
        md_.postprocessors.register(_AllowedRawHtml(md_), "raw_html", 30)
        md_.treeprocessors.register(_ImagesAsLinks(md_), "images_as_links", 15)


_converters = threading.local()


def _converter() -> md.Markdown:
    """One converter per thread, reset between texts: building one registers every extension's
    processors again (about 1 ms, most of a short text's cost on a page of 50 entries)."""
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = md.Markdown(
            extensions=["fenced_code", "tables", "sane_lists", _KeepTheTextExtension()], output_format="html")
    return converter


# Text that Markdown would only split into paragraphs: none of its marks, no entity, no line
# that starts like a list, a quote, a heading rule or code, no line break made by trailing spaces,
# no whitespace but spaces and newlines, no control character.
_MARKDOWN_SYNTAX = re.compile(r"[\\`*_\[\]<>#|~=]|[^\S \n]|[\x00-\x09\x0b-\x1f\x7f-\x9f]|&#?\w+;|^[-+ ]|^\d+[.)]| $",
                              re.MULTILINE)
_BLANK_LINES = re.compile(r"\n\s*\n")


def _paragraphs(text: str) -> str:
    """What Markdown makes of plain text (see _MARKDOWN_SYNTAX): a `<p>` per paragraph."""
    return "\n".join(f"<p>{html_escape(part, quote=False)}</p>" for part in _BLANK_LINES.split(text.strip("\n")) if part)


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    if not _MARKDOWN_SYNTAX.search(text):
        # Most notes: paragraphs of escaped text, which need no sanitizing (the same HTML as the
        # converter and nh3 make of them, tests/web/test_markdown_text.py), at a tenth of the cost.
        return Markup(_paragraphs(text))  # noqa: S704 - every character of the text escaped
    return _clean(_convert(text))


def _convert(text: str) -> str:
    converter = _converter()
    try:
        return converter.convert(text)
    finally:
        converter.reset()


def _clean(html: str) -> Markup:
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitized by nh3 just above
