"""The short-answer judge: is a reply to a factual question correct, wrong, or an abstention?"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from auditkit.judges._base import Judge, ReplyRow, Verdict, register_judge
from auditkit.judges.abstention import AbstentionJudge
from auditkit.scorers.answers import judge_short_answer


class ShortAnswerRow(ReplyRow):
    question: str = ""
    answer: str
    aliases: list[str] = Field(default_factory=list)

    @property
    def references(self) -> list[str]:
        return [self.answer, *self.aliases]


@register_judge
class ShortAnswerJudge(Judge[ShortAnswerRow]):
    """*correct*: the reply's answer is the reference or an alias; *abstained*: no answer is
    asserted; *wrong*: any other answer. Rules: ``auditkit.scorers.answers.judge_short_answer``."""

    name = "short_answer"
    version = "3"
    labels = ("correct", "wrong", "abstained")
    Row: ClassVar[type[ReplyRow]] = ShortAnswerRow
    shipped_items = "data/hallucination/closed_book.jsonl"
    question = "Is the reply's answer the reference answer, another answer, or no answer?"

    def __init__(self, *, embeddings: bool = False) -> None:
        """``embeddings``: the abstention judge's embedding check is on."""
        self.abstention = AbstentionJudge(embeddings=embeddings)

    def judge(self, row: ShortAnswerRow) -> Verdict:
        abstained, abstention = self.abstention.abstains([row.reply])[0]
        outcome, evidence = judge_short_answer(row.reply, row.references, abstained=abstained)
        return Verdict(outcome, {**evidence, "abstention_patterns": abstention["patterns"]})
