"""The metrics of the ``speech_recognition`` probe (definitions: ``SpeechRecognition``'s
docstring): edit counts per utterance, corpus error rates with bootstrap intervals over
utterances, per-group rates and their gap, and the speed of the transcription call."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from auditkit.probes._rates import bootstrapped
from auditkit.probes._transcript_text import Normalisation
from auditkit.results import Metric
from auditkit.stats import BOOTSTRAP_RESAMPLES


@dataclass(frozen=True)
class ErrorCounts:
    """One utterance's edit counts against its normalised reference."""

    word_errors: int
    """Substitutions + deletions + insertions of words."""
    words: int
    char_errors: int
    chars: int
    substitutions: int
    deletions: int
    insertions: int


def error_counts(reference: str, hypothesis: str) -> ErrorCounts:
    """Word and character edit counts of ``hypothesis`` against a non-empty ``reference``."""
    import jiwer

    by_word = jiwer.process_words(reference, hypothesis)
    by_char = jiwer.process_characters(reference, hypothesis)
    return ErrorCounts(
        word_errors=by_word.substitutions + by_word.deletions + by_word.insertions,
        words=by_word.substitutions + by_word.deletions + by_word.hits,
        char_errors=by_char.substitutions + by_char.deletions + by_char.insertions,
        chars=by_char.substitutions + by_char.deletions + by_char.hits,
        substitutions=by_word.substitutions,
        deletions=by_word.deletions,
        insertions=by_word.insertions,
    )


def _ratio_metric(
    name: str,
    errors: np.ndarray,
    lengths: np.ndarray,
    *,
    seed: int,
    description: str,
    per_item: str | None,
    group: str | None = None,
) -> Metric:
    return bootstrapped(
        name,
        lambda idx: float(errors[idx].sum() / lengths[idx].sum()),
        int(errors.size),
        seed=seed,
        unit="error rate",
        direction="lower",
        description=description,
        interval_detail=f"{BOOTSTRAP_RESAMPLES} resamples over utterances",
        per_item=per_item,
        group=group,
    )


def error_rate_metrics(
    counts: list[ErrorCounts],
    groups: list[str | None],
    normalisation: Normalisation,
    *,
    seed: int,
) -> list[Metric]:
    """``wer``, ``cer``, and per group ``wer`` and ``wer_group_gap`` (definitions: the probe)."""
    word_errors = np.array([c.word_errors for c in counts], dtype=float)
    words = np.array([c.words for c in counts], dtype=float)
    char_errors = np.array([c.char_errors for c in counts], dtype=float)
    chars = np.array([c.chars for c in counts], dtype=float)
    how = normalisation.describe()
    metrics = [
        _ratio_metric(
            "wer",
            word_errors,
            words,
            seed=seed,
            description=f"word errors / reference words ({int(words.sum())}), all utterances; "
            f"texts {how}",
            per_item="wer_weighted",
        ),
        _ratio_metric(
            "cer",
            char_errors,
            chars,
            seed=seed,
            description=f"character errors / reference characters ({int(chars.sum())}, spaces "
            f"included); texts {how}",
            per_item="cer_weighted",
        ),
    ]
    names = sorted({g for g in groups if g is not None})
    if not names:
        return metrics
    codes = np.array([names.index(g) if g is not None else -1 for g in groups])
    for code, name in enumerate(names):
        mine = codes == code
        metrics.append(
            _ratio_metric(
                "wer",
                word_errors[mine],
                words[mine],
                seed=seed,
                description=f"word error rate of group {name} ({int(mine.sum())} utterances)",
                per_item=None,
                group=name,
            )
        )
    if len(names) >= 2:
        metrics.append(_group_gap(word_errors, words, codes, names, seed=seed))
    return metrics


def _group_gap(
    errors: np.ndarray, words: np.ndarray, codes: np.ndarray, names: list[str], *, seed: int
) -> Metric:
    def gap(pick: np.ndarray) -> float:
        totals = np.bincount(codes[pick], weights=words[pick], minlength=len(names))
        wrong = np.bincount(codes[pick], weights=errors[pick], minlength=len(names))
        present = totals > 0
        if present.sum() < 2:
            return math.nan
        rates = wrong[present] / totals[present]
        return float(rates.max() - rates.min())

    every = np.arange(codes.size)
    totals = np.bincount(codes, weights=words, minlength=len(names))
    rates = np.bincount(codes, weights=errors, minlength=len(names)) / totals
    rng = np.random.default_rng(seed)
    boot = np.array(
        [gap(rng.integers(0, codes.size, codes.size)) for _ in range(BOOTSTRAP_RESAMPLES)]
    )
    boot = boot[np.isfinite(boot)]
    low, high = (float(q) for q in np.quantile(boot, [0.025, 0.975])) if boot.size else (None, None)
    return Metric(
        name="wer_group_gap",
        value=gap(every),
        ci_low=low,
        ci_high=high,
        n=int(codes.size),
        direction="lower",
        interval="bootstrap",
        interval_detail=f"{BOOTSTRAP_RESAMPLES} resamples over utterances",
        description=f"largest minus smallest group word error rate ({names[int(rates.argmax())]} "
        f"minus {names[int(rates.argmin())]})",
        unit="error rate",
    )


def speed_metrics(seconds: float, audio_seconds: float, n: int) -> list[Metric]:
    """``real_time_factor`` and ``latency_per_audio_second`` of one timed transcription call."""
    factor = seconds / audio_seconds if audio_seconds > 0 else math.nan
    where = f"one call on {n} clips, {audio_seconds:.1f} s of audio, no warm-up"
    return [
        Metric(
            name="real_time_factor",
            value=factor,
            n=n,
            direction="lower",
            description=f"processing seconds per second of audio ({where})",
            unit="real-time factor",
        ),
        Metric(
            name="latency_per_audio_second",
            value=1000.0 * factor,
            n=n,
            direction="lower",
            description=f"milliseconds of processing per second of audio ({where})",
            unit="ms/audio s",
        ),
    ]
