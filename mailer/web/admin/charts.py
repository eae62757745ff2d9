"""Server-rendered SVG charts (pygal) of a campaign's clicks: per item, and over time.

Pure functions of the engagement figures. No JavaScript and nothing fetched from elsewhere: pygal's
tooltip script (normally loaded from a CDN) is switched off, and the admin pages show the charts
as images from our own origin.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pygal
from lxml import etree
from pygal.style import Style

from mailer.engagement.reports import CampaignEngagement

# The one style of the admin's charts (campaign_report's messages-sent chart uses it too).
CHART_STYLE = Style(
    background="#FFFFFF",
    plot_background="#FFFFFF",
    foreground="#1B1F24",
    foreground_strong="#1B1F24",
    foreground_subtle="#D8D1C2",
    colors=("#0E2A47", "#B08D57"),
    font_family="Helvetica, Arial, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=12,
    title_font_size=15,
)
_COMMON = {
    "style": CHART_STYLE,
    "js": [],  # no tooltip script: it would come from a CDN
    "show_legend": False,
    "width": 720,
    "print_values": True,
}


def _svg(chart: pygal.graph.graph.Graph) -> bytes:
    """The chart's SVG without pygal's inline configuration script (only tooltips use it, and
    the page's Content-Security-Policy would refuse it anyway)."""
    root = etree.fromstring(chart.render())
    for script in root.iter("{http://www.w3.org/2000/svg}script"):
        parent = script.getparent()
        if parent is not None:
            parent.remove(script)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def _whole_numbers(top: int) -> list[int]:
    """Axis labels for counts: whole numbers only, about ten of them."""
    step = max(1, -(-top // 10))
    return list(range(0, top + step, step))


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clicks_per_item_svg(engagement: CampaignEngagement) -> bytes:
    """A horizontal bar per link of the issue: how many readers followed it."""
    chart = pygal.HorizontalBar(
        title="Readers who clicked, per item",
        height=max(220, 46 * len(engagement.links) + 90),
        **_COMMON,
    )
    links = list(reversed(engagement.links))  # pygal draws the first bar at the bottom
    chart.x_labels = [_short(link.title) for link in links]
    chart.add("readers", [link.clickers for link in links])
    top = max([1, *(link.clickers for link in links)])
    chart.range = (0, top)
    chart.y_labels = _whole_numbers(top)
    return _svg(chart)


def _bucket(span: timedelta) -> timedelta:
    for step in (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1)):
        if span <= step * 48:
            return step
    return timedelta(days=1)


def clicks_over_time_svg(times: list[datetime]) -> bytes:
    """Human clicks per interval since the first one (minutes, hours or days as the span needs)."""
    chart = pygal.Bar(title="Clicks over time", height=300, x_label_rotation=30, **_COMMON)
    if not times:
        chart.x_labels = ["no clicks yet"]
        chart.add("clicks", [0])
        return _svg(chart)
    start, end = times[0], times[-1]
    step = _bucket(end - start)
    counts = [0] * (int((end - start) / step) + 1)
    for t in times:
        counts[int((t - start) / step)] += 1
    fmt = "%H:%M" if step < timedelta(days=1) else "%d %b"
    chart.x_labels = [(start + step * n).strftime(fmt) for n in range(len(counts))]
    chart.x_labels_major_every = max(1, len(counts) // 8)
    chart.show_minor_x_labels = False
    chart.y_labels = _whole_numbers(max(counts))
    chart.add("clicks", counts)
    return _svg(chart)
