"""``configurable-agents runs list|show|cancel`` and cancelling ``run`` (Ctrl+C, SIGTERM, another process).

The store is filled by real runs of the run service with a scripted provider
(tests/runs/conftest.py); the commands run in-process through Typer's
CliRunner, and the signal tests start the real entry point in a subprocess
whose scripted model takes a minute on its second node.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents_core.cli import app
from agents_core.llm.registry import ProviderInfo, register_provider, unregister_provider
from agents_core.runs import default_service
from agents_core.runs.store import SqliteRunStore
from tests.conftest import REPO_ROOT
from tests.fakes import Script
from tests.runs.conftest import AsyncScriptedChatModel, Slow
from tests.samples import THREE_STEPS


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1"})


@pytest.fixture
def script() -> Iterator[Script]:
    script = Script()
    register_provider(
        ProviderInfo(
            "scripted", "scripted", default_model="scripted-1", factory=lambda s: AsyncScriptedChatModel(script=script)
        )
    )
    try:
        yield script
    finally:
        unregister_provider("scripted")


@pytest.fixture
def service(run_store: Path) -> Iterator[Any]:
    """The very service the commands use (the process's one for ``$AGENTS_RUN_STORE``)."""
    service = default_service()
    try:
        yield service
    finally:
        service.shutdown(timeout=10)


def other_flow() -> dict[str, Any]:
    flow = json.loads(json.dumps(THREE_STEPS))
    flow["flow"]["name"] = "other_flow"
    return flow


@pytest.fixture
def filled(service: Any, script: Script) -> dict[str, str]:
    """Three finished runs: a success, a failure in node 'second', a success of another workflow."""
    ok = service.start(THREE_STEPS, {"topic": "cats"})
    ok.wait(timeout=30)
    script.replies["second"] = [RuntimeError("the model broke")] * 5
    bad = service.start(THREE_STEPS, {"topic": "dogs"})
    assert bad.wait(timeout=30).status == "failed"
    script.replies.clear()
    other = service.start(other_flow(), {"topic": "owls"})
    other.wait(timeout=30)
    return {"ok": ok.run_id, "failed": bad.run_id, "other": other.run_id}


# -- runs list -------------------------------------------------------------------------------


def test_list_prints_a_plain_table_of_every_run(filled):
    result = cli("runs", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["RUN", "ID", "STATUS", "WORKFLOW", "STARTED", "DURATION", "TOKENS", "COST"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == set(filled.values())
    assert rows[filled["ok"]][1:3] == ["success", "three_steps"]
    assert rows[filled["failed"]][1] == "failed"
    assert rows[filled["other"]][2] == "other_flow"
    assert "30 in / 15 out" in lines[1 + list(rows).index(filled["ok"])]  # three nodes, 10 in / 5 out each
    assert rows[filled["ok"]][-1] == "unpriced"  # the scripted model has no price: never $0
    assert "\x1b[" not in result.stdout  # plain text off a terminal


def test_list_json_filters_by_status_workflow_and_limit(filled):
    every = json.loads(cli("runs", "list", "--json").stdout)
    assert [run["run_id"] for run in every] == [filled["other"], filled["failed"], filled["ok"]]  # newest first
    assert {"run_id", "status", "workflow", "started_at", "duration_s", "input_tokens", "output_tokens"} <= set(
        every[0]
    )
    failed = json.loads(cli("runs", "list", "--status", "failed", "--json").stdout)
    assert [run["run_id"] for run in failed] == [filled["failed"]]
    mine = json.loads(cli("runs", "list", "--workflow", "other_flow", "--json").stdout)
    assert [run["run_id"] for run in mine] == [filled["other"]]
    assert len(json.loads(cli("runs", "list", "--limit", "1", "--json").stdout)) == 1


def test_list_refuses_an_unknown_status(run_store):
    result = cli("runs", "list", "--status", "done")
    assert result.exit_code == 2
    assert "--status 'done' is not a run status" in result.stderr and "success" in result.stderr
    body = json.loads(cli("runs", "list", "--status", "done", "--json").stdout)
    assert body["ok"] is False and body["error"]["type"] == "InputError"


def test_list_of_an_empty_store_says_so(run_store):
    result = cli("runs", "list")
    assert result.exit_code == 0 and "no runs yet" in result.stderr
    assert json.loads(cli("runs", "list", "--json").stdout) == []


# -- runs show --------------------------------------------------------------------------------


def test_show_gives_status_owner_nodes_outputs(filled):
    result = cli("runs", "show", filled["ok"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"run {filled['ok']}" in out and "status:   success" in out and f"pid {os.getpid()}" in out
    for node in ("first", "second", "third"):
        assert any(line.split()[:2] == ["✓", node] for line in out.splitlines()), out
    assert "outputs:" in out and "  c: ok" in out
    assert "events:" not in out


def test_show_of_a_failed_run_names_the_node_and_the_error(filled):
    out = cli("runs", "show", filled["failed"]).stdout
    assert "status:   failed" in out
    assert "error in node 'second'" in out and "the model broke" in out
    data = json.loads(cli("runs", "show", filled["failed"], "--json").stdout)
    assert data["status"] == "failed" and data["error"]["node"] == "second"
    assert [node["id"] for node in data["nodes"]][:1] == ["first"]


def test_show_events_lists_the_log_in_order(filled):
    out = cli("runs", "show", filled["ok"], "--events").stdout
    section = out.split("events:\n", 1)[1].splitlines()
    kinds = [line.split()[2] for line in section]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("node_finished") == 3
    data = json.loads(cli("runs", "show", filled["ok"], "--events", "--json").stdout)
    assert [event["seq"] for event in data["events"]] == list(range(1, len(data["events"]) + 1))
    assert data["outputs"] == {"a": "ok", "b": "ok", "c": "ok"} and data["owner"]["pid"] == os.getpid()


@pytest.mark.parametrize("command", ["show", "cancel"])
def test_an_unknown_run_id_is_a_clear_error_exit_two(run_store, command):
    result = cli("runs", command, "nosuchrun")
    assert result.exit_code == 2
    assert "no run with id 'nosuchrun'" in result.stderr and "runs list" in result.stderr
    assert "Traceback" not in result.output
    as_json = cli("runs", command, "nosuchrun", "--json")
    assert as_json.exit_code == 2
    body = json.loads(as_json.stdout)
    assert body["ok"] is False
    assert set(body["error"]) == {"type", "message", "hint", "node"}
    assert body["error"]["type"] == "RunNotFound" and "nosuchrun" in body["error"]["message"]


# -- runs cancel -------------------------------------------------------------------------------


def test_cancel_stops_a_running_run_of_this_process(service, script, run_store):
    script.replies["second"] = [Slow(60)]
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    wait_for_node(SqliteRunStore(run_store), handle.run_id, "second")
    result = cli("runs", "cancel", handle.run_id)
    assert result.exit_code == 0, result.output
    assert f"cancel requested for run {handle.run_id}" in result.stdout
    final = handle.wait(timeout=10)
    assert final.status == "cancelled" and final.error.node == "second"
    assert json.loads(cli("runs", "list", "--json").stdout)[0]["status"] == "cancelled"


def test_show_of_a_running_run_lists_the_nodes_done_so_far(service, script, run_store):
    script.replies["second"] = [Slow(60)]
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    wait_for_node(SqliteRunStore(run_store), handle.run_id, "second")
    try:
        data = json.loads(cli("runs", "show", handle.run_id, "--json").stdout)
        assert data["status"] == "running" and data["owner"]["pid"] == os.getpid()
        assert [node["id"] for node in data["nodes"]] == ["first"]
        assert "status:   running" in cli("runs", "show", handle.run_id).stdout
    finally:
        handle.cancel()
        handle.wait(timeout=10)


def test_cancel_of_a_finished_run_leaves_it(filled):
    result = cli("runs", "cancel", filled["ok"])
    assert result.exit_code == 0 and "success already; nothing to cancel" in result.stdout
    assert json.loads(cli("runs", "show", filled["ok"], "--json").stdout)["status"] == "success"


def wait_for_node(store: SqliteRunStore, run_id: str, node: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not any(e.kind == "node_started" and e.data.get("node") == node for e in store.events(run_id)):
        assert time.monotonic() < deadline, f"the run never reached node {node!r}"
        time.sleep(0.05)


@pytest.mark.slow
def test_cancel_reaches_a_run_owned_by_another_process(run_store):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    owner = subprocess.Popen(
        [sys.executable, "-m", "tests.runs.owner_process", str(run_store)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        run_id = owner.stdout.readline().strip()  # type: ignore[union-attr]
        assert run_id, "the owner process did not start its run"
        wait_for_node(SqliteRunStore(run_store), run_id, "second")
        result = cli("runs", "cancel", run_id)
        assert result.exit_code == 0, result.output
        assert owner.stdout.readline().strip() == "cancelled"  # type: ignore[union-attr]
        assert owner.wait(20) == 0
        [run] = json.loads(cli("runs", "list", "--json").stdout)
        assert run["run_id"] == run_id and run["status"] == "cancelled"
    finally:
        owner.kill()
        owner.wait(10)


# -- `run` through the service, errors as JSON ---------------------------------------------------


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / "three_steps.yaml"
    path.write_text(json.dumps(THREE_STEPS), encoding="utf-8")
    return path


def test_run_is_recorded_by_the_service_and_listed(service, script, flow_file):
    result = cli("run", str(flow_file), "--input", "topic=cats", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    [run] = json.loads(cli("runs", "list", "--json").stdout)
    assert run["run_id"] == body["run_id"] and run["status"] == "success" and run["workflow"] == "three_steps"


def test_a_failed_run_exits_one_and_resumes_from_its_checkpoint(service, script, flow_file):
    script.replies["second"] = [RuntimeError("the model broke")] * 5
    failed = cli("run", str(flow_file), "--input", "topic=cats")
    assert failed.exit_code == 1
    run_id = json.loads(cli("runs", "list", "--json").stdout)[0]["run_id"]
    assert f"Resume it with: configurable-agents run --resume {run_id}" in failed.stderr
    script.replies.clear()
    script.calls.clear()
    resumed = cli("run", "--resume", run_id, "--json")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["outputs"] == {"a": "ok", "b": "ok", "c": "ok"}
    assert script.calls == ["second", "third"]


@pytest.mark.parametrize(
    ("args", "kind", "words"),
    [
        (["--input", "topc=x"], "InputError", "unknown input 'topc'"),
        ([], "InputError", "missing required input: topic"),
        (["-i", "topic=x", "--provider", "nosuchprovider"], "ProviderError", "nosuchprovider"),
    ],
)
def test_run_json_errors_are_json_on_stdout(service, script, flow_file, args, kind, words):
    result = cli("run", str(flow_file), *args, "--json")
    assert result.exit_code == 2, result.output
    body = json.loads(result.stdout)
    assert body["ok"] is False and set(body["error"]) == {"type", "message", "hint", "node"}
    assert body["error"]["type"] == kind and words in body["error"]["message"]


def test_run_json_of_an_invalid_workflow_and_of_unknown_or_finished_runs(service, script, tmp_path, filled):
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema_version: '1.0'\nflow: {name: x}\nnodes: []\n", encoding="utf-8")
    invalid = cli("run", str(broken), "--json")
    assert invalid.exit_code == 2 and json.loads(invalid.stdout)["error"]["type"] == "ValidationFailed"
    unknown = cli("run", "--resume", "nosuchrun", "--json")
    assert unknown.exit_code == 2 and json.loads(unknown.stdout)["error"]["type"] == "RunNotFound"
    done = cli("run", "--resume", filled["ok"], "--json")
    assert done.exit_code == 2 and json.loads(done.stdout)["error"]["type"] == "RunConflict"
    plain = cli("run", "--resume", filled["ok"])
    assert plain.exit_code == 2 and "already finished successfully" in plain.stderr and not plain.stdout


# -- Ctrl+C and SIGTERM during `run` -----------------------------------------------------------

#: The real entry point, with a scripted provider whose second node takes a minute (registered as a plugin would be).
SLOW_CLI = """
import sys
from agents_core.llm.registry import ProviderInfo, register_provider
from tests.fakes import Script
from tests.runs.conftest import AsyncScriptedChatModel, Slow
from tests.samples import THREE_STEPS

script = Script({"second": [Slow(60)]})
register_provider(ProviderInfo("scripted", "scripted", default_model="scripted-1",
                               factory=lambda s: AsyncScriptedChatModel(script=script)))
sys.argv[0] = "configurable-agents"
from agents_core.cli import main
main()
"""


def start_slow_run(tmp_path: Path, run_store: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    flow = tmp_path / "three_steps.yaml"
    flow.write_text(json.dumps(THREE_STEPS), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NO_COLOR": "1", "AGENTS_RUN_STORE": str(run_store)}
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, "run", str(flow), "--input", "topic=cats", *extra],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never started"
        runs = SqliteRunStore(run_store).list(limit=1) if run_store.exists() else []
        if runs:
            break
        time.sleep(0.05)
    run_id = runs[0].run_id
    wait_for_node(SqliteRunStore(run_store), run_id, "second")
    return process, run_id


@pytest.mark.slow
def test_ctrl_c_during_run_cancels_it_and_says_how_to_resume(tmp_path, run_store):
    process, run_id = start_slow_run(tmp_path, run_store)
    try:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert f"cancelled run {run_id}; resume it with: configurable-agents run --resume {run_id}" in err
    assert "Traceback" not in err
    [run] = json.loads(cli("runs", "list", "--json").stdout)
    assert run["run_id"] == run_id and run["status"] == "cancelled"
    last = SqliteRunStore(run_store).events(run_id)[-1]
    assert last.kind == "run_finished" and last.data["result"]["status"] == "cancelled"
    assert "✓ first" in err  # the first node finished before the cancel; its checkpoint is kept


@pytest.mark.slow
def test_sigterm_during_run_cancels_it_and_writes_the_terminal_status(tmp_path, run_store):
    process, run_id = start_slow_run(tmp_path, run_store, "--json")
    try:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert f"resume it with: configurable-agents run --resume {run_id}" in err
    body = json.loads(out)
    assert body["ok"] is False and body["error"]["type"] == "RunCancelled"
    assert json.loads(cli("runs", "show", run_id, "--json").stdout)["status"] == "cancelled"


@pytest.mark.slow
def test_a_run_cancelled_from_another_process_exits_130(tmp_path, run_store):
    process, run_id = start_slow_run(tmp_path, run_store)
    try:
        assert cli("runs", "cancel", run_id).exit_code == 0
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert f"cancelled run {run_id}; resume it with: configurable-agents run --resume {run_id}" in err


def test_a_cancel_shows_the_nodes_that_ended_before_it_was_heard(service, script, capsys):
    """A Ctrl+C can come between an event reaching the log and its line reaching the terminal:
    the cancel shows the rest of the log, each node once."""
    from agents_core.cli.run_progress import RunProgress

    handle = service.start(THREE_STEPS, {"topic": "cats"})
    handle.wait(timeout=30)
    events = list(handle.events())
    first_finished = next(i for i, e in enumerate(events) if e.kind == "node_finished")
    progress = RunProgress(as_json=False)
    for event in events[:first_finished]:  # the interrupt came just before the first node's line
        progress.show(event)
    assert "✓ first" not in capsys.readouterr().err

    progress.stop()
    progress.show_rest(handle.events(progress.last_seq))
    err = capsys.readouterr().err
    assert [line.split()[1] for line in err.splitlines() if line.startswith("✓")] == ["first", "second", "third"]
    assert progress.result is not None and progress.result.status == "success"
    assert progress.last_seq == events[-1].seq
