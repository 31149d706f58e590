"""The suite's own contract: the slow tests are marked, and a marked test gets the margin a busy machine needs."""

from __future__ import annotations

import pytest
from conftest import SLOW_TIMEOUT


def test_every_slow_test_has_at_least_the_slow_timeout(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if not slow:
        pytest.skip("run with the slow tests selected")
    for item in slow:
        marker = item.get_closest_marker("timeout")
        assert marker is not None and marker.args[0] >= SLOW_TIMEOUT, item.nodeid
    # the files of process, Ray, fault and embedded-model tests are slow as a whole
    for name in ("test_ray.py", "test_faults.py", "test_workers.py", "test_isolation.py", "test_local_model.py"):
        mine = [item for item in items if item.nodeid.startswith(f"tests/{name}::")]
        assert all(item.get_closest_marker("slow") for item in mine), name
