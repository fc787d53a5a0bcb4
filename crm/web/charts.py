"""Bar charts as inline SVG, drawn by pygal on the server.

pygal puts a `<style>` and a `<script>` (its tooltip configuration) into every chart; the page's
CSP allows neither, so both are taken out of the tree before it is written, and the chart is
styled by static/app.css through pygal's classes (`.series.serie-N`, `.axis`, `.value`, ...).
Readable without colour: every series of a chart has its own fill pattern (defined in the
chart's `<defs>`, matched to `.serie-N` by the stylesheet), the legend shows the same patterns,
and bars carry their numbers. The numbers are also in a table beside each chart (the template's).
"""

from __future__ import annotations

from functools import lru_cache
from xml.etree import ElementTree

import pygal
from markupsafe import Markup
from pygal.style import Style

SVG_NS = "http://www.w3.org/2000/svg"
# Only the sizes matter (pygal lays the chart out with them); colours come from static/app.css.
SIZES = Style(label_font_size=12, major_label_font_size=12, value_font_size=12, legend_font_size=12,
              value_label_font_size=12, no_data_font_size=16)
# One pattern per series, told apart by shape: solid, diagonal lines, dots, cross-hatch,
# horizontal lines, vertical lines, checks, the other diagonal.
PATTERN_SHAPES = (
    "",
    '<path d="M-1,1 l2,-2 M0,8 l8,-8 M7,9 l2,-2" class="pattern-ink"/>',
    '<circle cx="4" cy="4" r="1.6" class="pattern-dot"/>',
    '<path d="M0,0 L8,8 M8,0 L0,8" class="pattern-ink"/>',
    '<path d="M0,2 h8 M0,6 h8" class="pattern-ink"/>',
    '<path d="M2,0 v8 M6,0 v8" class="pattern-ink"/>',
    '<rect x="0" y="0" width="4" height="4" class="pattern-dot"/><rect x="4" y="4" width="4" height="4" class="pattern-dot"/>',
    '<path d="M-1,7 l2,2 M0,0 l8,8 M7,-1 l2,2" class="pattern-ink"/>',
)


def _patterns(chart_id: str, count: int) -> list[str]:
    return [f'<pattern id="{chart_id}-p{n}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" class="pattern-ground pattern-ground-{n}"/>{PATTERN_SHAPES[n % len(PATTERN_SHAPES)]}</pattern>'
            for n in range(count)]


def _integer_steps(largest: int) -> list[int]:
    """Whole-number y labels, about five of them."""
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000):
        step = candidate
        if largest / candidate <= 5:
            break
    top = max(step, -(-largest // step) * step)
    return list(range(0, top + 1, step))


def bar_chart(chart_id: str, labels: list[str], series: list[tuple[str, list[int]]],
              *, stacked: bool = False, horizontal: bool = False) -> Markup:
    """An SVG bar chart, `series` as (name, one value per label); the caller gives the caption id
    `<chart_id>-caption` to the element that names it.

    Drawing takes pygal several milliseconds, and a user's numbers rarely change between two
    visits of the page, so the last charts drawn are kept (by their input) in this process."""
    return _drawn(chart_id, tuple(labels), tuple((name, tuple(values)) for name, values in series),
                  stacked, horizontal)


@lru_cache(maxsize=512)
def _drawn(chart_id: str, labels: tuple[str, ...], series: tuple[tuple[str, tuple[int, ...]], ...],
           stacked: bool, horizontal: bool) -> Markup:
    kind = pygal.StackedBar if stacked else pygal.HorizontalBar if horizontal else pygal.Bar
    totals = [sum(values) for values in zip(*(values for _name, values in series), strict=True)] if series else [0]
    chart = kind(
        js=[], css=[], style=SIZES, disable_xml_declaration=True, no_prefix=True, width=520, height=250,
        show_legend=len(series) > 1, legend_at_bottom=True, legend_at_bottom_columns=min(len(series), 4),
        print_values=True, print_zeroes=False, print_values_position="center" if stacked else "top",
        y_labels=_integer_steps(max(totals)), show_minor_y_labels=True, truncate_label=-1,
        margin=12, margin_bottom=28 if len(series) > 1 else 12, spacing=8, defs=_patterns(chart_id, len(series)), classes=["pygal-chart", "chart-svg"],
        no_data_text="Nothing yet",
        # Twelve week labels do not fit side by side: every other one is written, the last included.
        x_labels_major=list(labels[::-2]) if len(labels) > 8 and not horizontal else None,
        show_minor_x_labels=len(labels) <= 8 or horizontal,
    )
    if horizontal:  # pygal draws the first label at the bottom; read top down instead
        labels, series = labels[::-1], tuple((name, values[::-1]) for name, values in series)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for element in list(parent):
            # The style, the script and the (script-driven) tooltip go, for the CSP; so does pygal's
            # <title>: the caption names the chart.
            if (str(element.tag).rsplit("}", 1)[-1] in ("style", "script", "title")
                    or "tooltip-overlay" in element.get("class", "")):
                parent.remove(element)
    for element in tree.iter():
        element.attrib.pop("style", None)
        if str(element.tag).rsplit("}", 1)[-1] != "pattern":
            element.attrib.pop("id", None)  # the legend's ids would repeat from chart to chart
    tree.set("id", chart_id)
    tree.set("role", "img")
    tree.set("aria-labelledby", f"{chart_id}-caption")
    tree.set("focusable", "false")
    ElementTree.register_namespace("", SVG_NS)
    return Markup(ElementTree.tostring(tree, encoding="unicode", short_empty_elements=True))
