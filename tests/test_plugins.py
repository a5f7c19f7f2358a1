"""Providers and tools from installed packages (entry points), as a user's ``pip install`` would add them.

Each test "installs" tiny distributions into a temporary folder on ``sys.path``:
a module plus a ``*.dist-info`` with ``METADATA`` and ``entry_points.txt``,
which is exactly what pip leaves behind, so ``importlib.metadata`` finds them
the way it finds any installed package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents_core import run_workflow
from agents_core.config.validator import validate_file, validate_workflow
from agents_core.llm.registry import get_provider, provider_names, unregister_provider
from agents_core.plugins import PluginWarning, forget_plugins
from agents_core.tools.registry import build_tool, get_tool_info, tool_names, unregister_tool
from tests.conftest import EXAMPLES_DIR, REPO_ROOT
from tests.test_cli import SCRIPT

ACME_MODULE = '''\
"""A third-party plugin: one provider (a scripted model) and one tool."""
from agents_core.llm.registry import ProviderInfo


def provider():
    return ProviderInfo(
        name="acme",
        description="Acme's models",
        default_model="acme-1",
        known_models=("acme-1",),
        factory="acme_agents_plugin:create_chat_model",
    )


def create_chat_model(settings):
    from tests.fakes import Script, ScriptedChatModel

    return ScriptedChatModel(script=Script(default="answer from acme"))


def shout(text: str) -> str:
    """Repeat the text in capitals."""
    return text.upper()
'''
ACME_ENTRY_POINTS = """\
[configurable_agents.providers]
acme = acme_agents_plugin:provider

[configurable_agents.tools]
shout = acme_agents_plugin:shout
"""

PLUGIN_WORKFLOW = """\
schema_version: "1.0"
flow: {name: uses_a_plugin}
state:
  fields:
    q: {type: str, required: true}
    a: {type: str, default: ""}
nodes:
  - id: ask
    prompt: "Answer {state.q}"
    tools: [shout]
    outputs: [a]
edges:
  - {from: START, to: ask}
  - {from: ask, to: END}
config: {llm: {provider: acme, model: acme-1}}
"""

Install = Callable[..., Path]


def _write_distribution(site: Path, name: str, module: str, source: str, entry_points: str) -> None:
    (site / f"{module}.py").write_text(source)
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    (info / "RECORD").write_text("")


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """``install(name, module, source, entry_points)`` into a site folder on ``sys.path``; all undone after."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def _install(name: str, module: str, source: str, entry_points: str) -> Path:
        _write_distribution(site, name, module, source, entry_points)
        modules.append(module)
        forget_plugins()
        return site

    yield _install
    for provider in ("acme",):
        unregister_provider(provider)
    for tool in ("shout",):
        unregister_tool(tool)
    for module in modules:
        sys.modules.pop(module, None)
    forget_plugins()


def test_an_installed_plugin_adds_a_provider_and_a_tool(install, no_api_keys):
    report = validate_workflow(PLUGIN_WORKFLOW, file="flow.yaml")
    assert {p.code for p in report.problems} >= {"W-PROVIDER-UNKNOWN", "E-TOOL-UNKNOWN"}

    install("acme-agents-plugin", "acme_agents_plugin", ACME_MODULE, ACME_ENTRY_POINTS)

    info = get_provider("acme")
    assert info is not None and info.default_model == "acme-1"
    assert "acme" in provider_names() and "shout" in tool_names()
    assert get_tool_info("shout").description == "Repeat the text in capitals."
    assert build_tool("shout").invoke({"text": "hi"}) == "HI"
    report = validate_workflow(PLUGIN_WORKFLOW, file="flow.yaml")
    assert report.problems == []
    result = run_workflow(PLUGIN_WORKFLOW, {"q": "why?"})
    assert result.ok, result.error
    assert result.outputs == {"a": "answer from acme"}


def test_a_broken_plugin_is_a_warning_naming_its_package_never_a_crash(install):
    install(
        "acme-agents-plugin",
        "acme_agents_plugin",
        ACME_MODULE,
        ACME_ENTRY_POINTS + "broken = acme_agents_plugin:nope\n",
    )
    install(
        "shaky-agents-plugin",
        "shaky_agents_plugin",
        "raise ImportError('shaky needs numpy 9')\n",
        "[configurable_agents.providers]\nshaky = shaky_agents_plugin:provider\n",
    )
    with pytest.warns(PluginWarning) as caught:
        providers = provider_names()
        tools = tool_names()
    messages = [str(w.message) for w in caught]
    assert any("'shaky-agents-plugin'" in m and "shaky needs numpy 9" in m for m in messages), messages
    assert any("'acme-agents-plugin'" in m and "'broken'" in m and "nope" in m for m in messages), messages
    assert {"acme", "google", "local", "openai"} <= set(providers)
    assert {"shout", "calculator"} <= set(tools) and "broken" not in tools


def test_a_plugin_may_not_replace_a_built_in(install):
    install(
        "impostor-agents-plugin",
        "impostor_agents_plugin",
        "from agents_core.llm.registry import ProviderInfo\n"
        "local = ProviderInfo(name='local', description='impostor', default_model='x')\n",
        "[configurable_agents.providers]\nlocal = impostor_agents_plugin:local\n",
    )
    with pytest.warns(PluginWarning, match="'local' is already registered"):
        provider_names()
    assert get_provider("local").description != "impostor"


def test_built_in_names_never_scan_installed_packages(monkeypatch):
    import importlib.metadata

    scans: list[str] = []
    real = importlib.metadata.entry_points

    def counting(**kwargs):
        scans.append(kwargs.get("group", ""))
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    forget_plugins()
    try:
        for example in sorted(EXAMPLES_DIR.glob("*.yaml")):
            validate_file(example)
        assert get_provider("google") is not None and get_tool_info("calculator") is not None
        assert scans == []
        assert get_provider("no_such_provider") is None
        assert get_provider("no_such_provider") is None  # scanned once per process, not per lookup
        assert scans == ["configurable_agents.providers"]
    finally:
        forget_plugins()


def test_the_cli_sees_installed_plugins_and_warns_plainly_about_broken_ones(tmp_path):
    site = tmp_path / "site-packages"
    site.mkdir()
    _write_distribution(site, "acme-agents-plugin", "acme_agents_plugin", ACME_MODULE, ACME_ENTRY_POINTS)
    _write_distribution(
        site,
        "shaky-agents-plugin",
        "shaky_agents_plugin",
        "raise ImportError('shaky needs numpy 9')\n",
        "[configurable_agents.tools]\nshaky = shaky_agents_plugin:tool\n",
    )
    flow = tmp_path / "flow.yaml"
    flow.write_text(PLUGIN_WORKFLOW)
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "OPENAI_API_KEY")}
    env.update(NO_COLOR="1", PYTHONPATH=os.pathsep.join([str(site), str(REPO_ROOT)]))
    result = subprocess.run(
        [SCRIPT, "validate", str(flow)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all valid (0 errors, 0 warnings)" in result.stdout
    assert "warning: plugin 'shaky' (configurable_agents.tools) of the package 'shaky-agents-plugin'" in result.stderr
    assert "Traceback" not in result.stderr and "warnings.warn" not in result.stderr
