"""Articles per day per source as an SVG stacked bar chart, drawn on the server (no JavaScript,
works offline)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from markupsafe import Markup, escape

# Colour-blind-friendly palette (Okabe-Ito), then greys for the long tail of sources.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
OTHER = "#999999"


def articles_per_day_svg(
    rows: Iterable[Mapping], *, width: int = 880, height: int = 200, max_sources: int = 7
) -> Markup:
    """Stacked bars of `rows` (day, source, articles). Sources beyond the `max_sources` largest
    are drawn together as "other". Empty input gives an empty string."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        if not row["day"]:
            continue
        counts[row["day"]][row["source"]] = row["articles"]
        totals[row["source"]] += row["articles"]
    if not counts:
        return Markup("")
    top = sorted(totals, key=lambda s: -totals[s])[:max_sources]
    colors = {source: PALETTE[i] for i, source in enumerate(top)}
    # One bar for the long tail of each day: a hundred sources would draw a hundred per day.
    for day, by_source in counts.items():
        rest = [source for source in by_source if source not in colors]
        if len(rest) > 1:
            counts[day] = {s: n for s, n in by_source.items() if s in colors}
            counts[day][f"{len(rest)} other sources"] = sum(by_source[s] for s in rest)
    try:  # every day of the range gets a slot, even days with no articles
        first, last = date.fromisoformat(min(counts)), date.fromisoformat(max(counts))
        days = [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]
    except ValueError:
        days = sorted(counts)
    peak = max(sum(counts[d].values()) for d in counts) or 1
    left, bottom, top_pad = 40, 22, 8
    plot_w, plot_h = width - left - 4, height - bottom - top_pad
    slot = plot_w / len(days)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="per-day-chart" role="img" '
        f'viewBox="0 0 {width} {height + 24}" width="100%">',
        f"<title>Articles per day per source, {escape(days[0])} to {escape(days[-1])}</title>",
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="11">0</text>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 4}" y2="{top_pad + plot_h}" '
        'stroke="#666"/>',
    ]
    for i, day in enumerate(days):
        y = top_pad + plot_h
        x = left + i * slot
        by_source = counts.get(day, {})
        for source, n in sorted(by_source.items(), key=lambda item: item[0] not in colors):
            h = n / peak * plot_h
            y -= h
            label = f"{day} {source}: {n}"
            parts.append(
                f'<rect x="{x + 0.5:.1f}" y="{y:.1f}" width="{max(slot - 1, 0.5):.1f}" '
                f'height="{h:.1f}" fill="{colors.get(source, OTHER)}">'
                f"<title>{escape(label)}</title></rect>"
            )
    for i, anchor in sorted({0: "start", len(days) // 2: "middle", len(days) - 1: "end"}.items()):
        x = left + (i + {"start": 0, "middle": 0.5, "end": 1}[anchor]) * slot
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="{anchor}" font-size="11">'
            f"{escape(days[i])}</text>"
        )
    legend = top + (["other"] if len(totals) > len(top) else [])
    for i, source in enumerate(legend):
        x = left + i * (plot_w / max(len(legend), 4))
        parts.append(
            f'<rect x="{x:.1f}" y="{height + 8}" width="10" height="10" '
            f'fill="{colors.get(source, OTHER)}"/>'
            f'<text x="{x + 14:.1f}" y="{height + 17}" font-size="11">{escape(source)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
