"""Inline SVG charts for the scorecard, built as text: no script, no external resource.

Every piece of text that reaches the SVG (model ids, metric names, titles) goes through ``esc``;
the charts are returned as ``Markup`` only once they are whole. Values that are missing or not a
number are left out of the drawing and named instead, so a chart never shows a made-up bar.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import TypeGuard

from markupsafe import Markup

BAR_WIDTH = 540
BAR_LABEL = 170
BAR_VALUE = 64
BAR_ROW = 26
BAR_TOP = 6
AXIS = 24

SCATTER_WIDTH = 540
SCATTER_HEIGHT = 300
SCATTER_MARGIN = (14, 20, 46, 58)
"""Top, right, bottom, left."""
LABEL_GAP = 13
"""Least vertical distance between two point labels, in pixels."""
MAX_LABEL = 24


@dataclass(frozen=True)
class Bar:
    """One model's value with its interval; ``value`` ``None`` (or NaN) when there is none."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    text: str = ""
    """The value as the tables write it, shown at the end of the bar."""
    highlight: bool = False
    mark: str = ""
    """A footnote mark shown after the label (never clipped away), e.g. for a model's notes."""


@dataclass(frozen=True)
class Point:
    """One model in a scatter; a missing or NaN coordinate keeps it off the plot."""

    label: str
    x: float | None
    y: float | None
    y_low: float | None = None
    y_high: float | None = None
    text: str = ""
    highlight: bool = False
    mark: str = ""
    """A footnote mark shown after the label (never clipped away)."""


def esc(text: str) -> str:
    return escape(text, quote=True)


def finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def clip_label(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def marked(label: str, mark: str, limit: int = MAX_LABEL) -> str:
    """``label`` clipped so that ``mark`` (if any) still fits after it."""
    if not mark:
        return clip_label(label, limit)
    return f"{clip_label(label, max(limit - len(mark) - 1, 1))} {mark}"


def nice_step(span: float, count: int) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten giving about ``count`` intervals."""
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next((m * power for m in (1, 2, 2.5, 5) if m * power >= raw), 10 * power)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``; a zero-width range is widened first."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.1 or 0.5
        low, high = low - pad, high + pad
    step = nice_step(high - low, count)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def linear(domain: tuple[float, float], span: tuple[float, float]) -> Callable[[float], float]:
    """Map ``domain`` linearly onto ``span`` (pixels)."""
    (d0, d1), (r0, r1) = domain, span
    width = (d1 - d0) or 1.0
    return lambda value: r0 + (value - d0) / width * (r1 - r0)


def decimals_for(step: float) -> int:
    """The fewest decimals that write every multiple of ``step`` exactly (at most six)."""
    return next((d for d in range(7) if abs(round(step, d) - step) < 1e-9), 6)


def tick_text(value: float, step: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.{decimals_for(step * 100)}f}%"
    return f"{value:.{decimals_for(step)}f}".replace("-", "−")


def _n(value: float) -> str:
    """A pixel coordinate, short."""
    return f"{value:.1f}"


def svg(width: float, height: float, title: str, body: Sequence[str]) -> Markup:
    head = (
        f'<svg class="chart" role="img" aria-label="{esc(title)}" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}">'
    )
    return Markup("".join([head, f"<title>{esc(title)}</title>", *body, "</svg>"]))


def text(x: float, y: float, content: str, cls: str, anchor: str = "start") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" class="{cls}" text-anchor="{anchor}">{esc(content)}</text>'
    )


def line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" class="{cls}"/>'


def whisker(start: float, end: float, at: float, cap: float, vertical: bool = False) -> list[str]:
    """An interval from ``start`` to ``end`` (pixels) with end caps, across ``at``."""
    if vertical:
        return [
            line(at, start, at, end, "whisker"),
            line(at - cap, start, at + cap, start, "whisker"),
            line(at - cap, end, at + cap, end, "whisker"),
        ]
    return [
        line(start, at, end, at, "whisker"),
        line(start, at - cap, start, at + cap, "whisker"),
        line(end, at - cap, end, at + cap, "whisker"),
    ]


def _bar_domain(bars: Sequence[Bar], percent: bool) -> list[float]:
    values = [v for b in bars for v in (b.value, b.low, b.high) if finite(v)]
    low, high = min([0.0, *values]), max([0.0, *values])
    if percent:
        low, high = min(low, 0.0), max(high, 1.0)
    return nice_ticks(low, high if high > low else low + 1.0)


def bar_chart(title: str, bars: Sequence[Bar], percent: bool = False) -> Markup:
    """Horizontal bars from zero, one row per model, with the 95% interval as a whisker."""
    ticks = _bar_domain(bars, percent)
    plot = (BAR_LABEL, BAR_WIDTH - BAR_VALUE)
    x = linear((ticks[0], ticks[-1]), plot)
    bottom = BAR_TOP + len(bars) * BAR_ROW
    body = [line(x(t), BAR_TOP, x(t), bottom, "grid") for t in ticks]
    step = ticks[1] - ticks[0]
    body += [text(x(t), bottom + 16, tick_text(t, step, percent), "tick", "middle") for t in ticks]
    for i, bar in enumerate(bars):
        body.append(_bar_row(bar, BAR_TOP + i * BAR_ROW + BAR_ROW / 2, x))
    body.append(line(x(0.0), BAR_TOP, x(0.0), bottom, "axis"))
    return svg(BAR_WIDTH, bottom + AXIS, title, body)


def _bar_row(bar: Bar, mid: float, x: Callable[[float], float]) -> str:
    label = text(BAR_LABEL - 8, mid + 4, marked(bar.label, bar.mark), "label", "end")
    name = f"{bar.label} {bar.mark}" if bar.mark else bar.label
    if not finite(bar.value):
        missing = text(x(0.0) + 6, mid + 4, bar.text or "no value", "missing")
        return f"<g><title>{esc(name)}: no value</title>{label}{missing}</g>"
    start, end = sorted((x(0.0), x(bar.value)))
    cls = "bar base" if bar.highlight else "bar"
    parts = [
        f'<rect x="{_n(start)}" y="{_n(mid - 7)}" width="{_n(max(end - start, 1.0))}" '
        f'height="14" rx="2" class="{cls}"/>'
    ]
    right = x(bar.value)
    if finite(bar.low) and finite(bar.high):
        parts += whisker(x(bar.low), x(bar.high), mid, 5)
        right = max(right, x(bar.high))
    parts.append(text(max(right, x(0.0)) + 6, mid + 4, bar.text, "value"))
    tip = f"{name}: {bar.text}"
    return f"<g><title>{esc(tip)}</title>{label}{''.join(parts)}</g>"


def _padded(values: Sequence[float], floor: float | None) -> list[float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad
    if floor is not None:
        low = max(low, floor)
    return nice_ticks(low, high, 4)


def _label_positions(ys: Sequence[float]) -> list[float]:
    """Push label baselines apart so that no two are closer than ``LABEL_GAP``."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = list(ys)
    for previous, current in itertools.pairwise(order):
        placed[current] = max(placed[current], placed[previous] + LABEL_GAP)
    return placed


def scatter_chart(
    title: str, x_label: str, y_label: str, points: Sequence[Point], percent: bool = False
) -> Markup:
    """Each model at (cost, quality) with its quality interval; models lacking a value are named."""
    shown = [p for p in points if finite(p.x) and finite(p.y)]
    left_out = [p.label for p in points if p not in shown]
    top, right, bottom, left = SCATTER_MARGIN
    plot_x, plot_y = (left, SCATTER_WIDTH - right), (SCATTER_HEIGHT - bottom, top)
    body: list[str] = []
    if shown:
        xs = [p.x for p in shown if finite(p.x)]
        ys = [v for p in shown for v in (p.y, p.y_low, p.y_high) if finite(v)]
        x_ticks = nice_ticks(0.0, max(xs) * 1.1 if max(xs) > 0 else 1.0, 4)
        y_ticks = _padded(ys, 0.0 if percent else None)
        x = linear((x_ticks[0], x_ticks[-1]), plot_x)
        y = linear((y_ticks[0], y_ticks[-1]), plot_y)
        body += _scatter_axes(x, y, x_ticks, y_ticks, percent)
        body += _scatter_points(shown, x, y)
    else:
        middle = (plot_y[0] + plot_y[1]) / 2
        body.append(
            text(SCATTER_WIDTH / 2, middle, "no model has both values", "missing", "middle")
        )
    body.append(
        text((plot_x[0] + plot_x[1]) / 2, SCATTER_HEIGHT - 18, x_label, "axis-label", "middle")
    )
    middle_y = (plot_y[0] + plot_y[1]) / 2
    body.append(
        f'<text transform="translate(14 {_n(middle_y)}) rotate(-90)" class="axis-label" '
        f'text-anchor="middle">{esc(y_label)}</text>'
    )
    if left_out:
        note = "not shown (no value): " + ", ".join(left_out)
        body.append(text(left, SCATTER_HEIGHT - 3, clip_label(note, 70), "missing"))
    return svg(SCATTER_WIDTH, SCATTER_HEIGHT, title, body)


def _scatter_axes(
    x: Callable[[float], float],
    y: Callable[[float], float],
    x_ticks: Sequence[float],
    y_ticks: Sequence[float],
    percent: bool,
) -> list[str]:
    top, right, bottom, left = SCATTER_MARGIN
    x_step, y_step = x_ticks[1] - x_ticks[0], y_ticks[1] - y_ticks[0]
    base = SCATTER_HEIGHT - bottom
    parts = [line(left, y(t), SCATTER_WIDTH - right, y(t), "grid") for t in y_ticks]
    parts += [line(x(t), top, x(t), base, "grid") for t in x_ticks]
    parts += [
        text(left - 6, y(t) + 4, tick_text(t, y_step, percent), "tick", "end") for t in y_ticks
    ]
    parts += [text(x(t), base + 16, tick_text(t, x_step, False), "tick", "middle") for t in x_ticks]
    parts.append(line(left, base, SCATTER_WIDTH - right, base, "axis"))
    parts.append(line(left, top, left, base, "axis"))
    return parts


def _scatter_points(
    points: Sequence[Point], x: Callable[[float], float], y: Callable[[float], float]
) -> list[str]:
    coords = [(x(p.x or 0.0), y(p.y or 0.0)) for p in points]
    labels_y = _label_positions([cy + 4 for _, cy in coords])
    limit = SCATTER_WIDTH - SCATTER_MARGIN[1] - 100
    parts = []
    for point, (cx, cy), ly in zip(points, coords, labels_y, strict=True):
        name = f"{point.label} {point.mark}" if point.mark else point.label
        inner = [f"<title>{esc(f'{name}: {point.text}')}</title>"]
        if finite(point.y_low) and finite(point.y_high):
            inner += whisker(y(point.y_low), y(point.y_high), cx, 4, vertical=True)
        cls = "dot base" if point.highlight else "dot"
        inner.append(f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="5" class="{cls}"/>')
        anchor, dx = ("end", -8.0) if cx > limit else ("start", 8.0)
        inner.append(text(cx + dx, ly, marked(point.label, point.mark, 18), "label", anchor))
        parts.append("<g>" + "".join(inner) + "</g>")
    return parts
