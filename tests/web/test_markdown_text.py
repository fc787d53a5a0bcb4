"""Descriptions and notes: HTML the page does not allow is shown as text, never dropped, never run."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from crm.web.markdown import ALLOWED_TAGS, render_markdown


class _Page(HTMLParser):
    """What a browser makes of the HTML: its elements, their attributes, and the text it shows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data


def shown(html: str) -> _Page:
    page = _Page()
    page.feed(str(html))
    page.close()
    return page


def assert_harmless(page: _Page) -> None:
    for tag, attrs in page.elements:
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not (attrs.get("href") or "").lower().startswith(("javascript:", "data:", "vbscript:")), attrs


# (what the user wrote, texts the reader must see)
HOSTILE = [
    ("Before <style> after", ["Before <style> after"]),
    ("<style>body{display:none}</style>\n\nStill here", ["<style>body{display:none}</style>", "Still here"]),
    ("Call <script>alert(1)</script> tomorrow", ["<script>alert(1)</script>", "tomorrow"]),
    ("<script>\nfetch('/x')\n\nThe rest of the note", ["<script>", "fetch('/x')", "The rest of the note"]),
    ('<img src=x onerror="alert(3)"> the tail', ['<img src=x onerror="alert(3)">', "the tail"]),
    ("<svg onload=alert(1)><script>alert(2)</script></svg> end", ["<svg onload=alert(1)>", "end"]),
    ("x <!-- a comment --> y", ["<!-- a comment -->", "y"]),
    ("open <!-- never closed\n\nnext paragraph", ["<!-- never closed", "next paragraph"]),
    ("<textarea>everything after", ["<textarea>everything after"]),
    ("<iframe src=https://evil.test></iframe>shown", ["<iframe src=https://evil.test>", "shown"]),
    ("<scr<script>ipt>alert(1)</script>", ["<scr<script>ipt>alert(1)</script>"]),
    ('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', ["<noscript>"]),
]
INNOCENT = [
    ("**Bold** and *italic*", ["Bold", "italic"]),
    ("Price < 100 and > 50", ["Price < 100 and > 50"]),
    ("2 <3 you", ["2 <3 you"]),
    ("Use `<style>` in the template", ["<style>", "in the template"]),
    ("```\n<script src=app.js></script>\n```\nafter the code", ["<script src=app.js></script>", "after the code"]),
    ("line one<br>line two", ["line one", "line two"]),
    ("H<sub>2</sub>O and <b>bold</b>", ["H", "2", "O and ", "bold"]),
    ("See ![the chart](https://example.com/c.png)", ["See ", "the chart"]),
    ("Mail <me@example.com>", ["me@example.com"]),
]


@pytest.mark.parametrize("text,visible", HOSTILE + INNOCENT)
def test_markdown_keeps_every_word_the_user_wrote(text, visible):
    page = shown(render_markdown(text))
    for fragment in visible:
        assert fragment in page.text, (fragment, str(render_markdown(text)))


@pytest.mark.parametrize("text,_visible", HOSTILE + INNOCENT)
def test_markdown_output_runs_nothing(text, _visible):
    assert_harmless(shown(render_markdown(text)))


def test_allowed_markup_stays_markup_without_its_handlers():
    page = shown(render_markdown('<b onclick="x()">bold</b> [site](https://example.com) [bad](javascript:alert(1))'))
    assert ("b", {}) in page.elements
    links = [attrs for tag, attrs in page.elements if tag == "a"]
    assert links[0]["href"] == "https://example.com"
    assert "href" not in links[1]
    assert "bold" in page.text and "bad" in page.text


def test_an_image_is_a_link_named_by_its_alt_text():
    page = shown(render_markdown("![the chart](https://example.com/c.png)"))
    assert page.elements == [("p", {}), ("a", {"href": "https://example.com/c.png",
                                               "rel": "noopener noreferrer nofollow"})]
    assert page.text.strip() == "the chart"


def test_task_page_shows_a_literal_style_tag_and_everything_after_it(web):
    task_id = web.task("Styled", description="Wrap it in <style> tags, then send.\n\nSecond paragraph.")
    page = shown(web.text(web.get(f"/tasks/{task_id}")))
    assert "Wrap it in <style> tags, then send." in page.text
    assert "Second paragraph." in page.text


def test_activity_log_shows_a_literal_script_tag_and_everything_after_it(web):
    web.activity(subject="Call", body="They asked about <script> blocks.\n\nNext step: demo.")
    response = web.get("/activities")
    page = shown(web.text(response))
    assert "They asked about <script> blocks." in page.text
    assert "Next step: demo." in page.text
    assert "<script>" not in web.text(response).split("</head>", 1)[1].replace("&lt;script&gt;", "")


# --- Plain notes skip the converter: the same HTML either way ----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from crm.web import markdown  # noqa: E402

_NOTE_CHARS = st.sampled_from(list("abcAB Zé1 90.,;:?!'\"()/@%&-+\n\n\t*_#>=[]`<|~") + ["&amp;", "1. ", "- ", "  \n",
                                                                                        "\n\n", "http://x.test"])


@settings(max_examples=600, deadline=None)
@given(st.lists(_NOTE_CHARS, max_size=40).map("".join))
def test_a_note_renders_the_same_with_or_without_the_converter(text):
    if text:
        assert render_markdown(text) == markdown._clean(markdown._convert(text))


_PLAIN_CHARS = st.sampled_from(list("abc Zé1 90.,;:?!'\"()/@%&-+\n") + ["\n\n", "\u00a0", "\u2028", "\x85", "\x00",
                                                                           "\u3000", "ß", "İ"])


@settings(max_examples=600, deadline=None)
@given(st.lists(_PLAIN_CHARS, max_size=60).map("".join))
def test_plain_text_renders_the_same_with_or_without_the_converter(text):
    if text:
        assert render_markdown(text) == markdown._clean(markdown._convert(text))


@pytest.mark.parametrize("text", [
    "Called Ada. Budget approved: 5,000 (net), start 1 March!\nShe'll send the PO by Friday.",
    "First paragraph.\n\nSecond one, after a blank line.\n\n\nThird.",
    "Q&A went well; AT&T wants a quote <soon>",
])
def test_plain_notes_take_the_short_way_and_read_the_same(text):
    assert render_markdown(text) == markdown._clean(markdown._convert(text))
