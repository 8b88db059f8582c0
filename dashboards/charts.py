"""Bar charts drawn on the server as SVG: no script, no third-party file, nothing the admin's
CSP has to allow (colours come from dashboards/charts.css, never an inline style)."""

from datetime import date

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 300, 96
TOP, BOTTOM = 12, 14  # room for the peak's label and the first and last days


def _day(day: date) -> str:
    return date_format(day, "d/m")


def bar_chart(points, *, label: str, kind: str) -> SafeString:
    """One bar per (day, count); each bar's <title> gives its day and count, the whole chart's
    label its total and peak (screen readers read the label, the table-less way)."""
    points = list(points)
    peak = max((n for _day, n in points), default=0)
    total = sum(n for _day, n in points)
    step = WIDTH / max(len(points), 1)
    plot = HEIGHT - TOP - BOTTOM
    bars = []
    for i, (day, n) in enumerate(points):
        height = round(plot * n / peak, 1) if peak else 0
        bars.append(
            f'<rect class="chart__bar" x="{i * step + 1:.1f}" y="{TOP + plot - height:.1f}" '
            f'width="{max(step - 2, 1):.1f}" height="{height}">'
            f"<title>{escape(_day(day))} : {n}</title></rect>"
        )
    summary = f"{label} : {total}"
    if peak:
        summary += f" (max {peak})"
    first, last = (_day(points[0][0]), _day(points[-1][0])) if points else ("", "")
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above or here
        f'<svg class="chart chart--{escape(kind)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(summary)}" xmlns="http://www.w3.org/2000/svg">'
        f'<line class="chart__axis" x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" '
        f'y2="{HEIGHT - BOTTOM}"/>'
        + "".join(bars)
        + f'<text class="chart__label" x="0" y="9">{peak}</text>'
        f'<text class="chart__label" x="0" y="{HEIGHT - 2}">{escape(first)}</text>'
        f'<text class="chart__label" x="{WIDTH}" y="{HEIGHT - 2}" text-anchor="end">'
        f"{escape(last)}</text></svg>"
    )
