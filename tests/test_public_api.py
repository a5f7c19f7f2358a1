"""``agents_core``'s public names: all importable, all listed, and every error the API raises exported."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import agents_core
from agents_core import errors
from tests.conftest import EXAMPLES_DIR, REPO_ROOT


@pytest.mark.parametrize("name", agents_core.__all__)
def test_every_public_name_imports(name):
    namespace: dict[str, object] = {}
    exec(f"from agents_core import {name}", namespace)
    assert namespace[name] is getattr(agents_core, name)


def test_every_lazy_name_is_public_and_every_public_name_has_a_home():
    assert set(agents_core._LOCATIONS) <= set(agents_core.__all__)
    assert set(agents_core.__all__) - set(agents_core._LOCATIONS) == {"__version__"}
    assert len(agents_core.__all__) == len(set(agents_core.__all__))
    for name, module in agents_core._LOCATIONS.items():
        assert getattr(agents_core, name) is getattr(sys.modules[module], name), name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        agents_core.nope  # noqa: B018


def test_every_error_in_errors_py_is_exported():
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.AgentsError) and value.__module__ == errors.__name__
    }
    assert defined <= set(agents_core.__all__)
    for name in ("InputError", "LoopLimitExceeded"):  # defined next to the code that raises them
        assert issubclass(getattr(agents_core, name), agents_core.AgentsError)


def test_the_public_functions_raise_exported_errors(tmp_path):
    with pytest.raises(agents_core.ValidationFailed) as caught:
        agents_core.load_workflow(tmp_path / "missing.yaml")
    assert isinstance(caught.value, agents_core.WorkflowFileError) and caught.value.problems
    with pytest.raises(agents_core.InputError, match="nope"):
        agents_core.run_workflow(EXAMPLES_DIR / "article_writer.yaml", {"nope": 1})
    with pytest.raises(agents_core.RunError, match="no run with id"):
        agents_core.resume_run("no-such-run")


def test_importing_the_package_loads_nothing_heavy():
    probe = "import sys, agents_core; print(','.join(sorted(m.split('.')[0] for m in sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    loaded = set(result.stdout.strip().split(","))
    assert not loaded & {"pydantic", "yaml", "langchain_core", "langgraph", "typer", "rich"}, loaded
