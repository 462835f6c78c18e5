"""Seeded sampling of several continuations per prompt (temperature, top-p).

``sample(model, requests)`` returns, per request, ``n`` sampled continuations. Each continuation
draws its tokens from its own random stream, seeded from the request's ``seed`` and its index, so
its draws do not depend on the other requests in its batch: the same requests with the same seeds
give the same texts on the same device and software (a GPU's random streams differ from a CPU's).

Engines:

- transformers (``HFCausalLM`` or any engine exposing ``model``, ``tokenizer`` and ``encode``):
  left-padded batches through ``generate()``, whose greedy step picks the token that a logits
  processor has drawn for each row: softmax at the row's temperature, the top-p nucleus, and an
  inverse-transform draw of one uniform number from the row's ``torch.Generator``.
- the mock model: its scripted reply, where ``||`` separates variants; sample ``j`` is variant
  ``j mod (number of variants)``, so tests can script (dis)agreeing samples exactly.
- any other engine: greedy requests only (temperature 0), through its ``generate``.

Temperature 0 is greedy decoding, so probes that want one greedy reply per prompt use
``sample(..., temperature=0)`` too, and get the same wide batches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditkit.engine.base import GenerationRequest, LanguageModel, cut_at_stop

if TYPE_CHECKING:
    import torch

MOCK_VARIANT_SEPARATOR = "||"
ROWS_PER_BATCH = 64
"""Rows (request × sample) per generate() call. On a CPU a decoding step costs about the same
for 16 rows as for 64, so wide batches are several times faster; the memory is small."""


@dataclass(frozen=True)
class SamplingRequest:
    """Sample ``n`` continuations of ``prompt``."""

    prompt: str
    n: int = 1
    temperature: float = 1.0
    """0 means greedy: every sample is the most likely continuation."""
    top_p: float = 1.0
    """Nucleus sampling: draw from the smallest set of tokens whose probability reaches top_p."""
    max_new_tokens: int = 32
    seed: int = 0
    stop: tuple[str, ...] = ()
    """Each sample ends at the first of these strings; it is not part of the returned text."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("n must be at least 1")
        if self.temperature < 0:
            raise ValueError("temperature must not be negative")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must lie in (0, 1]")


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed from ``seed`` and ``keys`` (stable across runs and platforms)."""
    text = ":".join(str(part) for part in (seed, *keys))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


def sample(
    model: LanguageModel,
    requests: Sequence[SamplingRequest],
    progress: Callable[[int], None] | None = None,
) -> list[list[str]]:
    """``n`` continuations per request (see the module docstring); ``progress`` is called with
    the number of requests whose samples are all done."""
    from auditkit.engine.mock import MockModel

    if isinstance(model, MockModel):
        return _sample_mock(model, requests, progress)
    if all(hasattr(model, attr) for attr in ("model", "tokenizer", "encode")):
        return _HFSampler(model).run(requests, progress)
    if all(r.temperature == 0 for r in requests):
        greedy = model.generate(
            [GenerationRequest(r.prompt, r.max_new_tokens, r.stop) for r in requests], progress
        )
        return [[text] * r.n for text, r in zip(greedy, requests, strict=True)]
    raise TypeError(
        f"sampling at a temperature above 0 is not supported for {type(model).__name__} models "
        "(supported: transformers causal LMs and the mock model)"
    )


def _sample_mock(
    model: Any, requests: Sequence[SamplingRequest], progress: Callable[[int], None] | None
) -> list[list[str]]:
    results = []
    for request in requests:
        (reply,) = model.generate([GenerationRequest(request.prompt, request.max_new_tokens)])
        variants = reply.split(MOCK_VARIANT_SEPARATOR)
        results.append(
            [cut_at_stop(variants[j % len(variants)], request.stop) for j in range(request.n)]
        )
        if progress:
            progress(1)
    return results


class _HFSampler:
    """Seeded sampling on a transformers causal LM."""

    def __init__(self, engine: Any, rows_per_batch: int | None = None) -> None:
        self.engine = engine
        self.model = engine.model
        self.tokenizer = engine.tokenizer
        self.rows_per_batch = rows_per_batch or ROWS_PER_BATCH
        pad = self.tokenizer.pad_token_id
        self.pad_token_id = int(pad if pad is not None else (self.tokenizer.eos_token_id or 0))
        self.device = next(self.model.parameters()).device

    def run(
        self, requests: Sequence[SamplingRequest], progress: Callable[[int], None] | None
    ) -> list[list[str]]:
        limit = int(getattr(self.engine, "max_length", 2048))
        encoded = [
            list(self.engine.encode(r.prompt))[-max(1, limit - r.max_new_tokens) :]
            for r in requests
        ]
        # One row per (request, sample); longest prompts first so batches pad little.
        rows = sorted(
            ((i, j) for i, r in enumerate(requests) for j in range(r.n)),
            key=lambda row: (-len(encoded[row[0]]), row),
        )
        texts: dict[tuple[int, int], str] = {}
        start = 0
        while start < len(rows):
            # A batch shares one max_new_tokens (generate() takes one); split where it changes.
            length = requests[rows[start][0]].max_new_tokens
            end = start
            while (
                end < len(rows)
                and end - start < self.rows_per_batch
                and requests[rows[end][0]].max_new_tokens == length
            ):
                end += 1
            batch = rows[start:end]
            outputs = self._generate(batch, requests, encoded, length)
            for row, text in zip(batch, outputs, strict=True):
                texts[row] = cut_at_stop(text, requests[row[0]].stop)
            if progress:
                finished = {i for i, j in batch if j == requests[i].n - 1}
                progress(len(finished))
            start = end
        return [[texts[(i, j)] for j in range(r.n)] for i, r in enumerate(requests)]

    def _generate(
        self,
        batch: list[tuple[int, int]],
        requests: Sequence[SamplingRequest],
        encoded: list[list[int]],
        max_new_tokens: int,
    ) -> list[str]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        prompts = [encoded[i] for i, _ in batch]
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[row, width - len(ids) :] = 1
        settings = [requests[i] for i, _ in batch]
        generators = [
            torch.Generator(device=self.device).manual_seed(derive_seed(r.seed, j))
            for r, (_, j) in zip(settings, batch, strict=True)
        ]
        sampler = _SeededSampler(settings, generators)
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        with torch.inference_mode():
            generated = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=mask.to(self.device),
                generation_config=config,
                logits_processor=LogitsProcessorList([sampler]),
            )
        new_tokens = generated[:, width:].tolist()
        return list(self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True))


class _SeededSampler:
    """A logits processor that draws each row's next token with the row's own generator and
    leaves only that token possible, so generate()'s greedy step takes it.

    The arithmetic runs on the whole batch at once (one softmax, one top-k): a per-row loop of
    small operations costs tens of times more on a busy CPU. Each row draws exactly one uniform
    number per step from its own generator, so its tokens do not depend on the other rows.
    """

    def __init__(self, settings: list[SamplingRequest], generators: list[torch.Generator]) -> None:
        import torch

        self.generators = generators
        self.sampled = [i for i, r in enumerate(settings) if r.temperature > 0]
        self.temperature = torch.tensor([settings[i].temperature for i in self.sampled])
        self.top_p = torch.tensor([settings[i].top_p for i in self.sampled])

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        import torch

        logits = scores.float()
        chosen = logits.argmax(dim=-1)
        if self.sampled:
            device = scores.device
            rows = torch.tensor(self.sampled, device=device)
            uniforms = torch.cat(
                [torch.rand(1, generator=self.generators[i], device=device) for i in self.sampled]
            )
            probs = torch.softmax(logits[rows] / self.temperature.to(device)[:, None], dim=-1)
            chosen[rows] = draw_tokens(probs, self.top_p.to(device), uniforms)
        forced = torch.full_like(scores, float("-inf"))
        return forced.scatter_(1, chosen[:, None], 0.0)


NUCLEUS_CANDIDATES = 256
"""Tokens examined for a nucleus before falling back to sorting the whole vocabulary."""


def draw_tokens(probs: torch.Tensor, top_p: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """One token id per row of ``probs``, by inverse transform of ``uniforms`` (in [0, 1)).

    With ``top_p < 1`` the draw is from the nucleus: the smallest set of most likely tokens whose
    probability reaches ``top_p`` (renormalised). It is found among the ``NUCLEUS_CANDIDATES``
    likeliest tokens when they hold that much probability, else by sorting the row.
    """
    import torch

    picked = torch.empty(probs.shape[0], dtype=torch.long, device=probs.device)
    full = top_p >= 1
    if full.any():  # no nucleus: the whole distribution, in vocabulary order
        picked[full] = _inverse_cdf(probs[full], uniforms[full])
    nucleus = ~full
    if nucleus.any():
        k = min(NUCLEUS_CANDIDATES, probs.shape[-1])
        top, order = probs[nucleus].topk(k, dim=-1)
        fits = top.sum(-1) >= top_p[nucleus]
        if not bool(fits.all()):  # some nucleus is wider than k: sort those rows whole
            top, order = probs[nucleus].sort(dim=-1, descending=True)
        before = top.cumsum(-1) - top  # probability of the tokens ranked above each one
        kept = torch.where(before < top_p[nucleus][:, None], top, torch.zeros_like(top))
        index = _inverse_cdf(kept, uniforms[nucleus])
        picked[nucleus] = order.gather(-1, index[:, None]).squeeze(-1)
    return picked


def _inverse_cdf(weights: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """Per row, the first index whose cumulative weight exceeds ``uniform × total weight``."""
    import torch

    cdf = weights.cumsum(-1)
    targets = (uniforms * cdf[:, -1])[:, None]
    return torch.searchsorted(cdf, targets, right=True).squeeze(-1).clamp(max=cdf.shape[-1] - 1)


def greedy_replies(
    model: LanguageModel,
    prompts: Sequence[str],
    max_new_tokens: int,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """One greedy continuation per prompt (``sample`` at temperature 0)."""
    requests = [SamplingRequest(p, temperature=0.0, max_new_tokens=max_new_tokens) for p in prompts]
    return [texts[0] for texts in sample(model, requests, progress)]
