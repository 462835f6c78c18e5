"""Seeded sampling of several continuations per prompt (temperature, top-p).

``sample(model, requests)`` returns, per request, ``n`` sampled continuations. Each continuation
draws its tokens from its own random stream, seeded from the request's ``seed`` and its index, so
its draws do not depend on the other requests in its batch: the same requests with the same seeds
give the same texts on the same device and software (a GPU's random streams differ from a CPU's).

Every engine that samples does it in its own ``sample`` method (``SamplingModel``), with the
tools here: ``derive_seed`` for each sample's stream and ``draw_tokens`` (softmax at the row's
temperature, the top-p nucleus, an inverse-transform draw of one uniform number) for each step.
transformers engines draw in a logits processor (``SeededSampler``), ONNX Runtime engines in their
own decoding loop; the mock model cycles through scripted variants. An engine without ``sample``
serves greedy requests only (temperature 0), through its ``generate``.

Temperature 0 is greedy decoding, so probes that want one greedy reply per prompt use
``sample(..., temperature=0)`` too, and get the same wide batches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from auditkit.engine.base import GenerationRequest, LanguageModel

if TYPE_CHECKING:
    import torch


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
    the number of requests whose samples are all done.

    An engine that samples (``SamplingModel``) does it; any other engine serves greedy requests
    (temperature 0) through its ``generate``."""
    if isinstance(model, SamplingModel):
        return model.sample(requests, progress)
    if all(r.temperature == 0 for r in requests):
        greedy = model.generate(
            [GenerationRequest(r.prompt, r.max_new_tokens, r.stop) for r in requests], progress
        )
        return [[text] * r.n for text, r in zip(greedy, requests, strict=True)]
    raise TypeError(
        f"sampling at a temperature above 0 is not supported for {type(model).__name__} models "
        "(supported: engines with a sample() method, e.g. transformers and ONNX Runtime causal "
        "LMs and the mock model)"
    )


@runtime_checkable
class SamplingModel(Protocol):
    """Engine capability: seeded sampling (temperature, top-p) of several continuations."""

    def sample(
        self, requests: Sequence[SamplingRequest], progress: Callable[[int], None] | None = None
    ) -> list[list[str]]: ...


class SeededSampler:
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
