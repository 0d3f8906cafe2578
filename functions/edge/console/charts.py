"""Usage charts drawn on the server as inline SVG: no script, nothing to load, readable
by a screen reader (a title and a description that states the figures)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from functions.core.models import DayUsage

WIDTH: Final = 720
HEIGHT: Final = 200
MARGIN: Final = 28
SERIES: Final = (
    ("ok", "answered", "#1a6b2f"),
    ("client_errors", "refused (4xx)", "#8a5a00"),
    ("limited", "limited (429)", "#6f42c1"),
    ("errors", "errors (5xx)", "#a4161a"),
)


def usage_chart(rows: Sequence[DayUsage], label: str) -> str:
    """Calls per day, stacked by outcome, one bar a day (oldest left)."""
    days = len(rows)
    top = max([r.calls for r in rows] + [1])
    plot_h = HEIGHT - 2 * MARGIN
    step = (WIDTH - 2 * MARGIN) / max(days, 1)
    bar = max(step * 0.7, 1.0)
    parts = []
    for index, row in enumerate(rows):
        x = MARGIN + index * step
        y = HEIGHT - MARGIN
        for field, _name, colour in SERIES:
            value = getattr(row, field)
            if not value:
                continue
            height = plot_h * value / top
            y -= height
            said = f"{row.day}: {value} {field.replace('_', ' ')}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{said}</title></rect>'
            )
    first, last = (rows[0].day, rows[-1].day) if rows else ("", "")
    total = sum(r.calls for r in rows)
    busiest = max(rows, key=lambda r: r.calls) if rows else None
    description = (
        f"{total} calls from {first} to {last}"
        + (f"; the busiest day {busiest.day} with {busiest.calls}" if busiest and total else "")
        + "."
    )
    legend = "".join(
        f'<rect x="{MARGIN + i * 150}" y="6" width="10" height="10" fill="{colour}"/>'
        f'<text x="{MARGIN + i * 150 + 14}" y="15" font-size="12" fill="#1b1f24">{name}</text>'
        for i, (_field, name, colour) in enumerate(SERIES)
    )
    axis = (
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#4a535d"/>'
        f'<text x="{MARGIN}" y="{HEIGHT - 8}" font-size="12" fill="#1b1f24">{first}</text>'
        f'<text x="{WIDTH - MARGIN}" y="{HEIGHT - 8}" font-size="12" fill="#1b1f24" '
        f'text-anchor="end">{last}</text>'
        f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" font-size="12" fill="#1b1f24" '
        f'text-anchor="end">{top}</text>'
    )
    slug = escape("".join(c if c.isalnum() else "-" for c in label))
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="chart-{slug}-title chart-{slug}-desc">'
        f'<title id="chart-{slug}-title">Calls per day of {escape(label)}</title>'
        f'<desc id="chart-{slug}-desc">{escape(description)}</desc>'
        f"{legend}{axis}{''.join(parts)}</svg>"
    )
