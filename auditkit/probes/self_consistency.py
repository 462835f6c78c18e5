"""``hallucination.self_consistency``: does the model give the same answer when asked again?

Each question is sampled ``k`` times (temperature, top-p, and a seed derived from the suite's seed
and the question's id, so reruns give the same samples). Answers that waver are a sign of guessing.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditkit.engine.base import LanguageModel
from auditkit.judges.answer_agreement import AgreementJudge
from auditkit.judges.card import judge_card
from auditkit.judges.correction import corrected_rate
from auditkit.probes._rates import mean, proportion
from auditkit.probes.base import ProbeContext, ProbeOutput, Sample, register_probe
from auditkit.probes.dataset import DatasetProbe
from auditkit.probes.hallucination import ShortAnswerSpec
from auditkit.probes.sampled import sample_per_item
from auditkit.scorers.answers import ABSTAINED_KEY, normalize_answer


class ConsistencyItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    question: str = Field(min_length=1)
    answer: str | None = None
    """``None`` when the question has no single answer."""
    aliases: list[str] = Field(default_factory=list)

    @property
    def references(self) -> list[str]:
        return [self.answer, *self.aliases] if self.answer else []


class SelfConsistencySpec(ShortAnswerSpec):
    kind: Literal["hallucination.self_consistency"]
    k: int = Field(5, ge=2, le=64, description="Samples per question.")
    temperature: float = Field(0.7, gt=0.0, le=5.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)


def pairwise_disagreement(keys: list[str]) -> float:
    """Share of the k(k-1)/2 pairs of samples whose keys differ."""
    pairs = list(combinations(keys, 2))
    return sum(a != b for a, b in pairs) / len(pairs)


@register_probe
class SelfConsistency(DatasetProbe[SelfConsistencySpec, ConsistencyItem]):
    """k sampled answers per question, compared after normalisation.

    Each sample gets an answer key from the answer-agreement judge (``answer_key`` in
    ``auditkit.scorers.answers``): samples whose answer is the reference or an alias share one
    key; abstentions share another; replies that say the question has no single answer share a
    third; any other sample's key is its normalised answer.

    - ``disagreement_rate`` = share of questions whose k keys are not all equal. Lower is better;
      [0, 1]; Wilson.
    - ``pairwise_disagreement`` = mean over questions of the share of sample pairs with different
      keys. Lower is better; [0, 1]; bootstrap.
    - ``pairwise_disagreement_corrected`` = its Rogan–Gladen twin, (p + Sp − 1) / (Se + Sp − 1)
      clipped to [0, 1], with the answer-agreement judge's sensitivity and specificity for
      "different" on its held-out set (``auditkit judge --card answer_agreement``). Lower is
      better; interval: bootstrap over questions and the judge's held-out rows.
    - ``accuracy`` = mean over questions *with an answer* of the share of their k samples that
      contain it. Higher is better; [0, 1]; bootstrap; n = questions with an answer.
    - ``abstention_rate`` = mean over all questions of the share of samples that abstain.
      Descriptive; [0, 1]; bootstrap.

    ``disagreement_rate`` is also reported for the groups ``answered`` and ``no_single_answer``.
    """

    kind = "hallucination.self_consistency"
    judges = ("answer_agreement",)
    Spec = SelfConsistencySpec
    Item = ConsistencyItem
    builtin = "data/hallucination/self_consistency.jsonl"

    def judges_used(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, {"embeddings": self.spec.abstention_embeddings}) for name in self.judges]

    def known_metrics(self) -> dict[str, bool]:
        return {
            "disagreement_rate": True,
            "pairwise_disagreement": True,
            "pairwise_disagreement_corrected": False,
            "accuracy": True,
            "abstention_rate": True,
        }

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        ctx.engine_as(LanguageModel, self.kind)
        spec = self.spec
        items = self.items()
        prompts = []
        for item in items:
            message = spec.prompt.replace("{question}", item.question)
            prompts.append(ctx.model.format_chat(message) if spec.chat else message)
        replies = sample_per_item(ctx, self.kind, [i.id for i in items], prompts, spec)
        judge = AgreementJudge(embeddings=spec.abstention_embeddings)

        samples: list[Sample] = []
        disagree, pairwise, accuracy, abstention, answered = [], [], [], [], []
        for item, prompt, texts in zip(items, prompts, replies, strict=True):
            keys = [judge.key(text, item.references) for text in texts]
            abstained = [key == ABSTAINED_KEY for key in keys]
            disagree.append(len(set(keys)) > 1)
            pairwise.append(pairwise_disagreement(keys))
            abstention.append(sum(abstained) / len(texts))
            answered.append(item.answer is not None)
            scores = {
                "disagree": float(disagree[-1]),
                "pairwise_disagreement": pairwise[-1],
                "abstained": abstention[-1],
            }
            if item.answer is not None:
                right = "=" + normalize_answer(item.references[0])
                accuracy.append(sum(k == right for k in keys) / len(keys))
                scores["sample_accuracy"] = accuracy[-1]
            samples.append(
                Sample(
                    item_id=item.id,
                    input=prompt,
                    output=texts[0],
                    target=" | ".join(item.references) or "(no single answer)",
                    scores=scores,
                    details={
                        "samples": texts,
                        "answer_keys": keys,
                        "judge": f"{judge.name}@{judge.version}",
                    },
                )
            )
        metrics = [
            proportion(
                "disagreement_rate",
                disagree,
                direction="lower",
                description=f"share of questions whose {spec.k} sampled answers do not all agree",
                per_item="disagree",
            ),
            mean(
                "pairwise_disagreement",
                pairwise,
                seed=ctx.seed,
                unit="fraction",
                direction="lower",
                description="mean share of sample pairs whose answers differ",
                per_item="pairwise_disagreement",
            ),
            corrected_rate(
                "pairwise_disagreement_corrected",
                pairwise,
                card=judge_card(judge.name, embeddings=spec.abstention_embeddings),
                label="different",
                seed=ctx.seed,
                direction="lower",
                unit="fraction",
                description="mean share of sample pairs whose answers differ, corrected for the "
                "answer-agreement judge's measured error",
            ),
            mean(
                "accuracy",
                accuracy,
                seed=ctx.seed,
                unit="fraction",
                direction="higher",
                description="mean share of samples with the right answer (answerable questions)",
                per_item="sample_accuracy",
            ),
            mean(
                "abstention_rate",
                abstention,
                seed=ctx.seed,
                unit="fraction",
                direction="none",
                description="mean share of samples that abstain",
                per_item="abstained",
            ),
        ]
        for group, wanted in (("answered", True), ("no_single_answer", False)):
            metrics.append(
                proportion(
                    "disagreement_rate",
                    [d for d, a in zip(disagree, answered, strict=True) if a is wanted],
                    direction="lower",
                    description=f"disagreement rate on questions ({group})",
                    per_item="disagree",
                    group=group,
                )
            )
        return ProbeOutput(metrics, samples)
