"""A private Docker engine for the tests: a ``dockerd`` of our own on a socket in a temp folder.

Nothing here may reach a registry: the base image is made with debootstrap
from the machine's Debian mirror, imported with ``docker import``, and cached
as a tar outside the repository (``~/.cache/configurable-agents/base-image.tar``),
so only the first run on a machine pays the ~50 s. The engine runs with
``--iptables=false --bridge=none``: builds use ``network_mode="none"`` and
containers the host's network.

The test session's engine keeps its data root (images and the classic
builder's layer cache, never containers) in
``~/.cache/configurable-agents/engine-data``, so a second ``make test`` on the
same machine finds the images' installed packages as cached layers instead of
re-installing them (a layer is reused only when its instruction and every file
it copies are unchanged, so new requirements rebuild). A fresh machine starts
from an empty root and tests the same thing, only slower. Containers are
removed at the start and end of a session, untagged images a week old at the end; a
second session at the same time (the root is locked) or ``AGENTS_DOCKER_TEST_CACHE=0``
gets a throw-away root instead.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BASE_TAG = "configurable-agents-test-base:bookworm"
#: Untagged images (old builds, builder stages) older than this are pruned from the cached data root.
PRUNE_AFTER_HOURS = 24 * 7
#: libgomp1 besides the issue's list: llama.cpp's wheel links the OpenMP runtime, and an offline
#: build cannot apt-get it (the generated Dockerfile installs it only when the base lacks it).
DEBOOTSTRAP_INCLUDE = "python3,python3-venv,python-is-python3,libgomp1"


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "configurable-agents"


def missing_tools() -> list[str]:
    """What this machine lacks to run an engine (root, dockerd, debootstrap)."""
    missing = [tool for tool in ("dockerd", "debootstrap") if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root")
    return missing


def debian_mirror() -> str:
    """The Debian mirror of the machine's apt sources (deb822 ``URIs:`` or a one-line ``deb URL bookworm``)."""
    texts = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if path.is_file() and path.suffix in ("", ".list", ".sources"):
            texts.append(path.read_text(errors="replace"))
    text = "\n".join(texts)
    for match in re.finditer(r"^URIs:\s*(\S+)", text, re.M):
        if "security" not in match.group(1) and "debian" in match.group(1):
            return match.group(1)
    for match in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", text, re.M):
        if "security" not in match.group(1) and "debian" in match.group(1):
            return match.group(1)
    return "http://deb.debian.org/debian"


class Engine:
    """A running private ``dockerd``: its socket URL and folders; :meth:`client` gives an SDK client."""

    def __init__(self, root: Path, data_root: Path | None = None) -> None:
        self.root = root
        self.data_root = data_root or root / "data"
        self.socket = root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.exec_root = root / "exec"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.root / "dockerd.log", "wb")  # noqa: SIM115 - kept open for the daemon's life
        self.process = subprocess.Popen(
            [
                "dockerd",
                "-H", self.url,
                "--data-root", str(self.data_root),
                "--exec-root", str(self.exec_root),
                "--pidfile", str(self.root / "docker.pid"),
                "--iptables=false",
                "--bridge=none",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited: {(self.root / 'dockerd.log').read_text()[-2000:]}")
            if self.socket.exists():
                try:
                    self.client().ping()
                    return
                except Exception:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"dockerd did not start: {(self.root / 'dockerd.log').read_text()[-2000:]}")

    def client(self):
        import docker

        return docker.DockerClient(base_url=self.url, timeout=300)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        netns = self.exec_root / "netns" / "default"
        if netns.exists():
            subprocess.run(["umount", str(netns)], check=False, capture_output=True)

    def remove_containers(self) -> None:
        """Every container of this engine, running or not (a cached data root may hold a killed session's)."""
        for container in self.client().containers.list(all=True):
            container.remove(force=True)

    def prune(self) -> None:
        """Containers, and untagged images older than a week, so a cached root stays bounded.

        Untagged images younger than that stay: a multi-stage build's builder
        stage (the installed packages) is one, and it is the layer cache.
        """
        client = self.client()
        self.remove_containers()
        client.images.prune(filters={"dangling": True, "until": f"{PRUNE_AFTER_HOURS}h"})

    def ensure_base_image(self) -> str:
        """Load the cached base image into this engine, making it with debootstrap first when needed."""
        client = self.client()
        tar = cache_dir() / "base-image.tar"
        if not tar.is_file():
            build_base_tar(tar)
        with tar.open("rb") as stream:
            client.images.load(stream.read())
        return BASE_TAG


def build_base_tar(tar: Path) -> None:
    """debootstrap a minimal bookworm with Python, ``docker import`` it, save it as ``tar`` (image tar)."""
    tar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tar.parent) as work:
        rootfs = Path(work) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={DEBOOTSTRAP_INCLUDE}",
                "bookworm",
                str(rootfs),
                debian_mirror(),
            ],
            check=True,
            capture_output=True,
        )
        shutil.rmtree(rootfs / "var" / "cache" / "apt", ignore_errors=True)
        (rootfs / "var" / "cache" / "apt").mkdir()
        shutil.rmtree(rootfs / "var" / "lib" / "apt" / "lists", ignore_errors=True)
        (rootfs / "var" / "lib" / "apt" / "lists").mkdir()
        engine = Engine(Path(work) / "engine")
        engine.root.mkdir()
        engine.start()
        try:
            packer = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
            subprocess.run(
                ["/usr/bin/docker", "-H", engine.url, "import", "-", BASE_TAG], stdin=packer.stdout, check=True,
                capture_output=True,
            )  # fmt: skip
            packer.wait()
            partial = tar.with_suffix(".partial")
            with partial.open("wb") as out:
                for chunk in engine.client().images.get(BASE_TAG).save(named=True):
                    out.write(chunk)
            partial.rename(tar)
        finally:
            engine.stop()


def cached_data_root() -> Path | None:
    """The persistent data root of the tests' engine, or None when ``AGENTS_DOCKER_TEST_CACHE=0``."""
    if os.environ.get("AGENTS_DOCKER_TEST_CACHE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return cache_dir() / "engine-data"


@contextmanager
def _locked(data_root: Path | None) -> Iterator[Path | None]:
    """``data_root`` while this process holds its lock; None (a throw-away root) when another one holds it."""
    if data_root is None:
        yield None
        return
    data_root.parent.mkdir(parents=True, exist_ok=True)
    with open(data_root.parent / "engine-data.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        try:
            yield data_root
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def running_engine(*, cached: bool = False) -> Iterator[Engine]:
    """A private dockerd for the block; stopped, unmounted and deleted afterwards.

    With ``cached`` its data root is :func:`cached_data_root` (see the module's
    docstring): containers are removed before and after the block, dangling
    images after. A cached root the engine cannot start on is deleted and the
    block gets a throw-away one.
    """
    with (
        tempfile.TemporaryDirectory(prefix="dockerd-") as root,
        _locked(cached_data_root() if cached else None) as data_root,
    ):
        engine = Engine(Path(root), data_root)
        try:
            engine.start()
        except RuntimeError:
            if data_root is None:
                raise
            engine.stop()
            shutil.rmtree(data_root, ignore_errors=True)
            engine = Engine(Path(root) / "fresh")
            engine.root.mkdir()
            engine.start()
        try:
            if data_root is not None:
                engine.remove_containers()
            yield engine
        finally:
            try:
                if data_root is not None and engine.data_root == data_root:
                    engine.prune()
            finally:
                engine.stop()
