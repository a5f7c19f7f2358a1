"""`costs reprice` (a diff at today's prices; history changes only with --apply) and `costs prune` (issue 10 §3)."""

from __future__ import annotations

import sqlite3
import time

import pytest

from agents_core.costs.prune import register_prune_hook, unregister_prune_hook
from agents_core.llm.pricing import PriceBook
from tests.costs.conftest import PRICING_V2, cli, cli_json


def test_reprice_shows_the_diff_without_changing_history(filled, isolated_workspace, service):
    before = service.get(filled["alpha"][0])
    (isolated_workspace / "pricing.yaml").write_text(PRICING_V2)
    new_node = PriceBook.from_file(isolated_workspace / "pricing.yaml").cost("scripted", "scripted-1", 10, 5).usd
    data = cli_json("costs", "reprice")
    groups = {(g["workflow"], g["model"]): g for g in data["groups"]}
    alpha = groups[("alpha", "scripted/scripted-1")]
    assert alpha["nodes"] == 6
    assert alpha["old_usd"] == pytest.approx(6 * before.nodes[0]["cost_usd"])
    assert alpha["new_usd"] == pytest.approx(6 * new_node)
    assert alpha["delta_usd"] == pytest.approx(alpha["new_usd"] - alpha["old_usd"])
    gamma = groups[("gamma", "mystery/scripted-1")]
    assert gamma["old_unpriced_nodes"] == gamma["new_unpriced_nodes"] == 3 and gamma["new_usd"] == 0
    assert data["total"]["runs"] == 4 and data["applied"] is False
    assert "pricing.yaml 2026-06-01" in data["price_sources"]
    assert service.get(filled["alpha"][0]).cost_usd == before.cost_usd  # nothing written

    text = cli("costs", "reprice")
    assert text.exit_code == 0 and "TOTAL" in text.stdout and "nothing was changed" in text.stdout


def test_reprice_apply_rewrites_costs_and_price_source(filled, isolated_workspace, service):
    (isolated_workspace / "pricing.yaml").write_text(PRICING_V2)
    new_node = PriceBook.from_file(isolated_workspace / "pricing.yaml").cost("scripted", "scripted-1", 10, 5).usd
    data = cli_json("costs", "reprice", "--apply")
    assert data["runs_changed"] == 3  # the unpriced run stays unpriced
    info = service.get(filled["beta"][0])
    assert info.cost_usd == pytest.approx(3 * new_node)
    assert {n["price_source"] for n in info.nodes} == {"pricing.yaml 2026-06-01"}
    assert service.get(filled["gamma"][0]).cost_usd is None
    assert cli_json("costs", "reprice")["total"]["delta_usd"] == pytest.approx(0)


def test_reprice_with_another_pricing_file_and_a_missing_one(filled, tmp_path):
    other = tmp_path / "prices.yaml"
    other.write_text("date: 2027-01-01\nprices: {mystery: {'*': {input_per_mtok: 1, output_per_mtok: 1}}}\n")
    data = cli_json("costs", "reprice", "--pricing", str(other), "--workflow", "gamma")
    assert data["total"]["old_unpriced_nodes"] == 3 and data["total"]["new_unpriced_nodes"] == 0
    assert data["total"]["new_usd"] == pytest.approx(3 * 15 / 1_000_000)
    missing = cli("costs", "reprice", "--pricing", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def _age(store_path, run_ids, days):
    with sqlite3.connect(store_path) as db:
        for run_id in run_ids:
            db.execute("UPDATE runs SET created_at = ? WHERE run_id = ?", (time.time() - days * 86_400, run_id))


def test_prune_deletes_runs_older_than_the_given_days(filled, run_store, service):
    old = filled["alpha"]
    _age(run_store, old, 40)
    dry = cli_json("costs", "prune", "--older-than", "30", "--dry-run")
    assert sorted(dry["run_ids"]) == sorted(old) and dry["dry_run"]
    assert len(service.list(limit=None)) == 4
    calls = []

    def hook(ids, days):
        calls.append((sorted(ids), days))
        return len(ids)

    register_prune_hook(hook)
    try:
        result = cli("costs", "prune", "--older-than", "30")
    finally:
        unregister_prune_hook(hook)
    assert result.exit_code == 0 and "deleted 2 run(s)" in result.stdout
    assert calls == [(sorted(old), 30.0)]
    left = {info.run_id for info in service.list(limit=None)}
    assert left == {*filled["beta"], *filled["gamma"]}
    with sqlite3.connect(run_store) as db:
        assert db.execute("SELECT COUNT(*) FROM run_events WHERE run_id = ?", (old[0],)).fetchone()[0] == 0
    assert cli_json("costs", "report")["total"]["runs"] == 2


def test_prune_without_days_uses_each_workflows_retention(service, isolated_workspace, run_store):
    from tests.costs.conftest import flow
    from tests.fakes import Script, scripted_provider

    kept, retained = flow("kept"), flow("retained")
    retained["config"]["observability"] = {"mlflow": {"retention_days": 7}}
    with scripted_provider(Script()):
        ids = [service.start(f, {"topic": "x"}).wait(timeout=60).run_id for f in (kept, retained, retained)]
    _age(run_store, ids[:2], 10)  # the 'kept' run and one 'retained' run are 10 days old
    data = cli_json("costs", "prune")
    assert data["run_ids"] == [ids[1]]
    assert {i.run_id for i in service.list(limit=None)} == {ids[0], ids[2]}


def test_prune_refuses_negative_days(run_store):
    result = cli("costs", "prune", "--older-than", "-1")
    assert result.exit_code == 2 and "negative" in result.stderr
