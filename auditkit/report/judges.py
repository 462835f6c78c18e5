"""The judges' cards as the reports show them, and which probe counts which judge's verdicts.

A judge's card (``AuditResult.judges``) is measured on its labelled validation set; this module
only formats it. Cards are linked to from the probes that use them by an in-page anchor, whose id
is a strict slug of the judge's name (names come from the results and are untrusted).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from auditkit.results import AuditResult, JudgeCard, Proportion

ANCHOR_PREFIX = "judge-"
MAX_SLUG = 48
"""Characters of a judge's name kept in its anchor; enough to tell judges apart."""

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Share:
    """A proportion as the reports write it: ``93.4%``, ``[89.1, 96.1]`` and its ``n``."""

    value: str
    interval: str
    n: int


@dataclass(frozen=True)
class LabelView:
    label: str
    sensitivity: Share
    specificity: Share


@dataclass(frozen=True)
class JudgeView:
    """One judge's card, formatted, with the anchor its links point to."""

    anchor: str
    judge: str
    version: str
    question: str
    n: int
    accuracy: Share
    labels: tuple[LabelView, ...]
    probes: tuple[str, ...]
    """The probes whose rates count this judge's verdicts, in suite order."""


@dataclass(frozen=True)
class JudgeLink:
    """A judge named by a probe; ``anchor`` is ``None`` when the results hold no card for it."""

    name: str
    anchor: str | None


def slug(name: str) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens; nothing else survives."""
    return _NOT_SLUG.sub("-", name.lower()).strip("-")[:MAX_SLUG].strip("-")


def judge_anchors(cards: Iterable[JudgeCard]) -> list[str]:
    """One unique element id per card, in order: ``judge-<slug>``, numbered on a clash."""
    anchors: list[str] = []
    for card in cards:
        base = ANCHOR_PREFIX + (slug(card.judge) or "unnamed")
        anchor, number = base, 1
        while anchor in anchors:
            number += 1
            anchor = f"{base}-{number}"
        anchors.append(anchor)
    return anchors


def format_share(share: Proportion) -> Share:
    """As a percentage with one decimal, like the comparison table's proportions."""
    value = "NaN" if math.isnan(share.value) else f"{share.value * 100:.1f}%"
    if math.isnan(share.ci_low) or math.isnan(share.ci_high):
        return Share(value, "", share.n)
    return Share(value, f"[{share.ci_low * 100:.1f}, {share.ci_high * 100:.1f}]", share.n)


def judge_views(result: AuditResult) -> list[JudgeView]:
    """Every judge card of the audit, in the order the results list them."""
    return [
        JudgeView(
            anchor=anchor,
            judge=card.judge,
            version=card.version,
            question=card.question,
            n=card.n,
            accuracy=format_share(card.accuracy),
            labels=tuple(
                LabelView(
                    label.label, format_share(label.sensitivity), format_share(label.specificity)
                )
                for label in card.labels
            ),
            probes=tuple(probe.id for probe in result.probes if card.judge in probe.judges),
        )
        for card, anchor in zip(result.judges, judge_anchors(result.judges), strict=True)
    ]


def probe_judges(result: AuditResult) -> dict[str, tuple[JudgeLink, ...]]:
    """Probe id -> the judges it names, each linked to its card (the first, if named twice)."""
    anchors: dict[str, str] = {}
    for card, anchor in zip(result.judges, judge_anchors(result.judges), strict=True):
        anchors.setdefault(card.judge, anchor)
    return {
        probe.id: tuple(JudgeLink(name, anchors.get(name)) for name in probe.judges)
        for probe in result.probes
        if probe.judges
    }
