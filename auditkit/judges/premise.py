"""The premise judge: did a reply correct a question's false premise, or accept it?"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from auditkit.judges._base import Judge, ReplyRow, Verdict, register_judge
from auditkit.judges.abstention import AbstentionJudge
from auditkit.scorers.premise import judge_premise


class PremiseRow(ReplyRow):
    question: str = ""
    false_premise: str = ""
    correction: str = ""
    premise_keywords: list[str] = Field(default_factory=list)
    correction_keywords: list[str] = Field(default_factory=list)


@register_judge
class PremiseJudge(Judge[PremiseRow]):
    """*corrected* / *accepted* / *abstained* / *other*: the rules of
    ``auditkit.scorers.premise.judge_premise`` (pushback, denial of the premise, an affirmed
    premise keyword, an echo of the question, a correction keyword, abstention, an answer as
    posed, in that order), with abstention from the abstention judge."""

    name = "premise"
    version = "3"
    labels = ("corrected", "accepted", "abstained", "other")
    Row: ClassVar[type[ReplyRow]] = PremiseRow
    shipped_items = "data/hallucination/false_premise.jsonl"
    question = "Did the reply correct the question's false premise, accept it, or abstain?"

    def __init__(self, *, embeddings: bool = False) -> None:
        """``embeddings``: the abstention judge's embedding check is on."""
        self.abstention = AbstentionJudge(embeddings=embeddings)

    def judge(self, row: PremiseRow) -> Verdict:
        abstained, abstention = self.abstention.abstains([row.reply])[0]
        outcome, evidence = judge_premise(
            row.reply,
            question=row.question,
            correction_keywords=row.correction_keywords,
            premise_keywords=row.premise_keywords,
            abstained=abstained,
        )
        return Verdict(outcome, {**evidence, "abstention_patterns": abstention["patterns"]})
