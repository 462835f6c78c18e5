"""License reports as the renderers show them: a verdict and a handful of facts in words."""

from __future__ import annotations

from dataclasses import dataclass

from auditkit.results import LicenseReport


@dataclass(frozen=True)
class LicenseCard:
    model_id: str
    license_id: str
    name: str
    verdict: str
    url: str
    raw: str
    """The license text as found, when it differs from the normalised id."""
    known: bool
    facts: tuple[tuple[str, str], ...]
    reasons: tuple[str, ...]


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def user_threshold(limit: int | None) -> str:
    return "none" if limit is None else f"{limit:,} users"


def license_card(report: LicenseReport) -> LicenseCard:
    raw = report.raw or ""
    facts = (
        ("Commercial use", report.commercial_use),
        ("Attribution required", yes_no(report.attribution_required)),
        ("Use restrictions", yes_no(report.use_restrictions)),
        ("Copyleft", report.copyleft),
        ("User threshold", user_threshold(report.user_threshold)),
    )
    return LicenseCard(
        model_id=report.model_id,
        license_id=report.id,
        name=report.name,
        verdict=report.verdict,
        url=report.url or "",
        raw=raw if raw.strip() and raw.strip() != report.id else "",
        known=report.known,
        facts=facts,
        reasons=tuple(report.reasons),
    )
