"""The package's layers: no module imports a layer above its own (docs/architecture.md).

Each auditkit module belongs to a layer; an import (at any depth in the module, lazy ones
included) may reach its own layer or one below. A test, so that the picture in the docs stays
true as the code grows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import auditkit

LAYERS: tuple[tuple[str, ...], ...] = (
    # 0: shared vocabulary, no model and no run
    (
        "errors",
        "files",
        "jsonl",
        "yaml_positions",
        "stats",
        "registry",
        "outputs",
        "library_logs",
        "results",
        "samples_schema",
        "metric_format",
        "environment",
        "progress",
        "gates",
        "licenses",
        "verdicts",
        "ci_annotations",
        "tasks",
        "data",  # shipped data and the scripts that made it: they import nothing of auditkit
        "auditkit",  # the package itself: its version
    ),
    ("engine",),  # 1: the model interface and its runtimes
    ("models",),  # 2: building a model variant into an engine
    ("scorers", "judges"),  # 3: turning replies into scores and verdicts
    ("probes",),  # 4: what to ask a model, and the metrics of its answers
    ("suite", "executors.settings", "plugins", "cache_keys", "cache"),  # 5: the audit's plan
    ("worker",),  # 6: one model in one process
    ("executors", "run", "runner"),  # 7: every model, and the written audit
    ("report",),  # 8: rendering saved results
    ("cli", "__main__"),  # 9: the command line
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
PACKAGE = Path(auditkit.__file__).parent


def unit_of(module: str) -> str:
    """``auditkit.engine.hf`` → ``engine``; ``auditkit.executors.settings`` keeps its module."""
    parts = module.split(".")
    if len(parts) == 1:
        return "auditkit"
    if ".".join(parts[1:3]) in RANK:
        return ".".join(parts[1:3])
    return parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "auditkit" or name.startswith("auditkit.")}


def test_every_module_has_a_layer() -> None:
    units = {unit_of(module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert units <= set(RANK), sorted(units - set(RANK))


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(module_name(path))
        for target in imports_of(path):
            if RANK[unit_of(target)] > RANK[source]:
                upward.append(f"{module_name(path)} imports {target}")
    assert not upward, "\n".join(upward)
