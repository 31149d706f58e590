"""The package's public surface says what it is: names, limits and the Python it needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

import factkit
from factkit._records import KEY_POINTS

ROOT = Path(__file__).resolve().parent.parent


def test_every_public_name_ending_in_error_is_an_exception() -> None:
    # `except factkit.BatchError:` raised TypeError while BatchError was a record; it is BatchFailure now
    for name in factkit.__all__:
        if name.endswith("Error"):
            obj = getattr(factkit, name)
            assert isinstance(obj, type) and issubclass(obj, BaseException), name
    assert not issubclass(factkit.BatchFailure, BaseException)


def test_requires_python_admits_no_version_the_code_cannot_import() -> None:
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    low = tuple(int(p) for p in re.fullmatch(r">=\s*(\d+)\.(\d+)", spec).groups())  # type: ignore[union-attr]
    uses_unpack = any(
        re.search(r"from typing import [^\n]*\bUnpack\b", p.read_text(encoding="utf-8"))
        for p in (ROOT / "factkit").rglob("*.py")
    )
    if uses_unpack:  # typing.Unpack is new in 3.11
        assert low >= (3, 11), spec


def test_the_key_points_description_matches_the_cap() -> None:
    text = factkit.Summary.model_fields["key_points"].description or ""
    assert f"Up to {KEY_POINTS} key points" in text


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:/v1", "127.0.0.1:8080/v1", "ftp://example.com/v1", "http://:8080/v1", "http://host:port/v1"],
)
def test_a_malformed_base_url_is_refused_before_any_call(url: str) -> None:
    with pytest.raises(factkit.UsageError, match="is malformed"):
        factkit.resolve_settings(base_url=url, api_key="k")


def test_a_well_formed_base_url_is_accepted() -> None:
    assert factkit.resolve_settings(base_url="http://localhost:11434/v1").base_url == "http://localhost:11434/v1"


def test_python_m_factkit_testing_serve_answers_the_cli_and_stops_on_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys

    from factkit.cli import main

    proc = subprocess.Popen(
        [sys.executable, "-m", "factkit.testing", "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("FACTKIT_BASE_URL=http://127.0.0.1:")
        monkeypatch.setenv("FACTKIT_BASE_URL", line.split("=", 1)[1])
        monkeypatch.setenv("FACTKIT_API_KEY", "test")
        monkeypatch.setenv("FACTKIT_MODEL", "fake-model")
        article = tmp_path / "a.txt"
        article.write_text(
            "The council approved a new park in Leeds on Monday. Residents had campaigned for two years.\n"
        )
        assert main(["extract", str(article), "--no-cache"]) == 0
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
