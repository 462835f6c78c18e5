"""The license knowledge base, the normalizer that maps raw strings onto it, and the policy."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml
from pydantic import ValidationError

from auditkit.licenses import (
    UNKNOWN_ID,
    IntendedUse,
    LicenseEntry,
    assess_license,
    knowledge_base,
    normalize_license,
)
from auditkit.licenses._normalize import (
    _text_key,
    _url_key,
    build_indexes,
    parse_knowledge_base,
)

USES: tuple[IntendedUse, ...] = ("commercial", "research", "internal")

REQUIRED = {
    "apache-2.0": "Apache-2.0",
    "mit": "MIT",
    "bsd-3-clause": "BSD-3-Clause",
    "cc-by-4.0": "CC-BY-4.0",
    "cc-by-sa-4.0": "CC-BY-SA-4.0",
    "cc-by-nc-4.0": "CC-BY-NC-4.0",
    "cc-by-nc-sa-4.0": "CC-BY-NC-SA-4.0",
    "gpl-3.0": "GPL-3.0-only",
    "agpl-3.0": "AGPL-3.0-only",
    "openrail": "LicenseRef-OpenRAIL",
    "bigscience-openrail-m": "LicenseRef-BigScience-OpenRAIL-M",
    "creativeml-openrail-m": "LicenseRef-CreativeML-OpenRAIL-M",
    "llama2": "LicenseRef-Llama-2-Community",
    "llama3": "LicenseRef-Llama-3-Community",
    "llama3.1": "LicenseRef-Llama-3.1-Community",
    "llama3.2": "LicenseRef-Llama-3.2-Community",
    "llama3.3": "LicenseRef-Llama-3.3-Community",
    "gemma": "LicenseRef-Gemma-Terms-of-Use",
    "qwen": "LicenseRef-Tongyi-Qianwen",
    "qwen-research": "LicenseRef-Qwen-Research",
    "unknown": "LicenseRef-unknown",
}

FIELDS = {
    "id",
    "name",
    "aliases",
    "url",
    "commercial_use",
    "attribution_required",
    "use_restrictions",
    "copyleft",
    "user_threshold",
    "notes",
    "source",
}


def _raw_entries() -> dict[str, dict[str, object]]:
    text = resources.files("auditkit.licenses").joinpath("knowledge_base.yaml").read_text("utf-8")
    entries: dict[str, dict[str, object]] = yaml.safe_load(text)["licenses"]
    return entries


def _by_key() -> dict[str, LicenseEntry]:
    return {entry.key: entry for entry in knowledge_base().values()}


# --- Knowledge base -------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "license_id"), sorted(REQUIRED.items()))
def test_every_required_license_is_present_with_its_id(key: str, license_id: str) -> None:
    assert _by_key()[key].id == license_id
    assert knowledge_base()[license_id].key == key


@pytest.mark.parametrize("key", sorted(REQUIRED))
def test_every_required_entry_spells_out_every_field(key: str) -> None:
    # Spelled out in the file, not filled in by a default.
    assert set(_raw_entries()[key]) == FIELDS


def test_every_entry_has_a_name_notes_and_an_https_source() -> None:
    for entry in knowledge_base().values():
        assert entry.name.strip(), entry.key
        assert entry.notes.strip(), entry.key
        assert entry.source.startswith("https://"), entry.key


def test_every_known_entry_has_an_https_url() -> None:
    for entry in knowledge_base().values():
        if entry.known:
            assert entry.url is not None
            assert entry.url.startswith("https://"), entry.key
    assert knowledge_base()[UNKNOWN_ID].url is None


@pytest.mark.parametrize(
    ("key", "commercial_use", "user_threshold"),
    [
        ("llama2", "conditional", 700_000_000),
        ("llama3", "conditional", 700_000_000),
        ("llama3.1", "conditional", 700_000_000),
        ("llama3.2", "conditional", 700_000_000),
        ("llama3.3", "conditional", 700_000_000),
        ("qwen", "conditional", 100_000_000),
        ("qwen-research", "no", None),
        ("gemma", "yes", None),
        ("cc-by-nc-4.0", "no", None),
        ("cc-by-nc-sa-4.0", "no", None),
        ("apache-2.0", "yes", None),
    ],
)
def test_commercial_terms_and_user_thresholds(
    key: str, commercial_use: str, user_threshold: int | None
) -> None:
    entry = _by_key()[key]
    assert entry.commercial_use == commercial_use
    assert entry.user_threshold == user_threshold


@pytest.mark.parametrize(
    ("key", "copyleft"),
    [
        ("apache-2.0", "none"),
        ("mit", "none"),
        ("cc-by-sa-4.0", "strong"),
        ("cc-by-nc-sa-4.0", "strong"),
        ("gpl-3.0", "strong"),
        ("agpl-3.0", "network"),
        ("gemma", "none"),
        ("llama3.1", "none"),
    ],
)
def test_copyleft_kinds(key: str, copyleft: str) -> None:
    assert _by_key()[key].copyleft == copyleft


def test_use_restrictions_are_recorded_for_rail_llama_and_gemma() -> None:
    restricted = {key for key, entry in _by_key().items() if entry.use_restrictions}
    for key in ["openrail", "bigscience-openrail-m", "creativeml-openrail-m", "gemma", "llama3.1"]:
        assert key in restricted
    for key in ["apache-2.0", "mit", "bsd-3-clause", "cc-by-4.0", "gpl-3.0", "cc-by-nc-4.0"]:
        assert key not in restricted


def test_no_spelling_names_two_licenses() -> None:
    seen: dict[str, str] = {}
    for entry in knowledge_base().values():
        for spelling in entry.spellings():
            key = _url_key(spelling) if spelling.startswith("https://") else _text_key(spelling)
            assert seen.setdefault(key, entry.id) == entry.id, (spelling, seen[key], entry.id)


def test_aliases_are_lower_case_and_urls_are_https() -> None:
    for entry in knowledge_base().values():
        for alias in entry.aliases:
            assert alias == alias.lower()
            assert not alias.startswith("http://")


def test_knowledge_base_hands_out_a_copy() -> None:
    first = knowledge_base()
    first.clear()
    assert UNKNOWN_ID in knowledge_base()


def test_entries_are_frozen() -> None:
    entry = knowledge_base()["MIT"]
    with pytest.raises(ValidationError):
        entry.commercial_use = "no"  # type: ignore[misc]


def test_a_colliding_alias_is_refused() -> None:
    fields = _raw_entries()
    fields["mit"] = {**fields["mit"], "aliases": ["apache 2"]}
    entries = parse_knowledge_base({"licenses": fields})
    with pytest.raises(ValueError, match="also matches"):
        build_indexes(entries.values())


def test_a_duplicated_id_is_refused() -> None:
    fields = _raw_entries()
    fields["mit-again"] = fields["mit"]
    with pytest.raises(ValueError, match="id MIT is used by two entries"):
        parse_knowledge_base({"licenses": fields})


def test_a_knowledge_base_without_the_unknown_entry_is_refused() -> None:
    fields = _raw_entries()
    del fields["unknown"]
    with pytest.raises(ValueError, match="LicenseRef-unknown entry is missing"):
        parse_knowledge_base({"licenses": fields})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"commercial_use": True}, "commercial_use"),
        ({"aliases": ["Apache 2"]}, "lower case"),
        ({"source": "http://www.apache.org/licenses/LICENSE-2.0"}, "source"),
        ({"user_threshold": 0}, "user_threshold"),
        ({"copyleft": "viral"}, "copyleft"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_field_is_refused_with_the_entry_named(
    change: dict[str, object], message: str
) -> None:
    fields = _raw_entries()
    fields["apache-2.0"] = {**fields["apache-2.0"], **change}
    with pytest.raises(ValueError, match=message) as info:
        parse_knowledge_base({"licenses": fields})
    assert "apache-2.0" in str(info.value)


# --- Normalization --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "license_id"),
    [
        ("apache-2.0", "Apache-2.0"),
        ("Apache 2.0", "Apache-2.0"),
        ("Apache License 2.0", "Apache-2.0"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("  APACHE-2.0  ", "Apache-2.0"),
        ("https://www.apache.org/licenses/LICENSE-2.0", "Apache-2.0"),
        ("http://apache.org/licenses/LICENSE-2.0.txt", "Apache-2.0"),
        ("https://www.apache.org/licenses/LICENSE-2.0.html#license", "Apache-2.0"),
        ("MIT", "MIT"),
        ("mit", "MIT"),
        ("The MIT License", "MIT"),
        ("BSD 3-Clause", "BSD-3-Clause"),
        ("CC BY-NC 4.0", "CC-BY-NC-4.0"),
        ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
        ("https://creativecommons.org/licenses/by-nc/4.0/legalcode", "CC-BY-NC-4.0"),
        ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
        ("Creative Commons Attribution-ShareAlike 4.0 International", "CC-BY-SA-4.0"),
        ("GPLv3", "GPL-3.0-only"),
        ("gpl-3.0", "GPL-3.0-only"),
        ("GNU Affero General Public License v3.0", "AGPL-3.0-only"),
        ("llama3.1", "LicenseRef-Llama-3.1-Community"),
        ("llama-3.1", "LicenseRef-Llama-3.1-Community"),
        ("LLAMA 3.1 COMMUNITY LICENSE", "LicenseRef-Llama-3.1-Community"),
        ("Llama 3.1 Community License Agreement", "LicenseRef-Llama-3.1-Community"),
        ("https://www.llama.com/llama3_1/license/", "LicenseRef-Llama-3.1-Community"),
        ("llama3", "LicenseRef-Llama-3-Community"),
        ("Meta Llama 3 Community License Agreement", "LicenseRef-Llama-3-Community"),
        ("llama2", "LicenseRef-Llama-2-Community"),
        ("llama3.2", "LicenseRef-Llama-3.2-Community"),
        ("Llama-3.3", "LicenseRef-Llama-3.3-Community"),
        ("gemma", "LicenseRef-Gemma-Terms-of-Use"),
        ("Gemma Terms of Use", "LicenseRef-Gemma-Terms-of-Use"),
        ("https://ai.google.dev/gemma/terms", "LicenseRef-Gemma-Terms-of-Use"),
        ("openrail", "LicenseRef-OpenRAIL"),
        ("openrail++", "LicenseRef-CreativeML-OpenRAIL-PlusPlus-M"),
        ("bigscience-openrail-m", "LicenseRef-BigScience-OpenRAIL-M"),
        ("creativeml-openrail-m", "LicenseRef-CreativeML-OpenRAIL-M"),
        ("CreativeML Open RAIL-M", "LicenseRef-CreativeML-OpenRAIL-M"),
        ("qwen", "LicenseRef-Tongyi-Qianwen"),
        ("tongyi-qianwen", "LicenseRef-Tongyi-Qianwen"),
        ("Tongyi Qianwen LICENSE AGREEMENT", "LicenseRef-Tongyi-Qianwen"),
        ("qwen-research", "LicenseRef-Qwen-Research"),
        ("Qwen RESEARCH LICENSE AGREEMENT", "LicenseRef-Qwen-Research"),
    ],
)
def test_messy_strings_resolve(raw: str, license_id: str) -> None:
    assert normalize_license(raw) == license_id


@pytest.mark.parametrize(
    "raw",
    [None, "", "   ", "other", "Other", "unknown", "UNKNOWN", "None", "null", "n/a", "NOASSERTION"],
)
def test_absent_and_placeholder_licenses_are_unknown(raw: str | None) -> None:
    assert normalize_license(raw) == UNKNOWN_ID


@pytest.mark.parametrize(
    "raw",
    [
        "apache",  # no version: not assumed to be 2.0
        "gpl",
        "bsd",
        "GPL-3.0-or-later",  # not the -only license the hub tag maps to
        "GPL-3.0+",
        "MIT OR Apache-2.0",  # expressions are left to a person
        "my-company-proprietary",
        "https://www.apache.org/licenses/LICENSE-2.01",  # prefix only up to a path break
        "https://ai.google.dev/gemma/apache_2",
        "https://example.com/LICENSE",
    ],
)
def test_unmatched_strings_are_unknown(raw: str) -> None:
    assert normalize_license(raw) == UNKNOWN_ID


def test_every_id_key_and_url_normalizes_to_itself() -> None:
    for entry in knowledge_base().values():
        assert normalize_license(entry.id) == entry.id
        assert normalize_license(entry.key) == entry.id
        if entry.url:
            assert normalize_license(entry.url) == entry.id


def test_openrail_plus_plus_is_not_generic_openrail() -> None:
    assert normalize_license("openrail++") != normalize_license("openrail")


# --- Policy ---------------------------------------------------------------------------------------

A, R, F = "allowed", "review", "forbidden"

# Every entry's verdict for (commercial, research, internal): the policy, spelled out.
VERDICTS = {
    "apache-2.0": (A, A, A),
    "mit": (A, A, A),
    "bsd-2-clause": (A, A, A),
    "bsd-3-clause": (A, A, A),
    "cc0-1.0": (A, A, A),
    "cc-by-4.0": (A, A, A),
    "lgpl-3.0": (A, A, A),
    "mpl-2.0": (A, A, A),
    "cc-by-sa-4.0": (R, A, A),
    "gpl-3.0": (R, A, A),
    "agpl-3.0": (R, A, R),
    "cc-by-nc-4.0": (F, A, R),
    "cc-by-nc-sa-4.0": (F, A, R),
    "qwen-research": (F, A, R),
    "openrail": (R, A, A),
    "bigscience-openrail-m": (R, A, A),
    "bigcode-openrail-m": (R, A, A),
    "creativeml-openrail-m": (R, A, A),
    "openrail++": (R, A, A),
    "gemma": (R, A, A),
    "llama2": (R, A, R),
    "llama3": (R, A, R),
    "llama3.1": (R, A, R),
    "llama3.2": (R, A, R),
    "llama3.3": (R, A, R),
    "qwen": (R, A, R),
    "unknown": (R, R, R),
}


def test_the_verdict_table_covers_the_whole_knowledge_base() -> None:
    assert set(VERDICTS) == set(_by_key())


@pytest.mark.parametrize(("key", "expected"), sorted(VERDICTS.items()))
def test_verdicts(key: str, expected: tuple[str, str, str]) -> None:
    got = tuple(assess_license(key, use).verdict for use in USES)
    assert got == expected


@pytest.mark.parametrize("raw", [None, "", "other", "unknown", "None", "some-custom-license"])
@pytest.mark.parametrize("use", USES)
def test_unknown_is_always_review(raw: str | None, use: IntendedUse) -> None:
    assessment = assess_license(raw, use)
    assert assessment.verdict == "review"
    assert assessment.known is False
    assert assessment.id == UNKNOWN_ID
    assert assessment.raw == raw
    assert len(assessment.reasons) == 1


def test_unknown_reasons_tell_absent_placeholder_and_unrecognised_apart() -> None:
    assert assess_license(None, "research").reasons == [
        "No license was declared; without one no rights can be assumed, "
        "so get the terms from the publisher."
    ]
    assert assess_license("other", "research").reasons == [
        "The license is given as 'other', which names no license; find the actual terms "
        "(license_name, license_link or the LICENSE file)."
    ]
    assert assess_license("ACME Model License v2", "research").reasons == [
        "The license 'ACME Model License v2' is not in the knowledge base; read its terms."
    ]


def test_a_long_unrecognised_string_is_shortened_in_the_reason_but_kept_in_raw() -> None:
    raw = "x" * 500
    assessment = assess_license(raw, "commercial")
    assert assessment.raw == raw
    assert "x" * 79 + "…" in assessment.reasons[0]
    assert "x" * 80 not in assessment.reasons[0]


@pytest.mark.parametrize("use", USES)
def test_apache_is_allowed_for_every_use(use: IntendedUse) -> None:
    assessment = assess_license("Apache 2.0", use)
    assert assessment.verdict == "allowed"
    assert assessment.known is True
    assert assessment.id == "Apache-2.0"
    assert assessment.name == "Apache License 2.0"
    assert assessment.reasons == [
        f"Apache License 2.0 permits {use} use.",
        "Apache License 2.0 requires keeping its license text and attribution notices with any "
        "copy.",
    ]


def test_cc_by_nc_is_forbidden_for_commercial_and_allowed_for_research() -> None:
    commercial = assess_license("cc-by-nc-4.0", "commercial")
    assert commercial.verdict == "forbidden"
    assert commercial.reasons[0] == (
        "Creative Commons Attribution-NonCommercial 4.0 International does not permit commercial "
        "use."
    )
    assert assess_license("cc-by-nc-4.0", "research").verdict == "allowed"
    internal = assess_license("cc-by-nc-4.0", "internal")
    assert internal.verdict == "review"
    assert "use inside a company may count as commercial" in internal.reasons[0]


def test_llama_3_1_commercial_is_review_because_of_the_user_threshold() -> None:
    assessment = assess_license("LLAMA 3.1 COMMUNITY LICENSE", "commercial")
    assert assessment.verdict == "review"
    assert assessment.user_threshold == 700_000_000
    assert assessment.reasons[0] == (
        "Llama 3.1 Community License Agreement requires a separate license from the licensor "
        "above 700 million monthly active users; confirm the organisation is below it (the "
        "license says how users are counted)."
    )
    assert any("use restrictions" in reason for reason in assessment.reasons)


def test_qwen_commercial_names_its_100_million_user_threshold() -> None:
    assessment = assess_license("tongyi-qianwen", "commercial")
    assert assessment.verdict == "review"
    assert "above 100 million monthly active users" in assessment.reasons[0]


def test_gemma_commercial_is_review_because_of_use_restrictions() -> None:
    assessment = assess_license("gemma", "commercial")
    assert assessment.verdict == "review"
    assert assessment.use_restrictions is True
    assert assessment.reasons[0] == (
        "Gemma Terms of Use has use restrictions (an acceptable-use policy) that bind every use "
        "and must be passed on with the model or a derivative; check the product against them."
    )
    research = assess_license("gemma", "research")
    assert research.verdict == "allowed"
    restrictions = "Gemma Terms of Use's use restrictions apply to this use too and pass on"
    assert f"{restrictions} with any copy." in research.reasons


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            "gpl-3.0",
            "GNU General Public License v3.0 only: distributing the model or a derivative "
            "requires releasing it under the same terms.",
        ),
        (
            "agpl-3.0",
            "GNU Affero General Public License v3.0 only: letting people use a modified version "
            "over a network, or distributing it, requires offering them its source under the same "
            "terms.",
        ),
    ],
)
def test_gpl_and_agpl_commercial_are_review(raw: str, reason: str) -> None:
    assessment = assess_license(raw, "commercial")
    assert assessment.verdict == "review"
    assert assessment.reasons[0] == reason


def test_every_assessment_has_distinct_reasons() -> None:
    for key in VERDICTS:
        for use in USES:
            reasons = assess_license(key, use).reasons
            assert reasons, (key, use)
            assert len(set(reasons)) == len(reasons), (key, use)


def test_assessment_carries_the_facts() -> None:
    assessment = assess_license("agpl-3.0", "internal")
    assert assessment.model_dump() == {
        "raw": "agpl-3.0",
        "id": "AGPL-3.0-only",
        "name": "GNU Affero General Public License v3.0 only",
        "known": True,
        "verdict": "review",
        "reasons": [
            "GNU Affero General Public License v3.0 only: letting people use a modified version "
            "over a network, or distributing it, requires offering them its source under the same "
            "terms.",
            "GNU Affero General Public License v3.0 only permits internal use.",
            "GNU Affero General Public License v3.0 only requires keeping its license text and "
            "attribution notices with any copy.",
        ],
        "commercial_use": "yes",
        "attribution_required": True,
        "use_restrictions": False,
        "copyleft": "network",
        "user_threshold": None,
        "url": "https://www.gnu.org/licenses/agpl-3.0.html",
    }


def test_assessments_are_frozen() -> None:
    assessment = assess_license("mit", "commercial")
    with pytest.raises(ValidationError):
        assessment.verdict = "forbidden"  # type: ignore[misc]


def test_an_unknown_intended_use_is_refused() -> None:
    with pytest.raises(ValueError, match="intended_use"):
        assess_license("mit", "personal")  # type: ignore[arg-type]


def test_assessment_is_deterministic() -> None:
    assert assess_license("llama3.2", "internal") == assess_license("llama3.2", "internal")
