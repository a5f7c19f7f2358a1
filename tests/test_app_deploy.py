"""The Deploy page (``pages/4_Deploy.py``) through Streamlit's AppTest, with no Docker engine behind DOCKER_HOST."""

from __future__ import annotations

import io
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agents_core.errors import EnvFileError
from tests.conftest import EXAMPLES_DIR, REPO_ROOT
from workbench.deploy_view import LogTail, env_choice, output_folder, zip_folder

APP = str(REPO_ROOT / "app.py")
PAGE = "pages/4_Deploy.py"


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DOCKER_HOST at a socket with nothing behind it."""
    url = f"unix://{tmp_path / 'nothing.sock'}"
    monkeypatch.setenv("DOCKER_HOST", url)
    return url


def _page(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> AppTest:
    shutil.copy(EXAMPLES_DIR / "article_writer.yaml", workspace / "article_writer.yaml")
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Deploy"]
    return at


def test_without_an_engine_the_page_says_so_and_still_offers_the_zip(
    no_engine: str, isolated_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(monkeypatch, isolated_workspace)
    assert any("No Docker engine is reachable" in w.value and no_engine in w.value for w in at.warning)
    deploy_button = next(b for b in at.button if b.label == "Build and deploy")
    assert deploy_button.disabled
    next(b for b in at.button if b.label == "Generate artifacts").click().run()
    assert not at.exception
    context = output_folder(isolated_workspace, "article_writer.yaml")
    assert (context / "Dockerfile").is_file()
    assert at.session_state["deploy_zip"][0] == "article-writer-deployment.zip"
    names = zipfile.ZipFile(io.BytesIO(at.session_state["deploy_zip"][1])).namelist()
    assert {"Dockerfile", "server.py", "requirements.txt", ".dockerignore", "workflow.yaml"} <= set(names)
    assert any(name.startswith("agents_core/") for name in names)
    assert [d for d in at.get("download_button")], "the zip is offered for download"


def test_workers_generate_the_scaled_compose_file(
    no_engine: str, isolated_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    at = _page(monkeypatch, isolated_workspace)
    at.number_input(key="deploy_scale").set_value(2).run()
    assert not [b for b in at.button if b.label == "Build and deploy"]  # a compose project: generate, then compose up
    assert any("docker compose up" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Generate artifacts").click().run()
    assert not at.exception, [e.value for e in at.exception]
    compose = output_folder(isolated_workspace, "article_writer.yaml") / "docker-compose.yml"
    services = yaml.safe_load(compose.read_text())["services"]
    assert set(services) == {"postgres", "redis", "api", "worker-1", "worker-2"}


def test_pasted_variables_with_a_bad_line_are_refused_with_the_line(
    no_engine: str, isolated_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(monkeypatch, isolated_workspace)
    at.radio(key="deploy_env_mode").set_value("Paste variables").run()
    at.text_area(key="deploy_env_text").input("GOOGLE_API_KEY=abc\nthis line is wrong\n").run()
    assert any("line 2" in e.value and "KEY=value" in e.value for e in at.error), [e.value for e in at.error]


def test_env_choice_reads_uploads_and_pastes() -> None:
    assert env_choice("Paste variables", pasted="A=1\n# note\nexport B='two words'\n").values == {
        "A": "1",
        "B": "two words",
    }
    assert env_choice("Upload an env file", uploaded=b"KEY=value\n").values == {"KEY": "value"}
    assert env_choice("No variables", pasted="A=1").values == {}
    with pytest.raises(EnvFileError, match="line 1"):
        env_choice("Upload an env file", uploaded=b"1KEY=value\n")
    with pytest.raises(EnvFileError, match="UTF-8"):
        env_choice("Upload an env file", uploaded=b"\xff\xfe=1")


def test_zip_folder_and_log_tail(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.txt").write_text("x")
    (tmp_path / "a" / "__pycache__").mkdir()
    (tmp_path / "a" / "__pycache__" / "c.pyc").write_text("x")
    assert zipfile.ZipFile(io.BytesIO(zip_folder(tmp_path))).namelist() == ["a/b.txt"]
    tail = LogTail(size=2)
    for line in ("one", "two", "three"):
        text = tail.add(line)
    assert text == "two\nthree" and tail.count == 3


def test_a_deploy_job_runs_in_its_thread_and_ends_with_its_result_or_a_readable_error() -> None:
    from agents_core.errors import DeployError
    from workbench.deploy_job import DeployJob

    class Done:
        def to_dict(self) -> dict[str, str]:
            return {"name": "svc"}

    def good(step, log):
        step("Building")
        for index in range(50):
            log(f"Step {index}/50")
        return Done()

    view = DeployJob.start(good).wait(10)
    assert view.state == "done" and view.result == {"name": "svc"} and view.error is None
    assert view.steps == ("Building",) and view.log_lines == 50 and view.log.splitlines()[-1] == "Step 49/50"
    assert len(view.log.splitlines()) == 40  # the tail the page shows

    def refused(step, log):
        raise DeployError("The image build failed: no space.", "Free some disk.")

    view = DeployJob.start(refused).wait(10)
    assert view.state == "failed" and view.error == "The image build failed: no space. Free some disk."

    def broken(step, log):
        raise KeyError("surprise")

    view = DeployJob.start(broken).wait(10)
    assert view.state == "failed" and "KeyError" in view.error and "surprise" in view.error
    assert not view.running and view.result is None


def test_a_reloaded_page_follows_the_build_still_running_and_cannot_start_another(
    no_engine: str, isolated_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser reload is a new session: the build the workbench is running shows there, with its log."""
    import threading

    from workbench.deploy_job import DeployJob

    release = threading.Event()

    class Done:
        def to_dict(self) -> dict[str, object]:
            return {"name": "svc", "endpoints": {"API": "http://127.0.0.1:1"}, "curl": ["curl x"]}

    def slow(step, log):
        step("Building the image article-writer")
        log("Step 1/9 : FROM local/python")
        release.wait(30)
        return Done()

    job = DeployJob.start(slow, name="article-writer")  # as another session's click did
    try:
        at = _page(monkeypatch, isolated_workspace)  # a fresh session
        expander = next(e for e in at.expander if e.label == "Deploying...")
        assert "Building the image article-writer" in [m.value for m in expander.markdown]
        assert "Step 1/9 : FROM local/python" in expander.code[0].value
        assert at.session_state["deploy_job"] is job
    finally:
        release.set()
    job.wait(10)
    at.run()  # the page's next redraw takes the result, once
    assert not at.exception
    assert [s.value for s in at.subheader if s.value.startswith("Running")] == ["Running: svc"]
    assert at.session_state["deploy_collected"] is job
