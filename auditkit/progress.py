"""Progress display: a live rich bar on a terminal, plain periodic log lines otherwise (CI)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RunProgress(Protocol):
    def stage(self, text: str) -> None:
        """A new step began (loading a model, starting a probe)."""

    def set_total(self, total: int) -> None: ...

    def advance(self, steps: int) -> None: ...

    def note(self, text: str) -> None:
        """A line worth keeping in the log (a finished probe, an error)."""

    def close(self) -> None: ...


class LogProgress:
    """One line per stage, and a progress line at most every ``interval`` seconds."""

    def __init__(
        self,
        stream: TextIO | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stdout
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._stage = ""
        self._total = 0
        self._done = 0
        self._last = self.started

    def _print(self, text: str) -> None:
        print(f"[{self.clock() - self.started:7.1f}s] {text}", file=self.stream, flush=True)

    def stage(self, text: str) -> None:
        self._stage, self._total, self._done = text, 0, 0
        self._last = self.clock()
        self._print(text)

    def set_total(self, total: int) -> None:
        self._total += total

    def advance(self, steps: int) -> None:
        self._done += steps
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            self._print(f"{self._stage}: {self._done}/{self._total or '?'}")

    def note(self, text: str) -> None:
        self._print(text)

    def close(self) -> None:
        self._print("done")


class RichProgress:
    """A live progress bar for interactive terminals."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task("starting", total=None)

    def stage(self, text: str) -> None:
        self._bar.update(self._task, visible=False)
        self._task = self._bar.add_task(text, total=None)

    def set_total(self, total: int) -> None:
        current = self._bar.tasks[-1].total or 0
        self._bar.update(self._task, total=current + total)

    def advance(self, steps: int) -> None:
        self._bar.advance(self._task, steps)

    def note(self, text: str) -> None:
        self._bar.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        self._bar.stop()


def progress_for_stdout() -> RunProgress:
    return RichProgress() if sys.stdout.isatty() else LogProgress()
