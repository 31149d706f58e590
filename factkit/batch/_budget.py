"""The cost budget of a batch: money spent plus what the articles in flight may cost."""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING, TypeVar

from .._errors import UsageError

if TYPE_CHECKING:
    pass

log = logging.getLogger("factkit")
R = TypeVar("R")


class Budget:
    """Money spent so far plus what the articles in flight may cost, against a limit (USD)."""

    def __init__(self, limit: float) -> None:
        if not math.isfinite(limit) or limit < 0:
            raise UsageError(f"max_cost={limit} is not a budget; give a finite, non-negative amount in USD, e.g. 5.00")
        self.limit = limit
        self.spent = 0.0
        self.reserved = 0.0
        self.stopped = False
        self._lock = threading.Lock()

    def reserve(self, estimate: float) -> bool:
        with self._lock:
            if self.stopped or self.spent + self.reserved + estimate > self.limit:
                self.stopped = True
                return False
            self.reserved += estimate
            return True

    def settle(self, estimate: float, actual: float) -> None:
        with self._lock:
            self.reserved = max(0.0, self.reserved - estimate)
            self.spent += actual

    def add(self, actual: float) -> None:
        with self._lock:
            self.spent += actual


# ---- the run --------------------------------------------------------------------------------------------
