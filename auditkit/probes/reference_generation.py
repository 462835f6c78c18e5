"""``generation``: generate a reply to each prompt and score it against reference outputs.

For tasks with known good outputs (short answers, summaries, translations): each prompt is
answered greedily through ``LanguageModel.generate`` and the reply is compared with the item's
references by the metrics the suite names: two built-ins that need nothing from outside
(``exact_match`` and ``token_f1``, the answer matching of ``auditkit.scorers.answers``) and any
Hugging Face ``evaluate`` metric, from evaluate's cache or the hub (``evaluate:NAME``) or from a
local module beside the suite (``./metrics/my_metric``), which works offline.

How the suite's ``metrics`` entries are read and the evaluate ones loaded and computed:
``auditkit.probes._reference_metrics``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from auditkit.engine.base import GenerationRequest, LanguageModel
from auditkit.errors import UserError
from auditkit.files import read_user_text
from auditkit.jsonl import MAX_REPORTED, read_jsonl
from auditkit.probes._rates import mean, proportion
from auditkit.probes._reference_metrics import (
    BUILTIN_METRICS,
    MetricSource,
    Scores,
    evaluate_metrics,
    loaded_modules,
    metric_source,
)
from auditkit.probes.base import ProbeContext, ProbeOutput, Sample, SuitePath, register_probe
from auditkit.probes.dataset import DatasetProbe, DatasetSpec
from auditkit.results import Direction, Metric
from auditkit.scorers.answers import any_exact_match, best_token_f1

BUILTIN_DATA = "data/generation/instructions.jsonl"


class GenerationItem(BaseModel):
    """One prompt and its references: ``reference`` is one text, or (JSONL) a list of them."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    prompt: str = Field(min_length=1)
    reference: str | list[str]

    @field_validator("reference")
    @classmethod
    def _some_text(cls, reference: str | list[str]) -> str | list[str]:
        texts = [reference] if isinstance(reference, str) else reference
        if not texts or any(not text.strip() for text in texts):
            raise ValueError("every reference must be a non-empty text")
        return reference

    @property
    def references(self) -> list[str]:
        return [self.reference] if isinstance(self.reference, str) else list(self.reference)


class GenerationSpec(DatasetSpec):
    kind: Literal["generation"]
    data: SuitePath | None = Field(
        None,
        description="JSONL or CSV (by extension) with `prompt` and `reference` (in JSONL also a "
        "list of references), optional `id`. Default: auditkit's 30 short instructions.",
    )
    metrics: list[str] = Field(
        default_factory=lambda: list(BUILTIN_METRICS),
        min_length=1,
        description="exact_match, token_f1, evaluate:NAME (from evaluate's cache or the hub), or "
        "a local evaluate module: its .py file or folder, relative to the suite file.",
    )
    directions: dict[str, Direction] = Field(
        default_factory=dict,
        description="Whether higher or lower is better for an evaluate metric, by its name, "
        "e.g. {wer: lower, word_overlap: higher}; default none (descriptive).",
    )
    max_new_tokens: int = Field(64, ge=1, le=4096)
    chat: bool = Field(True, description="Wrap each prompt in the model's chat template.")
    stop: list[str] = Field(
        default_factory=list, description="Generation ends at the first of these strings."
    )
    limit: int | None = Field(None, ge=1, description="Use only the first N items.")

    @field_validator("metrics")
    @classmethod
    def _read_metrics(cls, entries: list[str], info: ValidationInfo) -> list[str]:
        """Every entry of a known form, each name once; a local path is made absolute (relative
        to the suite file, as ``data`` is)."""
        base_dir = Path((info.context or {}).get("base_dir", "."))
        sources = [metric_source(entry) for entry in entries]
        names = [source.name for source in sources]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"two metrics are named {', '.join(map(repr, twice))}")
        return [
            str(base_dir / Path(s.entry).expanduser()) if s.kind == "local" else s.entry
            for s in sources
        ]

    @model_validator(mode="after")
    def _directions_of_evaluate_metrics(self) -> GenerationSpec:
        external = {metric_source(e).name for e in self.metrics} - set(BUILTIN_METRICS)
        unknown = sorted(set(self.directions) - external)
        if unknown:
            raise ValueError(f"directions: no evaluate metric is named {', '.join(unknown)}")
        return self


@register_probe
class ReferenceGeneration(DatasetProbe[GenerationSpec, GenerationItem]):
    """Greedy replies scored against reference outputs.

    Each prompt (in the model's chat template when ``chat``) is answered greedily with at most
    ``max_new_tokens`` tokens, cut at the first ``stop`` string. Item i has references
    r_i1..r_iK and reply y_i.

    - ``exact_match`` = share of items where normalise(y_i) = normalise(r_ik) for some k, with the
      answer normalisation of ``auditkit.scorers.answers`` (case, accents, punctuation and
      articles dropped, number words as digits, unit spellings unified; ``normalize_answer``).
      Higher is better; [0, 1]; 95% Wilson interval; per-item score ``exact_match`` (0 or 1).
    - ``token_f1`` = mean over items of max_k F1(y_i, r_ik): SQuAD's bag-of-tokens F1 of the
      normalised texts (harmonic mean of token precision and recall, common tokens counted as a
      multiset; 1 when both are empty). Higher is better; [0, 1]; seeded percentile bootstrap
      over items (1000 resamples); per-item score ``token_f1``.
    - An ``evaluate`` metric M: its own ``compute`` on the replies (surrounding white space
      stripped) and the references (one text per item when every item has one, else a list per
      item). Each scalar entry k of its result is reported as ``M`` (when k is M) or ``M/k``;
      lists and other non-scalars are dropped. The value is M on all items (the corpus value).
      M on each item alone is the per-item score of the same name (for paired comparison with
      a baseline). Interval: seeded percentile bootstrap over items (1000 resamples) of the mean
      of the per-item values when the corpus value is that mean (word overlap, accuracy), else
      of the corpus value recomputed by M on each resample (corpus BLEU). Unit ``score``;
      direction as ``directions`` says (default none) for the entry named M (or every entry
      when none is), none for the other entries.
    """

    kind = "generation"
    Spec = GenerationSpec
    Item = GenerationItem
    builtin = BUILTIN_DATA

    @property
    def sources(self) -> list[MetricSource]:
        return [metric_source(entry) for entry in self.spec.metrics]

    def items(self) -> list[GenerationItem]:
        path = self.data_path
        csv_file = path.suffix.lower() == ".csv"
        items = read_csv_items(path) if csv_file else read_jsonl(path, GenerationItem)
        return items[: self.spec.limit] if self.spec.limit else items

    def check_data(self) -> None:
        self.items()
        missing = [
            f"{source.script()}: metric module not found (metric {source.name!r} of probe "
            f"{self.spec.id!r}; a folder must hold a script of its own name)"
            for source in self.sources
            if source.kind == "local" and not source.script().is_file()
        ]
        if missing:
            raise UserError(missing)

    def data_files(self) -> list[Path]:
        """The data and each local metric's script (so that editing it invalidates cached
        results); a missing script is ``check_data``'s to report."""
        scripts = [s.script() for s in self.sources if s.kind == "local" and s.script().is_file()]
        return [*super().data_files(), *scripts]

    def known_metrics(self) -> dict[str, bool] | None:
        if all(source.kind == "builtin" for source in self.sources):
            return {source.name: True for source in self.sources}
        return None  # an evaluate metric's entries are known once it has run

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        model = ctx.engine_as(LanguageModel, self.kind)
        items = self.items()
        external = [source for source in self.sources if source.kind != "builtin"]
        with loaded_modules(external) as modules:  # before generating: a missing one fails fast
            prompts = [model.format_chat(i.prompt) if self.spec.chat else i.prompt for i in items]
            stop = tuple(self.spec.stop)
            requests = [GenerationRequest(p, self.spec.max_new_tokens, stop) for p in prompts]
            ctx.set_total(len(requests))
            replies = model.generate(requests, progress=ctx.advance)
            references = [item.references for item in items]
            scores: Scores = [{} for _ in items]
            metrics = [
                builtin_metric(source.name, replies, references, scores, seed=ctx.seed)
                for source in self.sources
                if source.kind == "builtin"
            ]
            for source, module in modules:
                direction = self.spec.directions.get(source.name, "none")
                metrics += evaluate_metrics(
                    source, module, replies, references, scores, seed=ctx.seed, direction=direction
                )
        samples = [
            Sample(
                item_id=item.id or str(number),
                input=prompt,
                output=reply,
                target=item.references[0],
                scores=item_scores,
                details={"references": item.references},
            )
            for number, (item, prompt, reply, item_scores) in enumerate(
                zip(items, prompts, replies, scores, strict=True), start=1
            )
        ]
        return ProbeOutput(metrics, samples)


def builtin_metric(
    name: str, replies: Sequence[str], references: Sequence[list[str]], scores: Scores, *, seed: int
) -> Metric:
    """``exact_match`` or ``token_f1`` (see the probe's docstring); per-item values go into
    ``scores``."""
    pairs = list(zip(replies, references, strict=True))
    if name == "exact_match":
        hits = [any_exact_match(reply, refs) for reply, refs in pairs]
        for item_scores, hit in zip(scores, hits, strict=True):
            item_scores[name] = float(hit)
        description = "share of replies equal to a reference after normalisation"
        return proportion(name, hits, direction="higher", description=description, per_item=name)
    f1 = [best_token_f1(reply, refs) for reply, refs in pairs]
    for item_scores, value in zip(scores, f1, strict=True):
        item_scores[name] = value
    description = "mean over items of the best token F1 of the reply against a reference"
    return mean(
        name,
        f1,
        seed=seed,
        unit="score",
        direction="higher",
        description=description,
        per_item=name,
    )


# -- data ------------------------------------------------------------------------------------


def read_csv_items(path: Path) -> list[GenerationItem]:
    """The rows of a CSV file whose header names ``prompt`` and ``reference`` (and optionally
    ``id``), every bad row reported as ``FILE:LINE`` (the line the row ends on)."""
    reader = csv.DictReader(io.StringIO(read_user_text(path), newline=""))
    columns = reader.fieldnames or []
    if not columns:
        raise UserError(f"{path}: no items (the file is empty)")
    absent = [name for name in ("prompt", "reference") if name not in columns]
    if absent:
        raise UserError(f"{path}:1: the header has no column {' and no column '.join(absent)}")
    items: list[GenerationItem] = []
    problems: list[str] = []
    try:
        for row in reader:
            try:
                items.append(GenerationItem.model_validate({k: v for k, v in row.items() if k}))
            except ValidationError as exc:
                for error in exc.errors():
                    where = ".".join(str(part) for part in error["loc"]) or "row"
                    message = error["msg"].removeprefix("Value error, ")
                    problems.append(f"{path}:{reader.line_num}: {where}: {message}")
    except csv.Error as exc:
        problems.append(f"{path}:{reader.line_num}: not valid CSV: {exc}")
    if not items and not problems:
        problems.append(f"{path}: no items (the file has a header only)")
    if len(problems) > MAX_REPORTED:
        extra = len(problems) - MAX_REPORTED
        problems = [*problems[:MAX_REPORTED], f"{path}: … and {extra} more problems"]
    if problems:
        raise UserError(problems)
    return items
