"""A private Docker engine for the tests: a ``dockerd`` of our own on a socket in a temp folder.

Nothing here may reach a registry: the base image is made with debootstrap
from the machine's Debian mirror, imported with ``docker import``, and cached
as a tar outside the repository (``~/.cache/configurable-agents/base-image.tar``),
so only the first run on a machine pays the ~50 s. The engine runs with
``--iptables=false --bridge=none``: builds use ``network_mode="none"`` and
containers the host's network.
"""

from __future__ import annotations

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

    def __init__(self, root: Path) -> None:
        self.root = root
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
                "--data-root", str(self.root / "data"),
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


@contextmanager
def running_engine() -> Iterator[Engine]:
    """A private dockerd for the block; stopped, unmounted and deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="dockerd-") as root:
        engine = Engine(Path(root))
        engine.start()
        try:
            yield engine
        finally:
            engine.stop()
