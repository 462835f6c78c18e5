"""Scoring, generation and sampling on ONNX Runtime, over the graph ``models.onnx_export`` makes.

Same tokeniser and the same rules as the transformers engine (``hf_tokens``); only the forward
pass differs. Every call of the graph takes a key/value cache, so:

- **scoring** runs each distinct context once (a batch of left-padded contexts), keeps its cache,
  and scores the continuations on it: the first continuation token from the context's last
  logits, the rest in one more call whose attention mask joins the context's cache;
- **generation and sampling** decode token by token on the growing cache.

``exact`` engines (ONNX Runtime's int8 graphs, whose activation scale is computed over the whole
input tensor) run one context, and one continuation, per call: a batch-mate's padding or values
would otherwise move the scale and with it the score, so a score would depend on its batch.
float32 graphs batch freely (a batch moves a score by float32 rounding only, ~1e-6 nats).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from auditkit.engine import hf_perf
from auditkit.engine.base import (
    DeviceMemory,
    Footprint,
    GenerationRequest,
    Loglikelihood,
    ProgressCallback,
    cut_at_stop,
)
from auditkit.engine.hf_tokens import Tokenization
from auditkit.engine.sampling import SamplingRequest, derive_seed, draw_tokens
from auditkit.engine.timing import Clock, PerfCounterClock, TimedRun


@dataclass(frozen=True)
class DecoderShape:
    """What the engine needs to feed the graph's cache inputs."""

    layers: int
    kv_heads: int
    head_dim: int

    @classmethod
    def of(cls, config: Any) -> DecoderShape:
        heads = int(config.num_attention_heads)
        head_dim = getattr(config, "head_dim", None) or int(config.hidden_size) // heads
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        return cls(int(config.num_hidden_layers), int(kv_heads), int(head_dim))


Choose = Callable[[np.ndarray, list[int]], np.ndarray]
"""(last logits [rows, vocabulary], row ids) → next token per row."""


class OrtCausalLM(Tokenization):
    """A ``LanguageModel`` (with sampling and the ``PerformanceModel`` capability) over an ONNX
    Runtime session of an exported decoder."""

    def __init__(
        self,
        session: Any,
        tokenizer: PreTrainedTokenizerBase,
        shape: DecoderShape,
        *,
        name: str,
        max_length: int,
        exact: bool,
        footprint: Footprint,
        batch_size: int | None = None,
        batch_tokens: int = 4096,
    ) -> None:
        super().__init__(tokenizer)
        self.session = session
        self.shape = shape
        self._name = name
        self._max_length = max_length
        self.exact = exact
        self.rows = 1 if exact else (batch_size or 16)
        """Most rows per call: 1 for ``exact`` graphs (see the module docstring)."""
        self.batch_tokens = batch_tokens
        self._footprint = footprint
        self.eos_token_id = tokenizer.eos_token_id
        self.notes: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def max_length(self) -> int:
        return self._max_length

    # -- the graph ---------------------------------------------------------------------------

    def _empty_cache(self, rows: int) -> list[np.ndarray]:
        shape = (rows, self.shape.kv_heads, 0, self.shape.head_dim)
        return [np.zeros(shape, dtype=np.float32) for _ in range(2 * self.shape.layers)]

    def _run(
        self,
        input_ids: np.ndarray,
        position_ids: np.ndarray,
        mask: np.ndarray,
        cache: list[np.ndarray],
        keep: np.ndarray | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One graph call; logits only at the columns ``keep`` (default: all)."""
        if keep is None:
            keep = np.arange(input_ids.shape[1])
        feed: dict[str, np.ndarray] = {
            "input_ids": input_ids.astype(np.int64),
            "position_ids": position_ids.astype(np.int64),
            "attention_mask": mask,
            "logit_positions": keep.astype(np.int64),
        }
        for layer in range(self.shape.layers):
            feed[f"past.{layer}.key"] = cache[2 * layer]
            feed[f"past.{layer}.value"] = cache[2 * layer + 1]
        logits, *present = self.session.run(None, feed)
        return logits, present

    def _prefill(
        self, prompts: Sequence[Sequence[int]]
    ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """Run left-padded ``prompts``: (last logits [rows, vocab], cache, key mask)."""
        width = max(len(p) for p in prompts)
        ids = np.full((len(prompts), width), self.pad_token_id, dtype=np.int64)
        valid = np.zeros((len(prompts), width), dtype=bool)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt) :] = prompt
            valid[row, width - len(prompt) :] = True
        positions = np.clip(valid.cumsum(-1) - 1, 0, None)
        causal = np.tril(np.ones((width, width), dtype=bool))
        mask = causal[None, None] & valid[:, None, None, :]
        mask |= ~valid[:, None, :, None] & np.eye(width, dtype=bool)[None, None]  # pads see self
        logits, cache = self._run(
            ids, positions, mask, self._empty_cache(len(prompts)), keep=np.asarray([width - 1])
        )
        return logits[:, -1, :], cache, valid

    # -- scoring -------------------------------------------------------------------------------

    def loglikelihood(
        self, requests: Sequence[Any], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]:
        return self.loglikelihood_tokens(self.encode_pairs(requests), progress)

    def loglikelihood_tokens(
        self,
        pairs: Sequence[tuple[list[int], list[int]]],
        progress: ProgressCallback | None = None,
    ) -> list[Loglikelihood]:
        """Score token-level (context, continuation) pairs, each distinct context once."""
        limit = self.max_length
        groups: dict[tuple[int, ...], list[tuple[int, list[int]]]] = {}
        for index, (context, continuation) in enumerate(pairs):
            if not continuation:
                raise ValueError("cannot score an empty continuation")
            # Left-truncate to the model's window, as lm-eval does; the last token is a target.
            tokens = (context + continuation)[-(limit + 1) :]
            split = len(tokens) - len(continuation)
            groups.setdefault(tuple(tokens[:split]), []).append((index, tokens[split:]))
        results: list[Loglikelihood | None] = [None] * len(pairs)
        contexts = sorted(groups, key=len, reverse=True)
        for batch in self._context_batches(contexts):
            for index, result in self._score_contexts(batch, [groups[c] for c in batch]):
                results[index] = result
            if progress:
                progress(sum(len(groups[c]) for c in batch))
        return [r for r in results if r is not None]

    def _context_batches(self, contexts: list[tuple[int, ...]]) -> list[list[tuple[int, ...]]]:
        batches: list[list[tuple[int, ...]]] = []
        for context in contexts:
            if batches and (
                len(batches[-1]) < self.rows
                and (len(batches[-1]) + 1) * len(batches[-1][0]) <= self.batch_tokens
            ):
                batches[-1].append(context)
            else:
                batches.append([context])
        return batches

    def _score_contexts(
        self,
        contexts: list[tuple[int, ...]],
        continuations: list[list[tuple[int, list[int]]]],
    ) -> list[tuple[int, Loglikelihood]]:
        logits, cache, valid = self._prefill(contexts)
        rows: list[tuple[int, int, list[int]]] = []  # (request, context row, continuation)
        for row, members in enumerate(continuations):
            for index, continuation in members:
                rows.append((index, row, continuation))
        scored: list[tuple[int, Loglikelihood]] = []
        step = max(1, self.rows)
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            rest = self._continuation_logits(chunk, cache, valid)
            for (index, row, continuation), later in zip(chunk, rest, strict=True):
                steps = (
                    np.concatenate([logits[row : row + 1], later])
                    if len(later)
                    else logits[row : row + 1]
                )
                targets = np.asarray(continuation)
                chosen = steps[np.arange(len(targets)), targets]
                picked = (chosen - _logsumexp(steps)).astype(np.float64)
                greedy = bool((steps.argmax(-1) == targets).all())
                scored.append((index, Loglikelihood(float(picked.sum()), greedy, len(targets))))
        return scored

    def _continuation_logits(
        self,
        chunk: list[tuple[int, int, list[int]]],
        cache: list[np.ndarray],
        valid: np.ndarray,
    ) -> list[np.ndarray]:
        """Logit rows predicting each continuation's tokens after the first."""
        inputs = [continuation[:-1] for _, _, continuation in chunk]
        width = max(len(i) for i in inputs)
        if width == 0:
            return [np.zeros((0, 1), dtype=np.float32) for _ in chunk]
        context_rows = np.asarray([row for _, row, _ in chunk])
        past = valid[context_rows]
        ids = np.full((len(chunk), width), self.pad_token_id, dtype=np.int64)
        new_valid = np.zeros((len(chunk), width), dtype=bool)
        for r, tokens in enumerate(inputs):
            ids[r, : len(tokens)] = tokens
            new_valid[r, : len(tokens)] = True
        positions = past.sum(-1, keepdims=True) + np.arange(width)[None]
        causal = np.tril(np.ones((width, width), dtype=bool))
        mask = np.concatenate(
            [
                np.broadcast_to(past[:, None, None, :], (len(chunk), 1, width, past.shape[1])),
                np.broadcast_to(causal[None, None], (len(chunk), 1, width, width)),
            ],
            axis=-1,
        )
        rows_cache = [layer[context_rows] for layer in cache]
        logits, _ = self._run(ids, positions, mask, rows_cache)
        return [logits[r, : len(tokens)] for r, tokens in enumerate(inputs)]

    # -- generation and sampling ---------------------------------------------------------------

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        sampling = [
            SamplingRequest(r.prompt, temperature=0.0, max_new_tokens=r.max_new_tokens, stop=r.stop)
            for r in requests
        ]
        return [texts[0] for texts in self.sample(sampling, progress)]

    def sample(
        self, requests: Sequence[SamplingRequest], progress: ProgressCallback | None = None
    ) -> list[list[str]]:
        """``n`` continuations per request; greedy rows take the argmax, sampled rows draw
        with ``draw_tokens`` from their own seeded stream (as the transformers engine does)."""
        encoded = [
            self.encode(r.prompt)[-max(1, self.max_length - r.max_new_tokens) :] for r in requests
        ]
        rows = sorted(
            ((i, j) for i, r in enumerate(requests) for j in range(r.n)),
            key=lambda row: (-len(encoded[row[0]]), row),
        )
        texts: dict[tuple[int, int], str] = {}
        size = max(1, self.rows)
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            settings = [requests[i] for i, _ in batch]
            generators = [
                torch.Generator().manual_seed(derive_seed(r.seed, j))
                for r, (_, j) in zip(settings, batch, strict=True)
            ]
            choose = _chooser(settings, generators)
            new_tokens = self._decode(
                [encoded[i] for i, _ in batch],
                [r.max_new_tokens for r in settings],
                choose,
                stop=[r.stop for r in settings],
            )
            decoded = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            for row, text in zip(batch, decoded, strict=True):
                texts[row] = cut_at_stop(text, requests[row[0]].stop)
            if progress:
                progress(len({i for i, j in batch if j == requests[i].n - 1}))
        return [[texts[(i, j)] for j in range(r.n)] for i, r in enumerate(requests)]

    def _decode(
        self,
        prompts: Sequence[Sequence[int]],
        max_new_tokens: Sequence[int],
        choose: Choose,
        *,
        stop: Sequence[tuple[str, ...]] | None = None,
        ignore_eos: bool = False,
        on_first_token: Callable[[], None] | None = None,
    ) -> list[list[int]]:
        """Token-by-token decoding on the cache; each row ends at its own limit, at end of
        sequence (unless ``ignore_eos``) or once its text holds one of its stop strings."""
        rows = len(prompts)
        logits, cache, valid = self._prefill(prompts)
        positions = valid.sum(-1)
        last = logits
        generated: list[list[int]] = [[] for _ in range(rows)]
        live = [limit > 0 for limit in max_new_tokens]
        candidates = [self.stop_candidates(s) if s else frozenset() for s in (stop or [()] * rows)]
        first = True
        while any(live):
            chosen = choose(last, list(range(rows)))
            if first and on_first_token is not None:
                on_first_token()
            first = False
            for row in range(rows):
                if not live[row]:
                    continue
                token = int(chosen[row])
                generated[row].append(token)
                if len(generated[row]) >= max_new_tokens[row] or (
                    not ignore_eos and token == self.eos_token_id
                ):
                    live[row] = False
                elif stop and stop[row] and token in candidates[row]:
                    text = self.tokenizer.decode(generated[row], skip_special_tokens=True)
                    live[row] = not any(marker and marker in text for marker in stop[row])
            if not any(live):
                break
            step_ids = np.asarray([[g[-1]] for g in generated], dtype=np.int64)
            valid = np.concatenate([valid, np.ones((rows, 1), dtype=bool)], axis=1)
            mask = valid[:, None, None, :]
            step_logits, cache = self._run(step_ids, positions[:, None], mask, cache)
            positions = positions + 1
            last = step_logits[:, -1, :]
        return generated

    # -- speed and footprint (the PerformanceModel capability) --------------------------------

    def clock(self) -> Clock:
        return PerfCounterClock()

    def timed_generate(
        self, batch_size: int, prompt_tokens: int, new_tokens: int, clock: Clock, *, seed: int = 0
    ) -> TimedRun:
        prompts = self.timing_prompts(batch_size, prompt_tokens, new_tokens, seed=seed)
        marks: list[float] = []
        clock.sync()
        start = clock.now()
        tokens = self._decode(
            prompts.tolist(),
            [new_tokens] * batch_size,
            lambda logits, _rows: logits.argmax(-1),
            ignore_eos=True,
            on_first_token=lambda: marks.append(clock.now()),
        )
        clock.sync()
        end = clock.now()
        return TimedRun(
            batch_size=batch_size,
            prompt_tokens=prompt_tokens,
            new_tokens=min(len(t) for t in tokens),
            prefill_seconds=(marks[0] if marks else end) - start,
            total_seconds=end - start,
        )

    def footprint(self) -> Footprint:
        return self._footprint

    def reset_peak_memory(self) -> None:
        """ONNX Runtime on a CPU: the resources probe reads the process's own memory."""

    def peak_memory(self) -> DeviceMemory:
        return DeviceMemory()

    def energy_joules(self) -> float | None:
        return None


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    """Per row, log Σ exp: the maximum taken out, the sum in float32 (numpy sums pairwise, so
    the result is exact to float32 rounding, as the transformers engine's ``logsumexp``)."""
    top = logits.max(-1)
    return top + np.log(np.exp(logits - top[:, None]).sum(-1))


def _chooser(settings: Sequence[SamplingRequest], generators: list[torch.Generator]) -> Choose:
    """Greedy rows take the argmax; sampled rows one draw each from their own generator."""
    sampled = [i for i, r in enumerate(settings) if r.temperature > 0]
    temperature = torch.tensor([settings[i].temperature for i in sampled])
    top_p = torch.tensor([settings[i].top_p for i in sampled])

    def choose(logits: np.ndarray, _rows: list[int]) -> np.ndarray:
        chosen = logits.argmax(-1)
        if sampled:
            rows = torch.from_numpy(logits[sampled]).float()
            uniforms = torch.cat([torch.rand(1, generator=generators[i]) for i in sampled])
            probs = torch.softmax(rows / temperature[:, None], dim=-1)
            chosen[sampled] = draw_tokens(probs, top_p, uniforms).numpy()
        return chosen

    return choose


def graph_footprint(path: Path, *, device: str, bytes_on_disk: int | None) -> Footprint:
    """Parameters of an ONNX graph: its initializers, counted by element type."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    by_type: dict[str, int] = {}
    elements = 0
    for tensor in graph.initializer:
        count = int(np.prod(tensor.dims)) if tensor.dims else 1
        kind = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)
        name = np.dtype(kind).name
        by_type[name] = by_type.get(name, 0) + count * np.dtype(kind).itemsize
        elements += count
    main = max(by_type, key=lambda k: by_type[k]) if by_type else "float32"
    return Footprint(
        parameters=elements,
        parameter_bytes=by_type,
        buffer_bytes=0,
        device=device,
        device_name=hf_perf.device_name(
            torch.device("cuda" if device.startswith("cuda") else "cpu")
        ),
        dtype=main,
        bytes_on_disk=bytes_on_disk,
    )


def session_for(path: Path, providers: Sequence[str]) -> Any:
    """An ONNX Runtime session on ``providers`` (in order), all graph optimisations on."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: keep a normal run's output clean
    return onnxruntime.InferenceSession(str(path), options, providers=list(providers))
