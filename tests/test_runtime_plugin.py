"""A runtime is one module: a plugin registers a build and a suite runs on it, unchanged code.

The plugin below is the whole diff a new runtime needs (plus its engine, here the mock): its
registration names the task and runtime, its suite rule and its machine check.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.models.loader import BUILDERS, builder_name

PLUGIN_NAME = "auditkit_runtime_test_plugin"
PLUGIN = '''\
"""An 'echo' runtime for causal language models, defined in one module outside auditkit."""

import time

from auditkit.engine.mock import MockModel
from auditkit.models.loaded import LoadedModel
from auditkit.models.loader import register_builder
from auditkit.results import ModelInfo


def echo_check(spec):
    return "the echo runtime runs float32 only" if spec.dtype == "bfloat16" else None


def echo_machine_check(spec, device):
    return ("runtime", "the echo runtime has no GPU build") if device.startswith("cuda") else None


@register_builder("text-generation", "echo", check=echo_check, machine_check=echo_machine_check)
def load_echo(spec, device, started):
    info = ModelInfo(
        source=spec.source,
        resolved=str(spec.parsed_source.path),
        architecture="echo",
        parameters=0,
        bytes_on_disk=0,
        dtype="float32",
        device=device,
        load_seconds=time.perf_counter() - started,
        task=spec.model_task,
        runtime=spec.runtime,
    )
    return LoadedModel(spec, MockModel(behaviour="shortest"), info)
'''

SUITE = """\
schema_version: 1
name: runtime-plugin
isolation: none
device: {device}
models:
  - id: echo
    source: hf:./model
    runtime: echo
    dtype: {dtype}
probes:
  - id: knowledge
    kind: multiple_choice
    limit: 5
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / f"{PLUGIN_NAME}.py").write_text(PLUGIN, encoding="utf-8")
    (tmp_path / "model").mkdir()
    config = {"architectures": ["LlamaForCausalLM"]}
    (tmp_path / "model" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("AUDITKIT_PLUGINS", PLUGIN_NAME)
    try:
        yield tmp_path
    finally:
        BUILDERS.pop(builder_name("text-generation", "echo"), None)
        sys.modules.pop(PLUGIN_NAME, None)


def suite(folder: Path, *, device: str = "cpu", dtype: str = "auto") -> Path:
    path = folder / "suite.yaml"
    path.write_text(SUITE.format(device=device, dtype=dtype), encoding="utf-8")
    return path


def invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stderr


def test_a_plugin_runtime_runs_a_suite(plugin: Path) -> None:
    code, err = invoke("run", suite(plugin), "--out", plugin / "out", "--no-cache")

    assert code == 0, err
    results = json.loads((plugin / "out" / "results.json").read_text("utf-8"))
    (model,) = results["models"]
    assert model["info"]["runtime"] == "echo"
    assert model["probes"][0]["status"] == "ok"


def test_a_plugin_runtime_brings_its_own_rules(plugin: Path) -> None:
    code, err = invoke("validate", suite(plugin, dtype="bfloat16"))
    assert code == 2
    assert "the echo runtime runs float32 only" in err

    code, err = invoke("validate", suite(plugin, device="cuda"))
    assert code == 2
    assert "models[0].runtime: the echo runtime has no GPU build" in err


def test_a_runtime_nobody_registered_names_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    config = {"architectures": ["LlamaForCausalLM"]}
    (tmp_path / "model" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    code, err = invoke("validate", suite(tmp_path))
    assert code == 2
    assert "no runtime 'echo' for text-generation models: use 'transformers'" in err
