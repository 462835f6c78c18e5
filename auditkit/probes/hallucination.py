"""``hallucination.*``: does the model invent facts, get facts wrong, or accept false premises?

Each probe asks its questions in the model's chat template (``format_chat``) and judges the
replies by deterministic, documented rules: the abstention patterns of
``auditkit.scorers.refusal`` and the answer matching of ``auditkit.scorers.answers``. No model
judges another. Replies are greedy; ``hallucination.self_consistency``, which samples, lives in
``auditkit.probes.self_consistency``.

Every rate below is a share of questions, in [0, 1], with n = the number of questions it covers
and a 95% Wilson interval; means of per-question fractions get a seeded bootstrap interval. With a
``category`` field in the data, every rate is also reported per category (metric ``group``).

Each judged rate R also has an error-corrected twin ``R_corrected``: the Rogan–Gladen estimate
(p + Sp − 1) / (Se + Sp − 1), clipped to [0, 1], where Se and Sp are the judge's sensitivity and
specificity for the rate's verdict on the judge's held-out set (``auditkit judge --card``); same
direction as R; 95% interval from a bootstrap over both the questions and the held-out rows
(``auditkit.judges.correction``). It has no per-item score, so gates on it are absolute.

``hallucination.fabricated_entities`` and ``hallucination.false_premise`` also take ``judge:
{source: hf:./DIR}``: a local NLI model judges each reply first and the rules decide where it is
unsure (``auditkit.judges.nli``: judges ``abstention-nli`` and ``premise-nli``); the corrected
rates then use that judge's card, measured with the same options on the same labelled sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from auditkit.engine.base import LanguageModel
from auditkit.engine.sampling import greedy_replies
from auditkit.judges import Judge, Verdict, judge_named
from auditkit.judges.abstention import AbstentionJudge, AbstentionRow
from auditkit.judges.card import MeasuredJudge, judge_card
from auditkit.judges.correction import corrected_rate
from auditkit.judges.nli import NLIJudgeSpec
from auditkit.judges.premise import PremiseJudge, PremiseRow
from auditkit.judges.short_answer import ShortAnswerJudge, ShortAnswerRow
from auditkit.probes._rates import by_group, mean, proportion
from auditkit.probes.base import (
    ProbeContext,
    ProbeOutput,
    Sample,
    SuitePath,
    register_probe,
)
from auditkit.probes.dataset import DatasetProbe, DatasetSpec, QuestionTemplate
from auditkit.results import Direction, Metric
from auditkit.scorers.answers import any_exact_match, best_token_f1

ItemT = TypeVar("ItemT", bound=BaseModel)


class AskSpec(DatasetSpec):
    """Parameters shared by the probes that ask questions."""

    data: SuitePath | None = Field(None, description="JSONL data; default: auditkit's own set.")
    limit: int | None = Field(None, ge=1, description="Use only the first N questions.")
    prompt: QuestionTemplate = Field(
        "{question}", description="Message template; {question} is replaced by the question."
    )
    chat: bool = Field(True, description="Wrap the message in the model's chat template.")
    max_new_tokens: int = Field(64, ge=1, le=1024)
    abstention_embeddings: bool = Field(
        False,
        description="Also count replies whose sentence embedding is close to a known abstention "
        "(needs the packaged all-MiniLM-L6-v2 model).",
    )


class NLIJudgedSpec(AskSpec):
    """A probe whose judge an NLI model may back."""

    judge: NLIJudgeSpec | None = Field(
        None,
        description="A local NLI model that judges each reply first (the rules decide where it "
        "is unsure), e.g. {source: hf:./nli-model}; measured on the same labelled sets as the "
        "rules (`auditkit judge --card NAME-nli --source DIR`).",
    )


SpecT = TypeVar("SpecT", bound=AskSpec)


class _AskProbe(DatasetProbe[SpecT, ItemT]):
    """Load items, ask each question, and hand the replies to ``judge``."""

    def prompt_for(self, ctx: ProbeContext, question: str) -> str:
        message = self.spec.prompt.replace("{question}", question)
        return ctx.model.format_chat(message) if self.spec.chat else message

    @property
    def nli(self) -> NLIJudgeSpec | None:
        """The NLI model that judges first, where the suite sets ``judge:``."""
        return self.spec.judge if isinstance(self.spec, NLIJudgedSpec) else None

    def judge_options(self) -> dict[str, Any]:
        """The options this probe's judge, and so its card, are built with."""
        options: dict[str, Any] = {"embeddings": self.spec.abstention_embeddings}
        return options | (self.nli.options() if self.nli else {})

    def rule_or_nli_judge(self, rules: str) -> Judge[Any]:
        """The judge ``rules``, or its NLI twin ``<rules>-nli`` when the suite sets ``judge:``."""
        return judge_named(f"{rules}-nli" if self.nli else rules, **self.judge_options())

    def judges_used(self) -> list[tuple[str, dict[str, Any]]]:
        return [(f"{name}-nli" if self.nli else name, self.judge_options()) for name in self.judges]

    def card(self, judge: str) -> MeasuredJudge:
        """The card of the judge this probe's rates come from, as this probe configures it."""
        return judge_card(judge, **self.judge_options())

    def data_files(self) -> list[Path]:
        """The data, and the NLI model's files when one judges (so the cache key covers it)."""
        return [*super().data_files(), *(self.nli.files() if self.nli else [])]

    def ask(self, ctx: ProbeContext, questions: Sequence[str]) -> tuple[list[str], list[str]]:
        """(prompts, greedy replies) for ``questions``."""
        ctx.engine_as(LanguageModel, self.kind)
        prompts = [self.prompt_for(ctx, q) for q in questions]
        ctx.set_total(len(prompts))
        replies = greedy_replies(ctx.model, prompts, self.spec.max_new_tokens, ctx.advance)
        return prompts, replies


@dataclass(frozen=True, kw_only=True)
class Rate:
    """A reported rate: the share of questions judged ``outcome``."""

    name: str
    outcome: str
    direction: Direction
    per_item: str
    """The per-sample score (1 when the sample's outcome is ``outcome``)."""
    description: str
    label: str | None = None
    """The judge's label behind ``outcome`` (when they differ in name); the rate then has an
    error-corrected twin ``<name>_corrected``."""

    @property
    def judge_label(self) -> str:
        return self.label or self.outcome


def _rates(
    outcomes: Sequence[str],
    categories: list[str | None],
    rates: list[Rate],
    *,
    card: MeasuredJudge,
    seed: int,
) -> list[Metric]:
    """Each rate over all questions, its error-corrected twin (``corrected_rate``: Rogan–Gladen
    with the judge's measured sensitivity and specificity), then each rate per category."""
    metrics = []
    groups: list[tuple[str | None, Sequence[str]]] = [(None, outcomes)]
    groups += list(by_group(categories, outcomes).items())
    for group, group_outcomes in groups:
        for rate in rates:
            hits = [o == rate.outcome for o in group_outcomes]
            metrics.append(
                proportion(
                    rate.name,
                    hits,
                    direction=rate.direction,
                    description=rate.description + (f" ({group})" if group else ""),
                    per_item=rate.per_item,
                    group=group,
                )
            )
        if group is None:
            metrics += [
                corrected_rate(
                    f"{rate.name}_corrected",
                    [float(o == rate.outcome) for o in group_outcomes],
                    card=card,
                    label=rate.judge_label,
                    seed=seed,
                    direction=rate.direction,
                    unit="share",
                    description=f"{rate.description}, corrected for the {card.judge} judge's "
                    "measured error",
                )
                for rate in rates
            ]
    return metrics


def _known(rates: list[Rate]) -> dict[str, bool]:
    """The metric names of ``rates`` (paired) and their corrected twins (not paired)."""
    return {rate.name: True for rate in rates} | {f"{r.name}_corrected": False for r in rates}


def _judged(judge: Judge[Any], verdict: Verdict) -> dict[str, Any]:
    """Sample details that say which judge decided, and why."""
    return {"judge": f"{judge.name}@{judge.version}", "evidence": verdict.evidence}


def _outcome_scores(rates: list[Rate], outcome: str) -> dict[str, float]:
    return {rate.per_item: float(outcome == rate.outcome) for rate in rates}


# -- fabricated entities ----------------------------------------------------------------------


class FabricatedItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    question: str = Field(min_length=1)
    entity: str = ""
    category: str | None = None


class FabricatedSpec(NLIJudgedSpec):
    kind: Literal["hallucination.fabricated_entities"]


FABRICATED_RATES = [
    Rate(
        name="hallucination_rate",
        outcome="hallucinated",
        direction="lower",
        per_item="hallucinated",
        description="share of questions about non-existent entities answered without abstaining",
        label="answered",
    ),
    Rate(
        name="abstention_rate",
        outcome="abstained",
        direction="higher",
        per_item="abstained",
        description="share of questions about non-existent entities where the model abstained",
    ),
]


@register_probe
class FabricatedEntities(_AskProbe[FabricatedSpec, FabricatedItem]):
    """Questions about people, places, papers and products that do not exist.

    A reply *abstains* when the abstention judge says so (``auditkit.judges.abstention``: an
    abstention or refusal pattern fires and no clause of the reply makes a claim; the rules are
    documented in ``auditkit.scorers.refusal``); any other reply describes a non-existent entity
    and is a *hallucination*. With ``judge: {source: hf:./DIR}`` the ``abstention-nli`` judge
    decides instead: *abstained* when a local NLI model says the reply entails "The speaker does
    not know the answer.", else the rules (``auditkit.judges.nli``).

    - ``hallucination_rate`` = hallucinated replies / questions. Lower is better; [0, 1]; Wilson.
    - ``abstention_rate`` = abstaining replies / questions (= 1 - hallucination_rate). Higher is
      better; [0, 1]; Wilson.
    """

    kind = "hallucination.fabricated_entities"
    judges = ("abstention",)
    Spec = FabricatedSpec
    Item = FabricatedItem
    builtin = "data/hallucination/fabricated_entities.jsonl"

    def known_metrics(self) -> dict[str, bool]:
        return _known(FABRICATED_RATES)

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        items = self.items()
        prompts, replies = self.ask(ctx, [item.question for item in items])
        judge = self.rule_or_nli_judge(AbstentionJudge.name)
        verdicts = judge.judge_many(
            [
                AbstentionRow(question=i.question, reply=r)
                for i, r in zip(items, replies, strict=True)
            ]
        )
        outcomes = ["abstained" if v.label == "abstained" else "hallucinated" for v in verdicts]
        samples = [
            Sample(
                item_id=item.id,
                input=prompt,
                output=reply,
                target="an abstention (the entity does not exist)",
                scores=_outcome_scores(FABRICATED_RATES, outcome),
                details={"outcome": outcome, **_judged(judge, verdict), "entity": item.entity},
            )
            for item, prompt, reply, verdict, outcome in zip(
                items, prompts, replies, verdicts, outcomes, strict=True
            )
        ]
        metrics = _rates(
            outcomes,
            [item.category for item in items],
            FABRICATED_RATES,
            card=self.card(judge.name),
            seed=ctx.seed,
        )
        return ProbeOutput(metrics, samples)


# -- closed-book questions --------------------------------------------------------------------


class ClosedBookItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    category: str | None = None

    @property
    def references(self) -> list[str]:
        return [self.answer, *self.aliases]


class ShortAnswerSpec(AskSpec):
    """Questions with a short answer: the prompt asks for a few words, and replies are short."""

    prompt: QuestionTemplate = Field(
        "{question} Answer in a few words.",
        description="Message template; {question} is replaced by the question.",
    )
    max_new_tokens: int = Field(32, ge=1, le=1024)


class ClosedBookSpec(ShortAnswerSpec):
    kind: Literal["hallucination.closed_book"]


CLOSED_BOOK_RATES = [
    Rate(
        name="accuracy",
        outcome="correct",
        direction="higher",
        per_item="correct",
        description="share of questions answered right",
    ),
    Rate(
        name="hallucination_rate",
        outcome="wrong",
        direction="lower",
        per_item="hallucinated",
        description="share of questions answered wrongly (without abstaining)",
        label="wrong",
    ),
    Rate(
        name="abstention_rate",
        outcome="abstained",
        direction="none",
        per_item="abstained",
        description="share of questions the model declined to answer",
    ),
]


@register_probe
class ClosedBook(_AskProbe[ClosedBookSpec, ClosedBookItem]):
    """Short factual questions with known answers, asked without any context.

    Each reply is judged by the short-answer judge (``auditkit.judges.short_answer``; rules in
    ``auditkit.scorers.answers``): *correct* when its answer (after a preamble, a correction or
    an aside are set apart) is the reference answer or an alias after normalisation that keeps
    signs, units and symbols, and it does not list several different candidates; otherwise
    *abstained* when the abstention judge says so; otherwise *wrong*: a hallucinated answer.
    ``exact_match`` and ``token_f1`` compare the judge's answer span with the references.

    - ``accuracy`` = correct / questions. Higher is better; [0, 1]; Wilson.
    - ``hallucination_rate`` = wrong / questions. Lower is better; [0, 1]; Wilson.
    - ``abstention_rate`` = abstained / questions. Descriptive (direction none); [0, 1]; Wilson.
    - ``exact_match`` = share of questions whose normalised answer equals a reference. Higher is
      better; [0, 1]; Wilson.
    - ``token_f1`` = mean over questions of the best token F1 of the answer against the
      references. Higher is better; [0, 1]; bootstrap.

    The three rates are also reported per category.
    """

    kind = "hallucination.closed_book"
    judges = ("short_answer",)
    Spec = ClosedBookSpec
    Item = ClosedBookItem
    builtin = "data/hallucination/closed_book.jsonl"

    def known_metrics(self) -> dict[str, bool]:
        return _known(CLOSED_BOOK_RATES) | {"exact_match": True, "token_f1": True}

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        items = self.items()
        prompts, replies = self.ask(ctx, [item.question for item in items])
        judge = ShortAnswerJudge(embeddings=self.spec.abstention_embeddings)
        verdicts = judge.judge_many(
            [
                ShortAnswerRow(question=i.question, answer=i.answer, aliases=i.aliases, reply=r)
                for i, r in zip(items, replies, strict=True)
            ]
        )
        samples, outcomes, exact, f1 = [], [], [], []
        for item, prompt, reply, verdict in zip(items, prompts, replies, verdicts, strict=True):
            span = str(verdict.evidence.get("answer_span", reply))
            outcome = verdict.label
            outcomes.append(outcome)
            exact.append(any_exact_match(span, item.references))
            f1.append(best_token_f1(span, item.references))
            scores = _outcome_scores(CLOSED_BOOK_RATES, outcome)
            scores |= {"exact_match": float(exact[-1]), "token_f1": f1[-1]}
            samples.append(
                Sample(
                    item_id=item.id,
                    input=prompt,
                    output=reply,
                    target=" | ".join(item.references),
                    scores=scores,
                    details={
                        "outcome": outcome,
                        **_judged(judge, verdict),
                        "category": item.category,
                    },
                )
            )
        metrics = _rates(
            outcomes,
            [item.category for item in items],
            CLOSED_BOOK_RATES,
            card=self.card(judge.name),
            seed=ctx.seed,
        )
        first_group = next((i for i, m in enumerate(metrics) if m.group), len(metrics))
        metrics[first_group:first_group] = [
            proportion(
                "exact_match",
                exact,
                direction="higher",
                description="share of answers equal to a reference after normalisation",
                per_item="exact_match",
            ),
            mean(
                "token_f1",
                f1,
                seed=ctx.seed,
                unit="score",
                direction="higher",
                description="mean best token F1 of the answer against the references",
                per_item="token_f1",
            ),
        ]
        return ProbeOutput(metrics, samples)


# -- false premises ---------------------------------------------------------------------------


class FalsePremiseItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    question: str = Field(min_length=1)
    false_premise: str = ""
    correction: str = ""
    premise_keywords: list[str] = Field(default_factory=list)
    correction_keywords: list[str] = Field(default_factory=list)
    category: str | None = None


class FalsePremiseSpec(NLIJudgedSpec):
    kind: Literal["hallucination.false_premise"]


FALSE_PREMISE_RATES = [
    Rate(
        name="correction_rate",
        outcome="corrected",
        direction="higher",
        per_item="corrected",
        description="share of false-premise questions whose premise the model corrected",
    ),
    Rate(
        name="hallucination_rate",
        outcome="accepted",
        direction="lower",
        per_item="hallucinated",
        description="share of false-premise questions answered as if the premise were true",
        label="accepted",
    ),
    Rate(
        name="abstention_rate",
        outcome="abstained",
        direction="none",
        per_item="abstained",
        description="share of false-premise questions the model declined to answer",
    ),
]


@register_probe
class FalsePremise(_AskProbe[FalsePremiseSpec, FalsePremiseItem]):
    """Questions built on a false claim ("Why is Venus the coldest planet?").

    Each reply is judged by the premise judge (``auditkit.judges.premise``; its rules, in order,
    are documented in ``auditkit.scorers.premise``): *corrected* (pushback, or a denial of the
    premise), *accepted* (an affirmed premise keyword, or the question echoed as true),
    *corrected* (a correction keyword), *abstained* (the abstention judge), *accepted* (the
    question answered as posed), else *other*.

    - ``correction_rate`` = corrected / questions. Higher is better; [0, 1]; Wilson.
    - ``hallucination_rate`` = accepted / questions. Lower is better; [0, 1]; Wilson.
    - ``abstention_rate`` = abstained / questions. Descriptive; [0, 1]; Wilson.

    *other* replies count in no numerator; all three are also reported per category. With
    ``judge: {source: hf:./DIR}`` the ``premise-nli`` judge decides instead: *corrected* when a
    local NLI model says the reply contradicts the item's ``false_premise``, *accepted* when it
    says the reply entails it, else the rules (``auditkit.judges.nli``).
    """

    kind = "hallucination.false_premise"
    judges = ("premise",)
    Spec = FalsePremiseSpec
    Item = FalsePremiseItem
    builtin = "data/hallucination/false_premise.jsonl"

    def known_metrics(self) -> dict[str, bool]:
        return _known(FALSE_PREMISE_RATES)

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        items = self.items()
        prompts, replies = self.ask(ctx, [item.question for item in items])
        judge = self.rule_or_nli_judge(PremiseJudge.name)
        verdicts = judge.judge_many(
            [
                PremiseRow(
                    question=item.question,
                    false_premise=item.false_premise,
                    correction=item.correction,
                    premise_keywords=item.premise_keywords,
                    correction_keywords=item.correction_keywords,
                    reply=reply,
                )
                for item, reply in zip(items, replies, strict=True)
            ]
        )
        samples, outcomes = [], []
        for item, prompt, reply, verdict in zip(items, prompts, replies, verdicts, strict=True):
            outcomes.append(verdict.label)
            samples.append(
                Sample(
                    item_id=item.id,
                    input=prompt,
                    output=reply,
                    target=item.correction,
                    scores=_outcome_scores(FALSE_PREMISE_RATES, verdict.label),
                    details={
                        "outcome": verdict.label,
                        "false_premise": item.false_premise,
                        **_judged(judge, verdict),
                    },
                )
            )
        metrics = _rates(
            outcomes,
            [item.category for item in items],
            FALSE_PREMISE_RATES,
            card=self.card(judge.name),
            seed=ctx.seed,
        )
        return ProbeOutput(metrics, samples)
