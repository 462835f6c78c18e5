"""License policy: does a model's license fit the way the suite says the model will be used?

The answer is a verdict and the sentences behind it. ``allowed`` means nothing in the license
stands in the way; ``review`` means a person must check a condition the tool cannot see (user
counts, what the product does, how it is shipped); ``forbidden`` means the license rules the use
out. It flags what to look at; it is not legal advice.

Intended uses, as the suite's ``intended_use`` means them:

* ``commercial``: in a product or service offered to others, or distributed with one.
* ``research``: non-commercial research or evaluation; the model is not put into a product.
* ``internal``: a company using the model in-house, neither distributed nor offered to outsiders.

Rules. Each yields findings; the verdict is the most severe finding, and ``reasons`` lists every
finding, most severe first, so obligations that do not change the verdict are still shown.

1. Unknown license (none declared, a placeholder such as ``other``, or a string the knowledge base
   does not know): ``review`` for every use, never ``allowed``. Nothing else is evaluated, because
   no facts are known.
2. ``commercial_use: no``: ``forbidden`` for commercial use; ``review`` for internal use, since use
   inside a company often counts as commercial; ``allowed`` for research.
3. ``commercial_use: conditional``: ``review`` for commercial and internal use, naming the condition
   (a monthly-active-user threshold, which licenses such as Llama's count across the whole
   organisation, so internal use is not exempt); ``allowed`` for research.
4. Use restrictions (an acceptable-use policy or behavioural restrictions): ``review`` for
   commercial use, since the product's uses must be checked against them; ``allowed`` for research
   and internal use, with a reason saying they still apply and pass on with any copy.
5. Copyleft. ``strong``: ``review`` for commercial use (shipping the model or a derivative brings
   source and same-license duties); ``allowed`` otherwise, since nothing is distributed.
   ``network``: ``review`` for commercial and internal use, because serving a modified version to
   anyone over a network brings the same duties; ``allowed`` for research. ``weak``: ``allowed``
   with a reason.
6. Attribution: never changes the verdict; stated as a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from auditkit.licenses._normalize import (
    UNKNOWN_ID,
    CommercialUse,
    Copyleft,
    LicenseEntry,
    knowledge_base,
    resolve_license,
)

Verdict = Literal["allowed", "review", "forbidden"]
IntendedUse = Literal["commercial", "research", "internal"]

_SEVERITY: dict[Verdict, int] = {"allowed": 0, "review": 1, "forbidden": 2}
_SHOWN_CHARS = 80


class LicenseAssessment(BaseModel):
    """A license's verdict for one intended use, the reasons for it, and the facts it rests on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    raw: str | None
    """The license string as found (model card, GGUF metadata, adapter base or suite)."""
    id: str
    """Knowledge-base id; ``LicenseRef-unknown`` when the license is absent or not recognised."""
    name: str
    known: bool
    verdict: Verdict
    reasons: list[str]
    """Short sentences, most severe first; never empty."""
    commercial_use: CommercialUse
    attribution_required: bool
    use_restrictions: bool
    copyleft: Copyleft
    user_threshold: int | None
    url: str | None


@dataclass(frozen=True)
class _Finding:
    verdict: Verdict
    reason: str


def assess_license(raw: str | None, intended_use: IntendedUse) -> LicenseAssessment:
    """Judge the license ``raw`` names against ``intended_use`` (rules in the module docstring)."""
    if intended_use not in get_args(IntendedUse):
        raise ValueError(
            f"intended_use must be one of {get_args(IntendedUse)}, not {intended_use!r}"
        )
    entry = resolve_license(raw)
    if entry is None or not entry.known:
        findings = [_unknown_finding(raw, entry)]
        entry = knowledge_base()[UNKNOWN_ID]
    else:
        findings = _known_findings(entry, intended_use)
    findings.sort(key=lambda f: -_SEVERITY[f.verdict])
    return LicenseAssessment(
        raw=raw,
        id=entry.id,
        name=entry.name,
        known=entry.known,
        verdict=findings[0].verdict,
        reasons=[f.reason for f in findings],
        commercial_use=entry.commercial_use,
        attribution_required=entry.attribution_required,
        use_restrictions=entry.use_restrictions,
        copyleft=entry.copyleft,
        user_threshold=entry.user_threshold,
        url=entry.url,
    )


def _unknown_finding(raw: str | None, entry: LicenseEntry | None) -> _Finding:
    """Why an unknown license needs a person: nothing declared, a placeholder, or unrecognised."""
    shown = _shown(raw)
    if not shown:
        reason = (
            "No license was declared; without one no rights can be assumed, "
            "so get the terms from the publisher."
        )
    elif entry is not None:
        reason = (
            f"The license is given as {shown!r}, which names no license; find the actual terms "
            "(license_name, license_link or the LICENSE file)."
        )
    else:
        reason = f"The license {shown!r} is not in the knowledge base; read its terms."
    return _Finding("review", reason)


def _shown(raw: str | None) -> str:
    text = " ".join((raw or "").split())
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _known_findings(entry: LicenseEntry, use: IntendedUse) -> list[_Finding]:
    findings = [
        _permission(entry, use),
        _restrictions(entry, use),
        _copyleft(entry, use),
        _attribution(entry),
    ]
    return [f for f in findings if f is not None]


def _permission(entry: LicenseEntry, use: IntendedUse) -> _Finding:
    """Rules 2 and 3: what the license says about commercial use, applied to ``use``."""
    name = entry.name
    if entry.commercial_use == "no":
        if use == "commercial":
            return _Finding("forbidden", f"{name} does not permit commercial use.")
        if use == "internal":
            return _Finding(
                "review",
                f"{name} does not permit commercial use, and use inside a company may count as "
                "commercial; confirm the use is non-commercial or get a separate license.",
            )
        return _Finding("allowed", f"{name} permits non-commercial research use.")
    if entry.commercial_use == "conditional" and use != "research":
        return _Finding("review", _condition(entry))
    return _Finding("allowed", f"{name} permits {use} use.")


def _condition(entry: LicenseEntry) -> str:
    """The condition on commercial use, as a sentence a reviewer can act on."""
    if entry.user_threshold is not None:
        return (
            f"{entry.name} requires a separate license from the licensor above "
            f"{_users(entry.user_threshold)} monthly active users; confirm the organisation is "
            "below it (the license says how users are counted)."
        )
    return f"{entry.name} permits commercial use only under conditions: {entry.notes}"


def _users(count: int) -> str:
    return f"{count // 1_000_000:,} million" if count % 1_000_000 == 0 else f"{count:,}"


def _restrictions(entry: LicenseEntry, use: IntendedUse) -> _Finding | None:
    """Rule 4: use restrictions bind everyone and travel with every copy or derivative."""
    if not entry.use_restrictions:
        return None
    if use == "commercial":
        return _Finding(
            "review",
            f"{entry.name} has use restrictions (an acceptable-use policy) that bind every use "
            "and must be passed on with the model or a derivative; check the product against them.",
        )
    return _Finding(
        "allowed",
        f"{entry.name}'s use restrictions apply to this use too and pass on with any copy.",
    )


def _copyleft(entry: LicenseEntry, use: IntendedUse) -> _Finding | None:
    """Rule 5: copyleft duties start when the model is distributed, or served for ``network``."""
    name = entry.name
    if entry.copyleft == "weak":
        return _Finding(
            "allowed",
            f"{name} is weak copyleft: distributed changes to its files stay under it.",
        )
    if entry.copyleft == "strong":
        duty = "distributing the model or a derivative requires releasing it under the same terms"
        return _Finding("review" if use == "commercial" else "allowed", f"{name}: {duty}.")
    if entry.copyleft == "network":
        duty = (
            "letting people use a modified version over a network, or distributing it, "
            "requires offering them its source under the same terms"
        )
        return _Finding("allowed" if use == "research" else "review", f"{name}: {duty}.")
    return None


def _attribution(entry: LicenseEntry) -> _Finding | None:
    """Rule 6: attribution is an obligation to state, never a reason to block."""
    if not entry.attribution_required:
        return None
    return _Finding(
        "allowed",
        f"{entry.name} requires keeping its license text and attribution notices with any copy.",
    )
