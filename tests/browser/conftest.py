"""Browser test harness: a real Streamlit server driven by Debian's chromium through Playwright.

Every page test of the workbench reuses these fixtures. Nothing here talks to
anything but ``127.0.0.1``; chromium is Debian's (``/usr/bin/chromium``),
never a Playwright download.

Fixtures
--------
``streamlit_app(workspace=None, *, timeout=60.0, env=None) -> StreamlitServer``
    Factory. Starts ``python -m streamlit run app.py -- --workspace <dir>``
    (with the interpreter running pytest) from the repository root on a free
    port of 127.0.0.1 and waits (up to ``timeout`` seconds) until
    ``/_stcore/health`` answers ``ok``. Returns a
    ``StreamlitServer`` with ``.url`` (``http://127.0.0.1:<port>``),
    ``.workspace`` (a ``Path``) and ``.port``. Without ``workspace`` the
    server uses a fresh copy of the repository's ``examples/`` folder at
    ``tmp_path / "examples"``, so tests never write into the repository.
    ``env`` adds or overrides environment variables of the server process.
    A server that does not come up raises ``RuntimeError`` with the tail of its
    stderr (the full logs are in a ``streamlit-logs`` temp folder). Every
    server started by the factory is stopped (terminate, then kill) at teardown.

``browser`` (session)
    A Playwright chromium ``Browser`` launched from ``/usr/bin/chromium``
    (headless, no sandbox, no background networking, a fresh temporary
    profile that Playwright creates and deletes).

``page`` (function)
    A ``Page`` in a new context (viewport 1400x1000). At teardown a screenshot
    of the whole app (the viewport grown to the scroll height of ``stMain``) is
    saved to ``tests/artifacts/<test name>.png``; a failed screenshot is a
    warning, never an error.

``open_app(app, path="", *, timeout=30_000) -> Page``
    Navigates ``page`` to ``app.url + path`` and waits until Streamlit has
    finished rendering (see ``wait_for_streamlit``).

``wait_for_streamlit(page, *, timeout=30_000) -> None``
    Fixture returning the function ``wait_for_render``: waits for
    ``[data-testid="stApp"]`` to report a finished script run and for the
    "Running..." status widget to be gone. After clicking or typing, a rerun
    may not have started yet when this is called, so follow it with an
    ``expect(...)`` on the content the interaction should produce.

Rules
-----
* Every test under ``tests/browser/`` is marked ``browser`` (see
  ``pytest_collection_modifyitems``): ``pytest -m "not browser"`` skips them.
* Without ``/usr/bin/chromium`` the browser tests are skipped with one line,
  except when ``CI=true``: then they fail, so CI never passes silently.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BROWSER_DIR = Path(__file__).resolve().parent
TESTS_DIR = BROWSER_DIR.parent
REPO_ROOT = TESTS_DIR.parent
ARTIFACTS_DIR = TESTS_DIR / "artifacts"
EXAMPLES_DIR = REPO_ROOT / "examples"

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CHROMIUM_MISSING = (
    f"Debian's chromium is not installed ({CHROMIUM_PATH}); install it with `sudo apt-get install chromium` "
    "or run `make test`, which installs it"
)
SERVER_START_TIMEOUT = 60.0
RENDER_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1400, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 12_000


# --------------------------------------------------------------------------- markers and skipping


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``browser`` (the hook sees all items, so filter by path)."""
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _skip_or_fail_without_chromium() -> None:
    if Path(CHROMIUM_PATH).exists():
        return
    if _running_in_ci():
        pytest.fail(CHROMIUM_MISSING, pytrace=False)
    pytest.skip(CHROMIUM_MISSING)


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    """Skip (locally) or fail (``CI=true``) every browser test when chromium is missing."""
    _skip_or_fail_without_chromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Report every "chromium is missing" skip at one place, so ``-ra`` folds them into one line."""
    report = yield
    longrepr = report.longrepr
    if (
        report.skipped
        and isinstance(longrepr, tuple)
        and str(longrepr[2]).endswith(CHROMIUM_MISSING)
        and BROWSER_DIR in Path(item.path).resolve().parents
    ):
        report.longrepr = (__file__, _skip_or_fail_without_chromium.__code__.co_firstlineno, longrepr[2])
    return report


# --------------------------------------------------------------------------- the Streamlit server


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    """One ``streamlit run app.py`` process serving ``workspace`` at ``url``."""

    url: str
    workspace: Path
    port: int
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no stderr)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty stderr)"

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _wait_until_healthy(server: StreamlitServer, timeout: float) -> None:
    health = f"{server.url}/_stcore/health"
    deadline = time.monotonic() + timeout
    # trust_env=False: never go through a proxy, only ever talk to 127.0.0.1.
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with code {server.process.returncode} before answering {health}.\n"
                    f"Last lines of its stderr:\n{server.stderr_tail()}"
                )
            try:
                response = client.get(health)
                if response.status_code == 200 and response.text.strip() == "ok":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise RuntimeError(
        f"streamlit did not answer 'ok' at {health} within {timeout:g} s.\n"
        f"Last lines of its stderr:\n{server.stderr_tail()}"
    )


def _launch(workspace: Path, logs: Path, env: dict[str, str] | None) -> StreamlitServer:
    port = free_port()
    stdout_path = logs / f"streamlit-{port}.out"
    stderr_path = logs / f"streamlit-{port}.err"
    command = [
        sys.executable,  # the interpreter running pytest: .venv/bin/python under .venv/bin/pytest
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--",
        "--workspace",
        str(workspace),
    ]
    server_env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        **(env or {}),
    }
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=server_env, stdout=out, stderr=err)
    return StreamlitServer(
        url=f"http://127.0.0.1:{port}",
        workspace=workspace,
        port=port,
        process=process,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )


def _start_server(workspace: Path, logs: Path, timeout: float, env: dict[str, str] | None) -> StreamlitServer:
    """Start a server and wait for it; a port taken between ``free_port()`` and the bind is retried."""
    logs.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        server = _launch(workspace, logs, env)
        try:
            _wait_until_healthy(server, timeout)
        except RuntimeError:
            server.stop()
            if attempt < 2 and server.process.returncode not in (None, 0) and "already in use" in server.stderr_tail():
                continue
            raise
        except BaseException:
            server.stop()
            raise
        return server
    raise AssertionError("unreachable")


@pytest.fixture
def streamlit_app(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., StreamlitServer]]:
    """Factory starting the workbench on a free port; see the module docstring."""
    servers: list[StreamlitServer] = []
    logs = tmp_path_factory.mktemp("streamlit-logs")  # outside tmp_path, which may be the workspace

    def start(
        workspace: str | os.PathLike[str] | None = None,
        *,
        timeout: float = SERVER_START_TIMEOUT,
        env: dict[str, str] | None = None,
    ) -> StreamlitServer:
        if workspace is None:
            folder = tmp_path / "examples"
            if not folder.exists():
                shutil.copytree(EXAMPLES_DIR, folder)
        else:
            folder = Path(workspace)
        server = _start_server(folder.resolve(), logs, timeout, env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --------------------------------------------------------------------------- chromium and pages


@pytest.fixture(scope="package")
def browser(_require_chromium: None) -> Iterator[object]:
    """Debian's chromium, headless, with a fresh temporary profile.

    Playwright refuses ``--user-data-dir`` in ``launch()`` (that is what
    ``launch_persistent_context`` is for, which gives no ``Browser`` to open
    fresh contexts from); instead it creates a new ``mkdtemp`` profile for
    every launch and deletes it on close, which is the same guarantee.

    Scoped to this package, not the session: Playwright's sync API keeps an event
    loop running in the main thread while it is open, and the tests that follow
    (the run service's ``asyncio.run``) need that thread free.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _artifact_name(node_name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", node_name).strip("_") or "test"


def save_screenshot(page, path: Path) -> None:
    """A screenshot of the whole app, not just the viewport.

    Streamlit scrolls inside ``[data-testid="stMain"]``, not the document, so
    ``full_page=True`` alone stops at the viewport: grow the viewport first.
    """
    height = page.evaluate(
        "() => { const main = document.querySelector('[data-testid=\"stMain\"]');"
        " return main ? main.scrollHeight : 0; }"
    )
    if height > VIEWPORT["height"]:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height), MAX_SCREENSHOT_HEIGHT)})
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


@pytest.fixture
def page(browser, streamlit_app, request: pytest.FixtureRequest) -> Iterator[object]:
    """A page in a fresh context; a screenshot lands in ``tests/artifacts/<test name>.png`` at teardown.

    It depends on ``streamlit_app`` so that the screenshot is taken before any server stops.
    """
    context = browser.new_context(viewport=VIEWPORT)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        target = ARTIFACTS_DIR / f"{_artifact_name(request.node.name)}.png"
        try:
            save_screenshot(new_page, target)
        except Exception as exc:  # a failed screenshot must not hide the test's own result
            warnings.warn(f"could not save the screenshot {target}: {exc}", stacklevel=1)
        finally:
            context.close()


def wait_for_render(page, *, timeout: float = RENDER_TIMEOUT_MS) -> None:
    """Wait until Streamlit has run the script and shows no "Running..." indicator."""
    from playwright.sync_api import expect

    app = page.locator('[data-testid="stApp"]')
    expect(app).to_be_visible(timeout=timeout)
    # The attribute is "initial" before the first run, "running" during a run.
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)
    expect(page.locator('[data-testid="stStatusWidget"]').get_by_label("Running...")).to_have_count(0, timeout=timeout)


@pytest.fixture
def wait_for_streamlit() -> Callable[..., None]:
    """The ``wait_for_render(page, *, timeout=30_000)`` helper, for tests that interact with a page."""
    return wait_for_render


@pytest.fixture
def open_app(page) -> Callable[..., object]:
    """``open_app(app, path="")``: go to a page of a running server and wait for it to render."""

    def go(app: StreamlitServer, path: str = "", *, timeout: float = RENDER_TIMEOUT_MS):
        page.goto(f"{app.url}/{path.lstrip('/')}", timeout=timeout)
        wait_for_render(page, timeout=timeout)
        return page

    return go
