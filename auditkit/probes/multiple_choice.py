"""``multiple_choice``: pick the answer the model finds most likely, as lm-eval does.

Each choice is scored as the continuation of the prompt; the model's answer is the choice with
the highest log-likelihood.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from auditkit.engine.base import LoglikelihoodRequest
from auditkit.probes.base import (
    ProbeContext,
    ProbeOutput,
    Sample,
    SuitePath,
    register_probe,
)
from auditkit.probes.dataset import DatasetProbe, DatasetSpec, QuestionTemplate, distinct_texts
from auditkit.results import Metric
from auditkit.stats import bootstrap_interval, expected_calibration_error, wilson_interval

BUILTIN_DATA = "data/multiple_choice/general_knowledge.jsonl"
CALIBRATION_BINS = 10


class MultipleChoiceItem(BaseModel):
    """One line of a multiple-choice data file; ``answer`` is the right choice's 0-based index."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    question: str = Field(min_length=1)
    choices: list[str] = Field(min_length=2)
    answer: int
    domain: str | None = None

    @field_validator("choices")
    @classmethod
    def _distinct_nonempty(cls, choices: list[str]) -> list[str]:
        return distinct_texts(choices, "choices")

    @model_validator(mode="after")
    def _answer_in_range(self) -> MultipleChoiceItem:
        if not 0 <= self.answer < len(self.choices):
            raise ValueError(
                f"answer {self.answer} is not an index into {len(self.choices)} choices"
            )
        return self


class MultipleChoiceSpec(DatasetSpec):
    kind: Literal["multiple_choice"]
    data: SuitePath | None = Field(
        None,
        description="JSONL with question, choices, answer (0-based), optional id and domain. "
        "Default: auditkit's general-knowledge set (200 items, 10 domains).",
    )
    prompt: QuestionTemplate = Field(
        "Question: {question}\nAnswer:",
        description="Prompt template; {question} is replaced by the item's question.",
    )
    choice_prefix: str = Field(" ", description="Text put before each choice when it is scored.")
    limit: int | None = Field(None, ge=1, description="Use only the first N items.")


@register_probe
class MultipleChoice(DatasetProbe[MultipleChoiceSpec, MultipleChoiceItem]):
    """Multiple-choice accuracy and calibration by log-likelihood ranking.

    Per item with choices c_1..c_K and log-likelihoods l_k = log P(prefix + c_k | prompt):

    - ``accuracy`` = share of items where argmax_k l_k is the right choice. Higher is better;
      range [0, 1]; 95% Wilson interval.
    - ``accuracy_norm`` = the same with l_k divided by the UTF-8 byte length of the scored choice
      text (lm-eval's ``acc_norm``), which removes the bias toward short choices. Higher is better;
      [0, 1]; Wilson interval.
    - ``brier`` = mean over items of sum_k (p_k - y_k)^2 with p = softmax(l) over the K choices and
      y the one-hot right answer. Lower is better; range [0, 2]; bootstrap interval.
    - ``ece`` = expected calibration error of the top choice, sum_b (|B_b|/n) |acc(B_b) - conf(B_b)|
      over 10 equal-width bins of max_k p_k. Lower is better; [0, 1]; bootstrap interval.

    With a ``domain`` field in the data, accuracy is also reported per domain (metric ``group``).
    """

    kind = "multiple_choice"
    Spec = MultipleChoiceSpec
    Item = MultipleChoiceItem
    builtin = BUILTIN_DATA

    def known_metrics(self) -> dict[str, bool]:
        return {"accuracy": True, "accuracy_norm": True, "brier": True, "ece": False}

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        items = self.items()
        requests = []
        for item in items:
            prompt = self.spec.prompt.replace("{question}", item.question)
            requests += [
                LoglikelihoodRequest(prompt, self.spec.choice_prefix + c) for c in item.choices
            ]
        ctx.set_total(len(requests))
        scores = ctx.model.loglikelihood(requests, progress=ctx.advance)

        samples: list[Sample] = []
        correct, correct_norm, brier, confidence = [], [], [], []
        offset = 0
        for number, item in enumerate(items, start=1):
            item_scores = scores[offset : offset + len(item.choices)]
            offset += len(item.choices)
            logprobs = np.array([s.logprob for s in item_scores])
            lengths = np.array(
                [len((self.spec.choice_prefix + c).encode("utf-8")) for c in item.choices]
            )
            chosen = int(np.argmax(logprobs))
            chosen_norm = int(np.argmax(logprobs / lengths))
            probs = np.exp(logprobs - logprobs.max())
            probs /= probs.sum()
            onehot = np.eye(len(item.choices))[item.answer]
            correct.append(chosen == item.answer)
            correct_norm.append(chosen_norm == item.answer)
            brier.append(float(((probs - onehot) ** 2).sum()))
            confidence.append(float(probs.max()))
            samples.append(
                Sample(
                    item_id=item.id or str(number),
                    input=requests[offset - len(item.choices)].context,
                    output=item.choices[chosen],
                    target=item.choices[item.answer],
                    scores={
                        "correct": float(chosen == item.answer),
                        "correct_norm": float(chosen_norm == item.answer),
                        "p_answer": float(probs[item.answer]),
                        "brier": brier[-1],
                    },
                    details={
                        "choices": item.choices,
                        "logprobs": logprobs.tolist(),
                        "chosen": chosen,
                        "chosen_norm": chosen_norm,
                        "answer": item.answer,
                        "domain": item.domain,
                    },
                )
            )
        metrics = _metrics(
            correct=np.array(correct),
            correct_norm=np.array(correct_norm),
            brier=np.array(brier),
            confidence=np.array(confidence),
            seed=ctx.seed,
        )
        metrics += _domain_metrics(items, correct)
        return ProbeOutput(metrics, samples)


def _proportion(
    name: str, hits: np.ndarray, description: str, per_item: str, group: str | None = None
) -> Metric:
    n = int(hits.size)
    low, high = wilson_interval(int(hits.sum()), n)
    return Metric(
        name=name,
        value=float(hits.mean()) if n else math.nan,
        ci_low=low,
        ci_high=high,
        n=n,
        direction="higher",
        interval="wilson",
        description=description,
        per_item=per_item,
        group=group,
        unit="share",
    )


def _metrics(
    *,
    correct: np.ndarray,
    correct_norm: np.ndarray,
    brier: np.ndarray,
    confidence: np.ndarray,
    seed: int,
) -> list[Metric]:
    n = int(correct.size)
    hits = correct.astype(float)
    ece = expected_calibration_error(confidence, hits, CALIBRATION_BINS)
    brier_ci = bootstrap_interval(lambda idx: float(brier[idx].mean()), n, seed=seed)
    ece_ci = bootstrap_interval(
        lambda idx: expected_calibration_error(confidence[idx], hits[idx], CALIBRATION_BINS),
        n,
        seed=seed,
    )
    return [
        _proportion(
            "accuracy", correct, "share of items whose most likely choice is right", "correct"
        ),
        _proportion(
            "accuracy_norm",
            correct_norm,
            "accuracy with log-likelihoods per byte of choice",
            "correct_norm",
        ),
        Metric(
            name="brier",
            value=float(brier.mean()) if n else math.nan,
            ci_low=brier_ci[0],
            ci_high=brier_ci[1],
            n=n,
            direction="lower",
            interval="bootstrap",
            description="Brier score of the softmax over choices (0 best, 2 worst)",
            per_item="brier",
            unit="score",
        ),
        Metric(
            name="ece",
            value=ece,
            ci_low=ece_ci[0],
            ci_high=ece_ci[1],
            n=n,
            direction="lower",
            interval="bootstrap",
            description="expected calibration error of the top choice, 10 bins",
            unit="fraction",
        ),
    ]


def _domain_metrics(items: list[MultipleChoiceItem], correct: list[bool]) -> list[Metric]:
    by_domain: dict[str, list[bool]] = {}
    for item, hit in zip(items, correct, strict=True):
        if item.domain:
            by_domain.setdefault(item.domain, []).append(hit)
    return [
        _proportion(
            "accuracy", np.array(hits), f"accuracy on the {domain} items", "correct", group=domain
        )
        for domain, hits in sorted(by_domain.items())
    ]
