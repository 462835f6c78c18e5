"""The result cache: what it stores, what its keys depend on, and how runs use it."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditkit.cache import CACHE_DIR_NAME, CACHE_FILE, CacheError, ResultCache, default_cache_dir
from auditkit.cache_keys import fingerprint, probe_key
from auditkit.cli import app
from auditkit.probes.base import probe_for
from auditkit.progress import LogProgress
from auditkit.results import AuditResult
from auditkit.runner import AuditRun
from auditkit.suite import Suite, load_suite
from tests.helpers_suites import MOCK_MODELS, write_run_suite
from tests.reliability.helpers import comparable


def run(suite: Suite, out: Path, cache: ResultCache | None) -> tuple[AuditResult, str]:
    log = io.StringIO()
    result = AuditRun(suite, out, LogProgress(stream=log), cache=cache).execute()
    return result, log.getvalue()


def test_store_and_read_back(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c") as cache:
        assert cache.get_result("k") is None
        value = {"metrics": [{"value": float("nan")}], "samples": [{"é": [1, 2]}], "seconds": 1.5}
        cache.put_result(
            "k",
            model_key="model",
            model_label="mock:shortest",
            probe_kind="multiple_choice",
            value=value,
        )
        cache.put_info("i", "model", {"source": "mock:shortest"})
        stored = cache.get_result("k")
        assert stored is not None
        assert stored["samples"] == [{"é": [1, 2]}]
        assert cache.get_info("i") == {"source": "mock:shortest"}
        stats = cache.stats()
    assert (stats.probe_results, stats.model_infos) == (1, 1)
    assert [(m.label, m.probes) for m in stats.models] == [("mock:shortest", 1)]
    db = sqlite3.connect(tmp_path / "c" / CACHE_FILE)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_damaged_entry_is_a_miss_and_a_newer_cache_is_refused(tmp_path: Path) -> None:
    with ResultCache(tmp_path) as cache:
        cache.put_result(
            "k", model_key="m", model_label="label", probe_kind="kind", value={"seconds": 1}
        )
    db = sqlite3.connect(tmp_path / CACHE_FILE)
    db.execute("UPDATE probe_results SET payload = x'00ff'")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(CacheError, match="newer auditkit"):
        ResultCache(tmp_path)
    db = sqlite3.connect(tmp_path / CACHE_FILE)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with ResultCache(tmp_path) as cache:
        assert cache.get_result("k") is None


def test_the_default_folder_is_beside_the_output(tmp_path: Path) -> None:
    assert default_cache_dir(tmp_path / "reports" / "demo") == tmp_path / "reports" / CACHE_DIR_NAME


def test_a_second_run_takes_everything_from_the_cache_without_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = load_suite(write_run_suite(tmp_path / "suite", MOCK_MODELS))
    with ResultCache(tmp_path / "cache") as cache:
        first, _ = run(suite, tmp_path / "first", cache)

        import auditkit.runner

        def no_loading(*args: Any) -> Any:
            raise AssertionError("a model was loaded although every result was cached")

        monkeypatch.setattr(auditkit.runner, "load_model", no_loading)
        second, log = run(suite, tmp_path / "second", cache)

    assert comparable(first.model_dump(mode="json")) == comparable(second.model_dump(mode="json"))
    assert [p.cached for m in first.models for p in m.probes] == [False, False]
    assert [p.cached for m in second.models for p in m.probes] == [True, True]
    # A cached probe keeps the time its computation took.
    assert [p.seconds for m in first.models for p in m.probes] == [
        p.seconds for m in second.models for p in m.probes
    ]
    assert (tmp_path / "first" / "samples.jsonl").read_bytes() == (
        tmp_path / "second" / "samples.jsonl"
    ).read_bytes()
    assert "[1/2] short: every probe cached, model not loaded" in log
    assert "short × mc: accuracy=50.0%, accuracy_norm=75.0%, brier=" in log


def test_errors_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditkit.probes.multiple_choice import MultipleChoice

    suite = load_suite(write_run_suite(tmp_path / "suite", MOCK_MODELS))

    def broken(self: Any, ctx: Any) -> Any:
        raise RuntimeError("transient")

    with ResultCache(tmp_path / "cache") as cache:
        with monkeypatch.context() as patch:
            patch.setattr(MultipleChoice, "run", broken)
            run(suite, tmp_path / "first", cache)
        assert cache.stats().probe_results == 0
        second, _ = run(suite, tmp_path / "second", cache)
    assert [p.status for m in second.models for p in m.probes] == ["ok", "ok"]


def keys(suite_path: Path) -> tuple[str | None, str]:
    suite = load_suite(suite_path)
    return fingerprint(suite.models[0]).key, probe_key(probe_for(suite.probes[0]), suite.seed)


def test_keys_follow_content_not_names(tmp_path: Path) -> None:
    base = write_run_suite(tmp_path / "a", MOCK_MODELS)
    model, probe = keys(base)

    renamed = (
        base.read_text("utf-8").replace("id: mc", "id: knowledge").replace("id: short", "id: s")
    )
    renamed += "    gates: [{metric: accuracy, min: 0.1}]\n"
    moved = tmp_path / "elsewhere" / "b"
    shutil.copytree(base.parent, moved)
    (moved / "suite.yaml").write_text(renamed + "isolation: none\n", "utf-8")
    assert keys(moved / "suite.yaml") == (model, probe)

    data = moved / "items.jsonl"
    data.write_text(data.read_text("utf-8").replace('"one"', '"uno"'), "utf-8")
    assert keys(moved / "suite.yaml") == (model, keys(moved / "suite.yaml")[1])
    assert keys(moved / "suite.yaml")[1] != probe

    seeded = base.read_text("utf-8").replace("seed: 7", "seed: 8")
    base.write_text(seeded, "utf-8")
    assert keys(base)[1] != probe
    limited = write_run_suite(tmp_path / "c", MOCK_MODELS, limit=2)
    assert keys(limited)[1] != probe


def test_model_keys_hash_the_weights_and_the_variant_not_the_device(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    def model_key(folder: Path, extra: str = "", device: str = "cpu") -> str | None:
        text = (
            f"schema_version: 1\nname: k\ndevice: {device}\n"
            f"models:\n  - id: m\n    source: hf:{folder}\n{extra}"
            "probes:\n  - {id: mc, kind: multiple_choice}\n"
        )
        path = tmp_path / "suite.yaml"
        path.write_text(text, "utf-8")
        return fingerprint(load_suite(path).models[0]).key

    original = model_key(tiny_llama_dir)
    assert original is not None
    copy = Path(shutil.copytree(tiny_llama_dir, tmp_path / "copy"))
    assert model_key(copy) == original
    assert model_key(copy, device="cuda") == original
    assert model_key(copy, "    device_map: auto\n") == original
    assert model_key(copy, "    license: mit\n") == original
    assert model_key(copy, "    dtype: bfloat16\n") != original
    assert model_key(copy, "    quantization: int8-dynamic\n") != original
    (copy / "pytorch_model.bin").write_bytes(b"ignored unless pickles are allowed")
    assert model_key(copy) == original
    assert model_key(copy, "    allow_pickle: true\n") != original
    config = json.loads((copy / "config.json").read_text("utf-8"))
    config["rms_norm_eps"] = 1e-3
    (copy / "config.json").write_text(json.dumps(config), "utf-8")
    assert model_key(copy) != original


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cache_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite_path = write_run_suite(tmp_path / "suite", MOCK_MODELS)
    out = tmp_path / "reports" / "run"
    monkeypatch.chdir(tmp_path)

    assert (
        invoke("cache", "info").stdout == f"no cache in {tmp_path / 'reports' / CACHE_DIR_NAME}\n"
    )
    text = suite_path.read_text("utf-8") + "isolation: none\n"
    suite_path.write_text(text, "utf-8")
    assert invoke("run", suite_path, "--out", out).exit_code == 0

    info = invoke("cache", "info")
    assert info.exit_code == 0, info.output
    lines = info.stdout.splitlines()
    assert lines[0].startswith(f"cache: {tmp_path / 'reports' / CACHE_DIR_NAME / CACHE_FILE} (")
    assert lines[1:3] == ["2 probe results, 2 model infos", "by model:"]
    assert lines[3].startswith("  mock:longest [")
    assert lines[3].endswith("]: 1 probe results, " + lines[3].rsplit(", ", 1)[1])
    assert invoke("cache", "info", "--cache-dir", tmp_path / "reports" / CACHE_DIR_NAME).stdout == (
        info.stdout
    )

    cleared = invoke("cache", "clear")
    assert (
        cleared.stdout == f"removed 2 probe results from {tmp_path / 'reports' / CACHE_DIR_NAME}\n"
    )
    assert invoke("cache", "info").stdout.splitlines()[1] == "0 probe results, 0 model infos"

    rerun = invoke("run", suite_path, "--out", out, "--no-cache")
    assert rerun.exit_code == 0
    assert "0 probe results" in invoke("cache", "info").stdout


def test_an_unusable_cache_folder_is_bad_input(tmp_path: Path) -> None:
    suite_path = write_run_suite(tmp_path / "suite", MOCK_MODELS)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", "utf-8")

    result = invoke("run", suite_path, "--out", tmp_path / "out", "--cache-dir", blocker)

    assert result.exit_code == 2
    assert "pass --no-cache, or another --cache-dir" in result.output
    assert "Traceback" not in result.output
