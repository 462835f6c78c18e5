"""The answer-agreement judge: do two sampled replies to one question give the same answer?"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from auditkit.judges._base import Judge, ReplyRow, Verdict, register_judge
from auditkit.judges.abstention import AbstentionJudge
from auditkit.scorers.answers import answer_key


class AgreementRow(ReplyRow):
    question: str = ""
    answer: str | None = None
    aliases: list[str] = Field(default_factory=list)
    reply: str = ""
    reply_a: str
    reply_b: str

    @property
    def references(self) -> list[str]:
        return [self.answer, *self.aliases] if self.answer else []


@register_judge
class AgreementJudge(Judge[AgreementRow]):
    """*same*: both replies have one answer key (``auditkit.scorers.answers.answer_key``: the
    matched reference, an abstention, "no single answer", or the normalised answer itself);
    *different*: otherwise."""

    name = "answer_agreement"
    version = "3"
    labels = ("same", "different")
    Row: ClassVar[type[ReplyRow]] = AgreementRow
    shipped_items = "data/hallucination/self_consistency.jsonl"
    question = "Do the two replies give the same answer?"

    def __init__(self, *, embeddings: bool = False) -> None:
        """``embeddings``: the abstention judge's embedding check is on."""
        self.abstention = AbstentionJudge(embeddings=embeddings)

    def key(self, reply: str, references: list[str]) -> str:
        return answer_key(reply, references, abstained=self.abstention.abstains([reply])[0][0])

    def judge(self, row: AgreementRow) -> Verdict:
        a, b = self.key(row.reply_a, row.references), self.key(row.reply_b, row.references)
        return Verdict("same" if a == b else "different", {"answer_keys": [a, b]})
