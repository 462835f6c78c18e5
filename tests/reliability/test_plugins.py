"""``AUDITKIT_PLUGINS``: third-party probe kinds, imported by the command line and the workers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reliability.helpers import PLUGIN, cli_env, run_cli, write_counted_suite


def test_a_plugin_probe_kind_is_validated_and_in_the_schema(tmp_path: Path) -> None:
    suite = write_counted_suite(tmp_path, {"a": "mock:shortest"})
    env = cli_env(PLUGIN)

    schema = run_cli("schema", env=env)
    validated = run_cli("validate", suite, env=env)

    assert schema.returncode == 0, schema.stderr
    kinds = json.loads(schema.stdout)["properties"]["probes"]["items"]["discriminator"]["mapping"]
    assert "test_counted" in kinds
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout == f"{suite}: ok (1 models, 2 probes, 1 data files checked)\n"


def test_without_the_plugin_its_kind_is_unknown(tmp_path: Path) -> None:
    suite = write_counted_suite(tmp_path, {"a": "mock:shortest"})

    done = run_cli("validate", suite, env=cli_env())

    assert done.returncode == 2
    assert "probes[0].kind: unknown probe 'test_counted'" in done.stderr


def test_a_plugin_that_cannot_be_imported_is_bad_input() -> None:
    done = run_cli("schema", env=cli_env("no_such_auditkit_plugin"))

    assert done.returncode == 2
    assert done.stderr == (
        "AUDITKIT_PLUGINS: cannot import plugin module 'no_such_auditkit_plugin': "
        "ModuleNotFoundError: No module named 'no_such_auditkit_plugin' "
        "(is it installed, or on PYTHONPATH?)\n"
    )
    assert done.stdout == ""
