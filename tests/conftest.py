"""Shared fixtures: an isolated environment, zero retry waits, a scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from factkit import Extractor, resolve_settings
from factkit.testing import FakeOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test sees the developer's keys or endpoints, and every test has its own cache folder."""
    import os

    for name in list(os.environ):
        if name.startswith(("FACTKIT_", "OPENAI_")):
            monkeypatch.delenv(name, raising=False)
    cache = tmp_path / "factkit-cache"
    monkeypatch.setenv("FACTKIT_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def remote_extractor(fake_server: FakeOpenAIServer) -> Extractor:
    """An Extractor on the real openai client against the fake server, with zero retry waits and no cache."""
    settings = resolve_settings(
        base_url=fake_server.base_url,
        api_key="sk-test-SECRET-0123456789",
        model="fake-model",
        retry_wait_multiplier=0.0,
        timeout=5.0,
        cache=False,
    )
    return Extractor(settings=settings)


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")
