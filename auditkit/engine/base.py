"""The interface between probes and models.

Like lm-eval's ``LM``, it has a few batched methods that take a list of requests. Every backend
(transformers, the deterministic mock, later ONNX Runtime or GGUF runtimes) fits behind it, and
probes never see anything else of a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from auditkit.engine.timing import Clock, TimedRun

ProgressCallback = Callable[[int], None]
"""Called with the number of requests just finished."""


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """Score ``continuation`` as the text that follows ``context``."""

    context: str
    continuation: str


@dataclass(frozen=True)
class Loglikelihood:
    logprob: float
    """Sum of the natural-log probabilities of the continuation's tokens."""
    is_greedy: bool
    """Whether greedy decoding from the context would produce exactly the continuation's tokens."""
    n_tokens: int
    """Number of continuation tokens scored."""


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    max_new_tokens: int = 64
    stop: tuple[str, ...] = ()
    """Generation ends at the first of these strings; it is not part of the returned text."""


@runtime_checkable
class LanguageModel(Protocol):
    """What probes may ask of a language model (tasks ``text-generation`` and ``text2text``)."""

    @property
    def name(self) -> str: ...

    @property
    def max_length(self) -> int:
        """Longest token sequence the model accepts."""
        ...

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]: ...

    def loglikelihood_rolling(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[float]:
        """Log-likelihood of each whole text (for perplexity), in windows of ``max_length``."""
        ...

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        """Greedy continuations of each prompt, cut at the first stop string."""
        ...

    def format_chat(self, user_message: str) -> str:
        """The prompt text for a single user turn, in the model's chat template if it has one."""
        ...


class WrongModelTask(TypeError):
    """A probe was given a model of another task (a classifier where it needs a language model)."""


EngineT = TypeVar("EngineT")


def engine_as(engine: object, interface: type[EngineT], needed_by: str) -> EngineT:
    """``engine`` as ``interface`` (a runtime-checkable protocol of one task), or
    ``WrongModelTask`` saying what ``needed_by`` needs and what the model is."""
    if isinstance(engine, interface):
        return engine
    name = getattr(engine, "name", type(engine).__name__)
    what = next(
        (phrase for known, phrase in _PHRASES.items() if isinstance(engine, known)),
        f"a {type(engine).__name__}",
    )
    needed = _PHRASES.get(interface, interface.__name__)
    raise WrongModelTask(f"{needed_by} needs {needed}; {name} is {what}")


_PHRASES: dict[type, str] = {}


def describe_interface(interface: type, phrase: str) -> None:
    """Name a task interface in error messages, e.g. ``"a sequence classifier (task: …)"``."""
    _PHRASES[interface] = phrase


describe_interface(LanguageModel, "a language model (task: text-generation or text2text)")


class DeviceOutOfMemory(RuntimeError):
    """The accelerator ran out of memory for the requested work (a smaller batch may fit)."""


@dataclass(frozen=True)
class Footprint:
    """What a loaded model occupies, measured on the loaded object."""

    parameters: int
    """Number of parameter elements (quantized weights included)."""
    parameter_bytes: dict[str, int]
    """Bytes of parameters by element type, e.g. ``{"float32": 538_000_000}``."""
    buffer_bytes: int
    """Bytes of non-parameter tensors the model keeps (e.g. rotary tables)."""
    device: str
    """Where the weights live, e.g. ``cpu`` or ``cuda:0``."""
    device_name: str
    """The processor's or the accelerator's product name."""
    dtype: str
    """The element type holding most parameter bytes."""
    bytes_on_disk: int | None = None
    """Size of the weight files the model was loaded from, when the engine was told."""


@dataclass(frozen=True)
class DeviceMemory:
    """Accelerator memory peaks since the last reset; every field is ``None`` on a CPU."""

    peak_allocated_bytes: int | None = None
    """Most memory held by tensors at any one time."""
    peak_reserved_bytes: int | None = None
    """Most memory the framework's caching allocator held from the driver."""
    process_bytes: int | None = None
    """Memory the driver reports this process using now (allocator, kernels and context)."""


@runtime_checkable
class ResourceModel(Protocol):
    """Optional engine capability: the engine's clock, footprint and memory readings.

    The ``resources`` probe needs it; every task's engines offer it where they can."""

    def clock(self) -> Clock:
        """The clock that suits this engine's device (waits for the device before reading)."""
        ...

    def footprint(self) -> Footprint: ...

    def reset_peak_memory(self) -> None:
        """Start a new window for ``peak_memory``."""
        ...

    def peak_memory(self) -> DeviceMemory: ...

    def energy_joules(self) -> float | None:
        """The accelerator's cumulative energy counter in joules, or ``None`` without one."""
        ...


@runtime_checkable
class PerformanceModel(ResourceModel, Protocol):
    """Optional capability of language-model engines: timed synthetic generation.

    Probes that measure generation speed (``latency``, ``resources``' throughput) need it; an
    engine without it makes those probes fail with a clear message.
    """

    def timed_generate(
        self, batch_size: int, prompt_tokens: int, new_tokens: int, clock: Clock, *, seed: int = 0
    ) -> TimedRun:
        """Greedily generate exactly ``new_tokens`` tokens (end-of-sequence ignored) for
        ``batch_size`` synthetic prompts of exactly ``prompt_tokens`` token ids drawn from
        ``seed``, timing the first token and the whole call with ``clock``.

        Raises ``DeviceOutOfMemory`` when the batch does not fit."""
        ...


@dataclass(frozen=True)
class TimedBatch:
    """One timed call of a non-generating engine on a batch of synthetic inputs."""

    batch_size: int
    """Inputs in the call (texts, images or audio clips)."""
    units: float
    """Work done, in the task's unit (``auditkit.tasks.ITEM_UNITS``): texts, images, or seconds
    of audio."""
    seconds: float
    """From the start of the call until every output exists."""


@runtime_checkable
class BatchTimingModel(ResourceModel, Protocol):
    """Optional capability of engines that do not generate text (classifiers, speech, vision):
    their own call, timed on synthetic inputs of a fixed size.

    The ``latency`` probe times these engines through it."""

    def timed_batch(self, batch_size: int, clock: Clock, *, seed: int = 0) -> TimedBatch:
        """Run the engine's main call (``classify``, ``transcribe``, ``classify_images``,
        ``detect``) on ``batch_size`` synthetic inputs drawn from ``seed`` — texts of 64 tokens,
        5 s clips, images at the model's input size — and time it with ``clock``.

        Raises ``DeviceOutOfMemory`` when the batch does not fit."""
        ...


def config_labels(config: Any) -> list[str]:
    """The output labels of a transformers classification config, in the model's order: its
    ``id2label`` names, ``LABEL_<i>`` where one is missing."""
    id2label = getattr(config, "id2label", None) or {}
    count = int(getattr(config, "num_labels", len(id2label)))
    return [str(id2label.get(i, f"LABEL_{i}")) for i in range(count)]


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to (not including) the earliest of the ``stop`` strings."""
    cut = len(text)
    for marker in stop:
        if marker:
            found = text.find(marker)
            if found != -1:
                cut = min(cut, found)
    return text[:cut]
