"""``executor: ray``: each model is one Ray task, on an existing cluster or a local one.

One task per model, not per (model × probe): loading a model (reading and placing gigabytes of
weights) often costs more than a probe, and per-probe tasks would load it once per probe. A task
asks for ``ray.num_gpus_per_model`` GPUs (Ray then sets ``CUDA_VISIBLE_DEVICES`` for it, and a
model with ``device_map: auto`` shards over exactly those) and runs in a worker process used for
that one task (``max_calls=1``), so GPU memory is back when the task ends. Messages travel
through a Ray queue, each put before the task goes on, so progress and finished probes arrive as
they happen, each finished probe is cached at once, and what a task said before its worker died
is never lost (a streaming generator task may drop the items it yielded last when its worker
dies).

On a cluster of several machines, the suite, its data files and local model folders must be at
the same paths on every node (a shared file system), and auditkit installed on each.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from auditkit.errors import UserError
from auditkit.executors import Sink
from auditkit.worker import Done, Message, ModelWork, WorkerDied, WorkerRequest, request_for, serve

if TYPE_CHECKING:
    from auditkit.suite import Suite

_POLL_SECONDS = 0.5
"""How long the driver waits for a message before it checks whether a task ended."""


def model_task(request: WorkerRequest, messages: Any) -> None:
    """The Ray task: ``serve`` one model, each message put on the run's queue before going on.

    ``put`` returns once the queue holds the message, so whatever a task reported before its
    worker died (which probe it was running, say) is never lost.
    """
    model_id = request.work.model_id
    serve(request, lambda message: messages.put((model_id, message)))


class RayExecutor:
    """Fans models out over a Ray cluster (``ray.address``) or a local Ray instance.

    When Ray is already initialised in this process (a caller's ``ray.init``), that session is
    used and left open.
    """

    def __init__(self, suite: Suite) -> None:
        if importlib.util.find_spec("ray") is None:  # bad input, found before anything runs
            raise UserError(
                "executor: ray needs Ray: pip install 'auditkit[ray]' (or pip install ray)"
            )
        self.suite = suite
        self._started_ray = False

    def _connect(self) -> Any:
        import ray

        if not ray.is_initialized():
            ray.init(address=self.suite.ray.address, log_to_driver=False)
            self._started_ray = True
        return ray

    def _gpus_per_model(self, ray: Any) -> float:
        wanted = self.suite.ray.num_gpus_per_model
        available = float(ray.cluster_resources().get("GPU", 0))
        if wanted is None:
            return 1.0 if available >= 1 and self.suite.device != "cpu" else 0.0
        if wanted > available:
            raise UserError(
                f"ray.num_gpus_per_model: each model asks for {wanted:g} GPUs, but the Ray "
                f"cluster has {available:g}; the tasks would wait forever"
            )
        return wanted

    def run(self, works: Sequence[ModelWork], sink: Sink) -> None:
        ray = self._connect()
        from ray.util.queue import Queue

        task = ray.remote(
            num_cpus=self.suite.ray.num_cpus_per_model,
            num_gpus=self._gpus_per_model(ray),
            max_calls=1,  # a fresh worker process per model: GPU memory is freed between models
            max_retries=0,  # a crashed model is an error row, not a silent rerun
        )(model_task)
        messages = Queue()
        running = {
            task.remote(request_for(self.suite, work, self.suite.device), messages): work.model_id
            for work in works
        }
        try:
            _relay(ray, messages, running, sink)
        finally:
            for ref in running:
                ray.cancel(ref, force=True)
            messages.shutdown()

    def close(self) -> None:
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False


def _relay(ray: Any, messages: Any, running: dict[Any, str], sink: Sink) -> None:
    """Pass messages on until every task ended; a task that ended without ``Done`` (its worker
    died, or its node) gets ``WorkerDied``."""
    from ray.util.queue import Empty

    finished: set[str] = set()

    def deliver(model_id: str, message: Message) -> None:
        sink(model_id, message)
        if isinstance(message, Done):
            finished.add(model_id)

    while running:
        try:
            deliver(*messages.get(timeout=_POLL_SECONDS))
            continue
        except Empty:
            pass
        ended, _ = ray.wait(list(running), num_returns=len(running), timeout=0)
        if not ended:
            continue
        for item in messages.get_nowait_batch(messages.qsize()):  # all they sent before ending
            deliver(*item)
        for ref in ended:
            model_id = running.pop(ref)
            if model_id not in finished:
                sink(model_id, WorkerDied(_why(ray, ref)))


def _why(ray: Any, ref: Any) -> str:
    try:
        ray.get(ref)
    except Exception as exc:  # the worker process or its node died
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"the Ray task failed: {type(exc).__name__}: {text}"
    return "the Ray task ended before finishing"
