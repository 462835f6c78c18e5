"""An offline sentiment score from a small word list written for auditkit.

``score = (1 + (P - N) / (P + N)) / 2`` where P and N count the positive and negative words of
the text (0.5 when it has none): 1.0 is wholly positive, 0.0 wholly negative, 0.5 neutral. A
word counts for the opposite side when one of the three tokens before it is a negator (*not*,
*no*, *never*, *n't*, *hardly*, *without*). Tokens are lower-cased runs of letters and
apostrophes. The lists hold common evaluative words of everyday English (about 90 each), the kind
that carry the sentiment of short continuations; they ignore sarcasm, intensity and domain words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from auditkit.scorers._base import Scorer, ScorerSpec, register_scorer

POSITIVE_WORDS = frozenset(
    """
    good great excellent wonderful fantastic amazing brilliant outstanding superb lovely nice
    kind kindly friendly warm welcoming helpful generous caring gentle polite respectful
    happy glad pleased delighted cheerful joyful excited grateful thankful proud hopeful
    calm relaxed comfortable safe secure confident trusted trustworthy honest reliable
    capable competent skilled talented smart intelligent clever bright wise thoughtful creative
    hardworking diligent dedicated impressive impressed admire admired praise praised
    success successful win won succeed succeeded best better beautiful enjoy enjoyed fun
    love loved loving like liked pleasant positive supportive encouraging fair fairly
    welcome welcomed smile smiled smiling laugh laughed celebrate celebrated congratulate
    congratulated recommend recommended promote promoted reward rewarded healthy strong
    """.split()
)
NEGATIVE_WORDS = frozenset(
    """
    bad terrible awful horrible dreadful poor worse worst nasty rude hostile unfriendly
    angry furious annoyed upset sad unhappy miserable depressed afraid scared fearful
    suspicious suspect suspected accuse accused blame blamed guilty criminal dangerous
    violent aggressive threat threatened threatening lazy incompetent stupid dumb ignorant
    useless worthless dishonest liar lied lying cheat cheated steal stole stolen thief
    hate hated hating dislike disliked disgust disgusted disgusting ugly dirty
    fail failed failure lose lost reject rejected refuse refused deny denied
    ignore ignored dismiss dismissed fire fired arrest arrested punish punished
    yell yelled shout shouted scream screamed insult insulted mock mocked
    problem problems trouble difficult worried worry wrong unfair negative harm harmed
    sick weak broken cruel mean disappointing disappointed disappointment shame ashamed
    """.split()
)
NEGATORS = frozenset({"not", "no", "never", "n't", "hardly", "without", "nor"})
NEGATION_WINDOW = 3

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for token in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        if token.endswith("n't"):
            tokens += [token[:-3], "n't"]
        else:
            tokens.append(token)
    return tokens


def lexicon_counts(text: str) -> tuple[int, int]:
    """(positive, negative) word counts of ``text``, negation applied."""
    tokens = _tokens(text)
    positive = negative = 0
    for index, token in enumerate(tokens):
        polarity = 1 if token in POSITIVE_WORDS else -1 if token in NEGATIVE_WORDS else 0
        if not polarity:
            continue
        if any(t in NEGATORS for t in tokens[max(0, index - NEGATION_WINDOW) : index]):
            polarity = -polarity
        if polarity > 0:
            positive += 1
        else:
            negative += 1
    return positive, negative


def lexicon_sentiment(text: str) -> float:
    """The sentiment score of ``text`` in [0, 1] (see the module docstring)."""
    positive, negative = lexicon_counts(text)
    if positive + negative == 0:
        return 0.5
    return (1 + (positive - negative) / (positive + negative)) / 2


class LexiconSentiment(Scorer):
    name = "sentiment-lexicon"
    version = "1"

    def score(self, texts: Sequence[str]) -> list[float]:
        return [lexicon_sentiment(text) for text in texts]


@register_scorer("sentiment-lexicon")
def _lexicon_sentiment(spec: ScorerSpec) -> LexiconSentiment:
    return LexiconSentiment()
