"""The names of the files an audit writes into its output folder, spelled once.

A saved folder is read back by ``auditkit report`` and ``auditkit gate`` and by anyone's tooling,
so these names are part of the interface: renaming one breaks every saved audit.
"""

from __future__ import annotations

RESULTS_FILE = "results.json"
"""The ``AuditResult``: every model × probe, the verdicts and the environment."""

SAMPLES_FILE = "samples.jsonl"
"""One line per scored item (model id, probe id, the item's record), for the sample explorer and
for re-judging without a model."""

MANIFEST_FILE = "manifest.json"
"""Hashes of the suite, data files, model files and outputs, to tell later what produced a run."""

ERROR_LOG_FILE = "errors.log"
"""The tracebacks behind the run's error rows; absent when nothing failed."""

SCORECARD_FILE = "scorecard.html"
"""The HTML scorecard report."""

SUMMARY_FILE = "summary.md"
"""The Markdown summary report."""

JUNIT_FILE = "junit.xml"
"""The gates as JUnit XML, for CI test tabs."""
