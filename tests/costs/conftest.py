"""A run store filled by real runs (scripted, instant models priced by the workspace's pricing.yaml)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents_core.cli.app import app
from agents_core.runs import default_service
from tests.fakes import Script, scripted_provider
from tests.samples import THREE_STEPS

PRICING_V1 = "date: 2026-01-01\nprices: {scripted: {'*': {input_per_mtok: 1000, output_per_mtok: 2000}}}\n"
PRICING_V2 = "date: 2026-06-01\nprices: {scripted: {'*': {input_per_mtok: 500, output_per_mtok: 500}}}\n"


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1"})


def cli_json(*args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def flow(name: str, provider: str = "scripted") -> dict[str, Any]:
    data = copy.deepcopy(THREE_STEPS)
    data["flow"]["name"] = name
    data["config"]["llm"]["provider"] = provider
    return data


@pytest.fixture
def service(run_store: Path) -> Iterator[Any]:
    service = default_service()
    try:
        yield service
    finally:
        service.shutdown(timeout=10)


@pytest.fixture
def filled(service: Any, isolated_workspace: Path) -> Iterator[dict[str, list[str]]]:
    """Two priced runs of 'alpha', one of 'beta' (3 nodes of 10 in / 5 out tokens each), one unpriced run of 'gamma'."""
    (isolated_workspace / "pricing.yaml").write_text(PRICING_V1)
    with scripted_provider(Script()), scripted_provider(Script(), name="mystery"):
        yield run_the_mix(service)


def run_the_mix(
    service: Any, shape: Callable[[str, dict[str, Any]], None] | None = None, **start: Any
) -> dict[str, list[str]]:
    """alpha ×2 and beta on the priced ``scripted`` provider, gamma on the unpriced ``mystery`` one (both
    registered by the caller); ``shape(name, workflow)`` may change a workflow first. Their run ids, by name."""
    ids: dict[str, list[str]] = {"alpha": [], "beta": [], "gamma": []}
    for name, provider in (("alpha", "scripted"), ("alpha", "scripted"), ("beta", "scripted"), ("gamma", "mystery")):
        data = flow(name, provider)
        if shape is not None:
            shape(name, data)
        result = service.start(data, {"topic": "cats"}, **start).wait(timeout=60)
        assert result.ok, result.error
        ids[name].append(result.run_id)
    return ids
