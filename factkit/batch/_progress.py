"""The progress display of a batch on a terminal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from .._cost import format_usd

if TYPE_CHECKING:
    pass

if TYPE_CHECKING:
    from ._runner import BatchOutcome

log = logging.getLogger("factkit")
R = TypeVar("R")


class _Display:
    """A progress bar on stderr (rate and ETA) when it is a terminal; nothing otherwise."""

    def __init__(self, total: int | None, *, enabled: bool | None) -> None:
        self.total = total
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Display:
        if self.enabled is False:
            return self
        from rich.console import Console

        console = Console(stderr=True)
        if not console.is_terminal:
            return self
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]extracting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
        )
        self._progress.__enter__()
        self._task = self._progress.add_task("extract", total=self.total, rate="", status="")
        return self

    def advance(self, outcome: BatchOutcome) -> None:
        if self._progress is None:
            return
        task = self._progress.tasks[0]
        speed = task.speed
        rate = f"{speed:.1f}/s" if speed else ""
        status = f"{outcome.failed} failed · {format_usd(outcome.cost_usd) if outcome.cost_usd is not None else '$?'}"
        self._progress.update(self._task, advance=1, rate=rate, status=status)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
