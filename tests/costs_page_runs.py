"""A workspace whose run store is filled by real runs, for the Runs & Costs page's tests (AppTest and browser).

Scripted, instant models priced by the workspace's ``pricing.yaml``: ``alpha``
(two successes, one of them moved 40 days back), ``beta`` (a success and a run
that fails at node ``second``) and ``gamma`` on a model no source prices. The
``alpha.yaml`` file in the workspace sets ``monthly_budget_usd``.
"""

from __future__ import annotations

import copy
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents_core.runs import RunInfo, RunService
from agents_core.runs.store import STORE_ENV, default_store_path
from agents_core.workspace import WORKSPACE_ENV
from tests.fakes import Script, scripted_provider
from tests.samples import THREE_STEPS

REPO_ROOT = Path(__file__).resolve().parents[1]
PRICING = "date: 2026-01-01\nprices: {scripted: {'*': {input_per_mtok: 1000, output_per_mtok: 2000}}}\n"
PRICE_SOURCE = "pricing.yaml 2026-01-01"
ALPHA_BUDGET = 0.1
OLD_DAYS = 40


def flow(name: str, provider: str = "scripted", budget: float | None = None) -> dict[str, Any]:
    data = copy.deepcopy(THREE_STEPS)
    data["flow"]["name"] = name
    data["config"]["llm"]["provider"] = provider
    if budget is not None:
        data["config"]["execution"]["monthly_budget_usd"] = budget
    return data


def fill(folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[RunInfo]]:
    """Copy the examples into ``folder``, add pricing and a budgeted workflow, and run the runs; their stored rows by workflow."""
    shutil.copytree(REPO_ROOT / "examples", folder)
    (folder / "pricing.yaml").write_text(PRICING, encoding="utf-8")
    (folder / "alpha.yaml").write_text(yaml.safe_dump(flow("alpha", budget=ALPHA_BUDGET)), encoding="utf-8")
    monkeypatch.setenv(WORKSPACE_ENV, str(folder))
    monkeypatch.delenv(STORE_ENV, raising=False)  # the workspace's own store, as the page reads it
    store_path = default_store_path(folder)
    service = RunService(store_path)
    ids: dict[str, list[str]] = {"alpha": [], "beta": [], "gamma": []}
    plan = [
        ("alpha", "scripted", Script()),
        ("alpha", "scripted", Script()),
        ("beta", "scripted", Script()),
        ("beta", "scripted", Script({"second": [ValueError("the reply was not usable")]})),
        ("gamma", "mystery", Script()),
    ]
    try:
        for name, provider, script in plan:
            with scripted_provider(script, name=provider):
                result = service.start(flow(name, provider), {"topic": "tide pools"}).wait(timeout=120)
            assert result.status == ("failed" if script.replies else "success"), result.error
            ids[name].append(result.run_id)
    finally:
        service.shutdown(timeout=10)
    old = ids["alpha"][0]  # a run of an earlier month: the date filter and the periods tell it apart
    back = OLD_DAYS * 86400
    with sqlite3.connect(store_path) as db:
        db.execute(
            "UPDATE runs SET created_at = created_at - ?, started_at = started_at - ?, "
            "finished_at = finished_at - ? WHERE run_id = ?",
            (back, back, back, old),
        )
    reader = RunService(store_path)
    try:
        return {name: [reader.get(run_id) for run_id in run_ids] for name, run_ids in ids.items()}
    finally:
        reader.shutdown(timeout=10)


def all_runs(runs: dict[str, list[RunInfo]]) -> list[RunInfo]:
    return [info for infos in runs.values() for info in infos]


def day_of(info: RunInfo) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(info.created_at))
