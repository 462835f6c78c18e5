"""The registry of pluggable kinds: its own behaviour, a probe kind and a scorer added by a plugin
module alone (validated, run and in the schema), and no import cycle between the scorer contract
and the scorers."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

import auditkit.scorers
from auditkit.cli import app
from auditkit.probes.base import PROBES
from auditkit.registry import Registry, UnknownNameError, discover
from auditkit.scorers import SCORERS, build_scorer

# --- the registry itself ---------------------------------------------------------------------


class SizeOptions(BaseModel):
    size: int = 1


def small(options: SizeOptions) -> int:
    return options.size


def big(options: SizeOptions) -> int:
    return 100 * options.size


def widgets() -> Registry[Callable[[SizeOptions], int]]:
    registry: Registry[Callable[[SizeOptions], int]] = Registry("widget")
    registry.register("small", params=SizeOptions)(small)
    registry.add("big", big)
    return registry


def test_a_registry_maps_names_to_what_they_name_with_their_parameters_model() -> None:
    registry = widgets()

    assert list(registry) == ["small", "big"]  # registration order
    assert registry["small"] is small
    assert registry.params("small") is SizeOptions
    assert registry.params("big") is None
    assert [(e.name, e.value) for e in registry.entries()] == [("small", small), ("big", big)]
    assert "big" in registry and "huge" not in registry
    assert len(registry) == 2
    assert dict(registry.items()) == {"small": small, "big": big}
    assert registry.get("huge") is None


def test_an_unknown_name_says_what_is_known_and_suggests_a_near_miss() -> None:
    registry = widgets()

    with pytest.raises(UnknownNameError) as caught:
        registry["smal"]

    assert str(caught.value) == "unknown widget 'smal' (did you mean 'small'?); known: big, small"
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
    assert registry.unknown("xyz") == "unknown widget 'xyz'; known: big, small"


def test_a_name_is_registered_once() -> None:
    registry = widgets()

    registry.add("small", small, params=SizeOptions)  # the same again (a module imported twice)
    with pytest.raises(TypeError, match="widget 'small' is registered twice"):
        registry.add("small", big)
    assert registry["small"] is small


def test_removing_a_name_and_listening_for_changes() -> None:
    registry = widgets()
    changes: list[list[str]] = []
    registry.on_change(lambda: changes.append(list(registry)))

    assert registry.pop("big") is big
    assert registry.pop("big", None) is None
    registry.add("big", big)

    assert changes == [["small"], ["small", "big"]]


def test_a_home_package_is_discovered_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "auditkit_registry_test_home"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from auditkit.registry import Registry\n\nTHINGS = Registry('thing', home=__name__)\n"
    )
    for module in ("beta", "alpha", "_helper"):
        (package / f"{module}.py").write_text(
            f"from {package.name} import THINGS\n\nTHINGS.add({module!r}, {module!r})\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        home = __import__(package.name)
        assert f"{package.name}.alpha" not in sys.modules  # nothing imported before a lookup

        assert list(home.THINGS) == ["alpha", "beta"]  # in module name order; _helper is private
        assert f"{package.name}._helper" not in sys.modules
        assert discover(package.name) == [f"{package.name}.alpha", f"{package.name}.beta"]
    finally:
        for name in [n for n in sys.modules if n.startswith(package.name)]:
            del sys.modules[name]


# --- a plugin module adds a probe kind and a scorer --------------------------------------------

PLUGIN_NAME = "auditkit_registry_test_plugin"
PLUGIN = '''\
"""A probe kind and a scorer, defined in one module outside auditkit."""

from typing import Literal

from pydantic import Field

from auditkit.engine.base import LoglikelihoodRequest
from auditkit.probes.base import Probe, ProbeContext, ProbeOutput, ProbeSpec, Sample, register_probe
from auditkit.results import Metric
from auditkit.scorers import Scorer, ScorerField, ScorerSpec, build_scorer, register_scorer


class WordLengthSpec(ScorerSpec):
    scale: int = Field(10, ge=1, description="Length that scores 1.0.")


@register_scorer("test-word-length", params=WordLengthSpec)
class WordLength(Scorer):
    """min(1, characters / scale)."""

    name = "test-word-length"
    version = "1"

    def __init__(self, spec: WordLengthSpec) -> None:
        self.scale = spec.scale

    def score(self, texts):
        return [min(1.0, len(text) / self.scale) for text in texts]


class PickSpec(ProbeSpec):
    kind: Literal["test_pick"]
    words: list[str] = Field(min_length=1, description="Candidate continuations of 'Say:'.")
    scorer: ScorerField = Field("test-word-length", validate_default=True)


@register_probe
class Pick(Probe[PickSpec]):
    """``picked_score``: the scorer's score of the word the model finds likeliest."""

    Spec = PickSpec  # the kind is declared once, in the spec

    def known_metrics(self):
        return {"picked_score": False}

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        words = self.spec.words
        scores = ctx.model.loglikelihood([LoglikelihoodRequest("Say:", " " + w) for w in words])
        picked = max(zip(words, scores), key=lambda pair: pair[1].logprob)[0]
        value = build_scorer(self.spec.scorer).score([picked])[0]
        metric = Metric(name="picked_score", value=value, n=1, direction="none")
        sample = Sample("say", "Say:", picked, "", {"picked_score": value})
        return ProbeOutput([metric], [sample])
'''

SUITE = """\
schema_version: 1
name: plugin-demo
isolation: none
models:
  - id: a
    source: mock:shortest
probes:
  - id: pick
    kind: {kind}
    words: [banana, fig, cherry]
    scorer: {{name: test-word-length, scale: 4}}
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The plugin module on ``sys.path`` and in ``AUDITKIT_PLUGINS``; everything it registered is
    removed afterwards (later tests see the built-in kinds only)."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / f"{PLUGIN_NAME}.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("AUDITKIT_PLUGINS", PLUGIN_NAME)
    try:
        yield tmp_path
    finally:
        PROBES.pop("test_pick", None)
        SCORERS.pop("test-word-length", None)
        build_scorer.cache_clear()
        sys.modules.pop(PLUGIN_NAME, None)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def write_suite(folder: Path, kind: str = "test_pick") -> Path:
    path = folder / "suite.yaml"
    path.write_text(SUITE.format(kind=kind), encoding="utf-8")
    return path


def test_a_plugin_probe_and_scorer_are_in_the_schema(plugin: Path) -> None:
    code, out, err = invoke("schema")

    assert code == 0, err
    schema = json.loads(out)
    mapping = schema["properties"]["probes"]["items"]["discriminator"]["mapping"]
    assert "test_pick" in mapping
    pick = schema["$defs"][mapping["test_pick"].rsplit("/", 1)[-1]]
    names, *options = pick["properties"]["scorer"]["anyOf"]
    assert "test-word-length" in names["enum"] and "profanity-check" in names["enum"]
    (word_length,) = [o for o in options if o["properties"]["name"]["enum"] == ["test-word-length"]]
    assert set(word_length["properties"]) == {"name", "scale"}


def test_a_plugin_probe_is_validated_and_runs(plugin: Path) -> None:
    suite = write_suite(plugin)

    validated = invoke("validate", suite)
    code, _, err = invoke("run", suite, "--out", plugin / "out", "--no-cache")

    assert validated[:2] == (0, f"{suite}: ok (1 models, 1 probes, 0 data files checked)\n")
    assert code == 0, err
    results = json.loads((plugin / "out" / "results.json").read_text("utf-8"))
    ((probe,),) = [model["probes"] for model in results["models"]]
    # mock:shortest finds "fig" likeliest: 3 characters over a scale of 4
    assert [(m["name"], m["value"]) for m in probe["metrics"]] == [("picked_score", 0.75)]
    (declared,) = results["probes"]
    assert declared["params"]["scorer"] == {"name": "test-word-length", "scale": 4}


def test_a_mistyped_plugin_kind_gets_a_suggestion(plugin: Path) -> None:
    suite = write_suite(plugin, kind="test_pik")

    code, _, err = invoke("validate", suite)

    assert code == 2
    assert "probes[0].kind: unknown probe 'test_pik' (did you mean 'test_pick'?)" in err


# --- no import cycle between the scorer contract and the scorers -------------------------------

SCORER_MODULES = sorted(
    f"auditkit.scorers.{m.name}" for m in pkgutil.iter_modules(auditkit.scorers.__path__)
)


def fresh_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_scorer_contract_imports_no_scorer() -> None:
    loaded = fresh_python(
        "import sys, auditkit.scorers\n"
        "print(sorted(m for m in sys.modules if m.startswith('auditkit.scorers.')))"
    )

    assert loaded.strip() == "['auditkit.scorers._base']"


@pytest.mark.parametrize("module", SCORER_MODULES)
def test_each_scorer_module_imports_first_in_a_fresh_process(module: str) -> None:
    """Whichever module is imported first, every scorer is found and builds."""
    built = fresh_python(
        textwrap.dedent(f"""\
            import {module}
            from auditkit.scorers import SCORERS, ScorerSpec, build_scorer
            print(len(SCORERS), build_scorer(ScorerSpec(name="sentiment-lexicon")).name)
            """)
    )

    assert built.split() == [str(len(SCORERS)), "sentiment-lexicon"]
