"""Shared-context scoring: run each context once and score all its continuations on it.

Multiple-choice questions score several continuations after the same context. Scored one pair per
row (lm-eval's way) the context is recomputed for every choice. Here the requests that share a
context are packed into one row shaped like a tree::

    columns:    c0 c1 c2 c3 | a0 a1 | b0 b1 b2
    positions:   0  1  2  3 |  4  5 |  4  5  6
    segment:     0  0  0  0 |  1  1 |  2  2  2

The context comes once, then every continuation's input tokens (all but its last token, which is
only a target). Each continuation's tokens carry the positions they would have right after the
context, and a 4-D attention mask lets a token see the context and the earlier tokens of its own
continuation only. Every token therefore computes exactly what it would compute in its own
unpadded row, so the log-likelihoods equal the one-pair-per-row computation up to floating-point
summation order. The language-model head runs only on the columns that predict a continuation
token (the last context column and the continuations' columns): rows are left-padded, so those
columns are the last ones of every row, and of those only the ones that predict a token reach the
head (``PackedBatch.positions``), so a row with fewer continuation tokens than its batch's widest
costs no head work for the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch

from auditkit.engine.base import DeviceOutOfMemory, Loglikelihood

PAD_SEGMENT = -1
CONTEXT_SEGMENT = 0


@dataclass
class Branch:
    """One distinct continuation of a row's context, and the requests that asked for it."""

    continuation: list[int]
    requests: list[int]


@dataclass
class PackedRow:
    """A context and the continuations scored after it, laid out in one row."""

    context: list[int]
    branches: list[Branch]

    @property
    def width(self) -> int:
        """Tokens in the row: the context, then each continuation but its last token."""
        return len(self.context) + sum(len(b.continuation) - 1 for b in self.branches)

    @property
    def scored(self) -> int:
        """Trailing columns whose logits are needed (the last context column and every
        continuation column)."""
        return 1 + sum(len(b.continuation) - 1 for b in self.branches)

    @property
    def n_requests(self) -> int:
        return sum(len(b.requests) for b in self.branches)


@dataclass
class ScoringStats:
    """What the scorer did: for benchmarks, and to see which batch size fitted."""

    forwards: int = 0
    rows: int = 0
    tokens: int = 0
    """Input tokens run through the model (padding excluded)."""
    batch_sizes: list[int] = field(default_factory=list)
    """Rows in each forward pass, in order."""
    oom_halvings: int = 0
    """Times a batch ran out of device memory and was split in two."""


def pack_rows(
    pairs: Sequence[tuple[list[int], list[int]]], max_length: int, max_row_tokens: int
) -> list[PackedRow]:
    """Group token pairs by their (left-truncated) context into rows of at most
    ``max_row_tokens`` tokens (a row holds at least one continuation).

    Truncation is lm-eval's: the pair's tokens are cut from the left to ``max_length + 1`` and the
    last token is only a target, so the context a continuation is scored after depends on the
    continuation's length; pairs are grouped by that effective context.
    """
    groups: dict[tuple[int, ...], dict[tuple[int, ...], list[int]]] = {}
    for index, (context, continuation) in enumerate(pairs):
        if not continuation:
            raise ValueError("cannot score an empty continuation")
        if not context:
            raise ValueError("cannot score a continuation without context tokens")
        if len(continuation) > max_length:
            raise ValueError(
                f"a continuation of {len(continuation)} tokens does not fit the model's window "
                f"of {max_length} tokens"
            )
        tokens = (context + continuation)[-(max_length + 1) :]
        effective = tuple(tokens[: len(tokens) - len(continuation)])
        groups.setdefault(effective, {}).setdefault(tuple(continuation), []).append(index)
    rows = []
    for shared, continuations in groups.items():
        row = PackedRow(list(shared), [])
        for tokens_after, requests in continuations.items():
            if row.branches and row.width + len(tokens_after) - 1 > max_row_tokens:
                rows.append(row)
                row = PackedRow(list(shared), [])
            row.branches.append(Branch(list(tokens_after), requests))
        rows.append(row)
    return rows


def row_batches(
    rows: Sequence[PackedRow],
    *,
    batch_tokens: int,
    max_batch_size: int,
    logits_budget: int,
    vocab_size: int,
) -> Iterator[list[PackedRow]]:
    """Batches of rows, longest first, such that rows × widest row ≤ ``batch_tokens``, rows ≤
    ``max_batch_size`` and rows × most scored columns × vocabulary ≤ ``logits_budget``."""
    batch: list[PackedRow] = []
    keep = 0
    for row in sorted(rows, key=lambda r: -r.width):
        widest = batch[0].width if batch else row.width
        new_keep = max(keep, row.scored)
        if batch and (
            (len(batch) + 1) * widest > batch_tokens
            or len(batch) >= max_batch_size
            or (len(batch) + 1) * new_keep * vocab_size > logits_budget
        ):
            yield batch
            batch, new_keep = [], row.scored
        batch.append(row)
        keep = new_keep
    if batch:
        yield batch


@dataclass
class PackedBatch:
    """Model inputs for a batch of packed rows, and where each continuation's scores are."""

    input_ids: torch.Tensor
    position_ids: torch.Tensor
    segments: torch.Tensor
    keep: int
    """Trailing columns whose logits are computed."""
    targets: list[tuple[Branch, list[int]]]
    """Each continuation with the flat indices (into the kept logits, row-major) that predict
    its tokens."""

    @property
    def positions(self) -> list[int]:
        """The flat indices of every target, continuation after continuation: the logits a
        forward pass must return, in this order."""
        return [index for _, where in self.targets for index in where]


def layout(rows: Sequence[PackedRow], pad_token_id: int) -> PackedBatch:
    """Left-padded token ids, position ids and segment ids (pad −1, context 0, continuation k+1)."""
    width = max(r.width for r in rows)
    keep = max(r.scored for r in rows)
    ids = [[pad_token_id] * width for _ in rows]
    positions = [[0] * width for _ in rows]
    segments = [[PAD_SEGMENT] * width for _ in rows]
    targets: list[tuple[Branch, list[int]]] = []
    for r, row in enumerate(rows):
        column = width - row.width
        n_context = len(row.context)
        ids[r][column : column + n_context] = row.context
        positions[r][column : column + n_context] = range(n_context)
        segments[r][column : column + n_context] = [CONTEXT_SEGMENT] * n_context
        column += n_context
        # Flat index into the kept logits (rows × keep) of the last context column.
        last_context = r * keep + keep - row.scored
        for k, branch in enumerate(row.branches, start=1):
            inputs = branch.continuation[:-1]
            n = len(inputs)
            ids[r][column : column + n] = inputs
            positions[r][column : column + n] = range(n_context, n_context + n)
            segments[r][column : column + n] = [k] * n
            first = r * keep + (column - (width - keep))
            targets.append((branch, [last_context, *range(first, first + n)]))
            column += n
    return PackedBatch(
        input_ids=torch.tensor(ids, dtype=torch.long),
        position_ids=torch.tensor(positions, dtype=torch.long),
        segments=torch.tensor(segments, dtype=torch.long),
        keep=keep,
        targets=targets,
    )


def tree_mask(segments: torch.Tensor, *, additive_dtype: torch.dtype | None) -> torch.Tensor:
    """The (rows, 1, width, width) mask: a token sees earlier context tokens and earlier tokens
    of its own segment; a padding token sees only itself (so no softmax row is empty).

    Boolean (True = may attend) when ``additive_dtype`` is ``None``, else additive (0 or the
    dtype's lowest value), which every attention implementation accepts.
    """
    width = segments.shape[1]
    query = segments[:, :, None]
    key = segments[:, None, :]
    causal = torch.ones(width, width, dtype=torch.bool, device=segments.device).tril()
    allowed = causal & (key != PAD_SEGMENT) & ((key == CONTEXT_SEGMENT) | (key == query))
    allowed |= torch.eye(width, dtype=torch.bool, device=segments.device)
    allowed = allowed[:, None, :, :]
    if additive_dtype is None:
        return allowed
    mask = torch.zeros(allowed.shape, dtype=additive_dtype, device=segments.device)
    return mask.masked_fill_(~allowed, torch.finfo(additive_dtype).min)


def score_target_logits(
    logits: torch.Tensor, targets: Sequence[tuple[Branch, list[int]]]
) -> list[tuple[Branch, Loglikelihood]]:
    """Log-likelihood and greediness of each continuation from its targets' logits.

    ``logits`` has one row per target position, in ``PackedBatch.positions`` order. log P(token)
    = logit(token) − logsumexp(logits), in float32 (exact to rounding, where float32 log_softmax
    on a CPU drifts by a few 1e-6 per token); a continuation is greedy when every one of its
    tokens is the argmax at its position (ties go to the lowest token id, as ``argmax`` breaks
    them).
    """
    full = logits.float()
    normaliser = torch.logsumexp(full, dim=-1)
    best = full.argmax(dim=-1)
    wanted = torch.tensor(
        [t for branch, _ in targets for t in branch.continuation], device=logits.device
    )
    rows = torch.arange(len(wanted), device=logits.device)
    picked = full[rows, wanted] - normaliser
    hits = best == wanted
    picked_list = picked.tolist()
    hits_list = hits.tolist()
    results = []
    start = 0
    for branch, where in targets:
        end = start + len(where)
        logprob = float(sum(picked_list[start:end]))
        results.append((branch, Loglikelihood(logprob, all(hits_list[start:end]), len(where))))
        start = end
    return results


Forward = Callable[[PackedBatch], torch.Tensor]
"""Runs the model on a packed batch and returns the logits at its ``positions`` (positions,
vocabulary)."""


def score_batch_halving(
    batch: list[PackedRow],
    forward: Forward,
    pad_token_id: int,
    stats: ScoringStats,
    on_halving: Callable[[int], None],
) -> list[tuple[Branch, Loglikelihood]]:
    """Score ``batch``; when the device runs out of memory, split it in two and try each half
    (``on_halving`` learns the smaller size). A single row that does not fit is an error."""
    try:
        packed = layout(batch, pad_token_id)
        scores = score_target_logits(forward(packed), packed.targets)
    except torch.OutOfMemoryError:
        scores = None  # handled below, once the failed attempt's tensors are released
    if scores is None:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if len(batch) == 1:
            raise DeviceOutOfMemory(
                f"one row of {batch[0].width} tokens does not fit in device memory"
            )
        stats.oom_halvings += 1
        half = len(batch) // 2
        on_halving(half)
        first = score_batch_halving(batch[:half], forward, pad_token_id, stats, on_halving)
        return first + score_batch_halving(batch[half:], forward, pad_token_id, stats, on_halving)
    stats.forwards += 1
    stats.rows += len(batch)
    stats.tokens += sum(r.width for r in batch)
    stats.batch_sizes.append(len(batch))
    return scores
