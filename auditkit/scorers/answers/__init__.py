"""Match a short generated answer against a reference answer and its aliases, find the answer in
a chatty reply, and key answers so that two samples can be compared.

Each part is documented in the module that implements it: normalisation (``normalize_answer``)
in ``_normalise``; matching (``exact_match``, ``token_f1``, ``contains_answer``, ``best_alias``)
in ``_match``; reading a reply (preamble, correction, ``answer_span``, a sentence's *asserted
part*) in ``_reading``; the answer keys in ``_keys``. The two verdicts below are in
``_verdicts``.

``judge_short_answer``: *correct* when the reply's answer is a reference, else *abstained* when
the abstention rules fired (``abstained``), else *wrong*. Evidence: ``answer_span`` (the answer
sentence), ``matched_reference``, ``shotgun`` (the item keys of a shotgun answer).

- The answer sentence is the first sentence whose asserted part contains a reference
  (``best_alias``), which lets a rambling reply give its answer after background sentences. The
  search stops at a sentence that already gave another answer: a terse one (at most three words,
  no auxiliary verb, not an exclamation: "Buzz Aldrin.", "+1.") or one whose copula's complement
  starts with a capital letter, a digit, a sign or a symbol ("The capital of Peru is Cusco.").
  Without a match the answer sentence is ``answer_span``.
- A *shotgun* answer is never correct: a list reply (two or more bulleted or numbered lines)
  whose lines all have at most four words, or an ``or``-list in the answer sentence's asserted
  part (appositives kept), whose items have different keys (``answer_key`` rules 1 and 5
  below). An ``or``-list is a stretch between colons, semicolons and dashes that holds ``or``
  (not ``or so``, ``or rather``, ``or more``, ``or less``, ``or not``, ``more or less``, nor
  with ``whether``), split at commas, ``or`` and a leading ``either``, keeping items with
  content ("Probably 1492 or 1498, maybe 1502"). Items that are all forms of the reference
  ("37 °C, or 98.6 °F") are one answer.

``answer_key`` (the answer-agreement judge: two replies agree when their keys are equal), the
first that applies:

1. ``=`` and the normalised first reference when the reply's answer is a reference, as judged by
   ``judge_short_answer`` (every alias is one key).
2. ``<no single answer>`` when the reply says there is none (``says_no_single_answer``): a
   ``NO_SINGLE_ANSWER_PATTERNS`` pattern in its sentences after preamble and correction, with
   concessions dropped (the patterns: ``_keys``).
3. ``<several: …>`` and the sorted item keys for a shotgun answer.
4. ``<abstained>`` for an abstention.
5. The answer's own key, from the asserted part of the answer sentence (how: ``_keys``).
"""

from __future__ import annotations

from auditkit.scorers.answers._keys import (
    ABSTAINED_KEY,
    NO_SINGLE_ANSWER_KEY,
    NO_SINGLE_ANSWER_PATTERNS,
    says_no_single_answer,
)
from auditkit.scorers.answers._match import (
    any_exact_match,
    best_alias,
    best_token_f1,
    contains_answer,
    exact_match,
    token_f1,
)
from auditkit.scorers.answers._normalise import normalize_answer
from auditkit.scorers.answers._reading import answer_span
from auditkit.scorers.answers._verdicts import answer_key, judge_short_answer

__all__ = [
    "ABSTAINED_KEY",
    "NO_SINGLE_ANSWER_KEY",
    "NO_SINGLE_ANSWER_PATTERNS",
    "answer_key",
    "answer_span",
    "any_exact_match",
    "best_alias",
    "best_token_f1",
    "contains_answer",
    "exact_match",
    "judge_short_answer",
    "normalize_answer",
    "says_no_single_answer",
    "token_f1",
]
