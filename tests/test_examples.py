"""The shipped examples: valid, documented, and accepted by the exported JSON Schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from agents_core import load_workflow, validate_workflow
from agents_core.config.schema import workflow_json_schema, workflow_json_schema_text
from tests.conftest import EXAMPLE_FILES, REPO_ROOT

REQUIRED_EXAMPLES = {
    "article_writer",
    "review_loop",
    "parallel_research",
    "calculator_agent",
    "user_profile",
    "article_writer_mlflow",
}


def test_the_required_examples_exist():
    assert {path.stem for path in EXAMPLE_FILES} >= REQUIRED_EXAMPLES


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_validates_clean_without_any_warning(path, no_api_keys):
    report = validate_workflow(path)
    assert [p.describe() for p in report.problems] == []
    assert report.workflow is not None
    assert load_workflow(path).flow.name == path.stem


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_is_accepted_by_the_json_schema(path):
    data = yaml.safe_load(path.read_text())
    jsonschema.Draft202012Validator(workflow_json_schema()).validate(data)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_starts_with_a_header_saying_what_it_shows_and_how_to_run_it(path):
    header = path.read_text().split("schema_version")[0]
    assert "configurable-agents" in header
    assert len([line for line in header.splitlines() if line.startswith("#")]) >= 4


def test_the_examples_exercise_the_format():
    by_name = {p.stem: load_workflow(p) for p in EXAMPLE_FILES}
    assert any(edge.routes for edge in by_name["review_loop"].edges)
    assert by_name["review_loop"].config.execution.max_loop_iterations
    fanout = [edge for edge in by_name["parallel_research"].edges if edge.parallel]
    assert len(fanout[0].parallel) == 3 and fanout[0].join
    assert set(by_name["calculator_agent"].nodes[0].tools) == {"calculator", "current_datetime"}
    profile = by_name["user_profile"].state.fields["profile"]
    assert profile.type == "object" and isinstance(profile.schema_["address"], dict)
    assert by_name["article_writer_mlflow"].config.observability.mlflow.enabled
    assert by_name["article_writer"].nodes[1].output_schema.type == "object"


def test_schema_is_draft_2020_12_with_descriptions():
    schema = workflow_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    node = schema["$defs"]["Node"]
    assert node["additionalProperties"] is False
    assert all("description" in prop for prop in node["properties"].values())


def test_schema_rejects_unknown_keys():
    data = yaml.safe_load((REPO_ROOT / "examples" / "article_writer.yaml").read_text())
    data["nodes"][0]["promt"] = "typo"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, workflow_json_schema())


def test_schema_snapshot_in_docs_is_current():
    """docs/workflow.schema.json is what editors point at; regenerate with `configurable-agents schema`."""
    snapshot = (REPO_ROOT / "docs" / "workflow.schema.json").read_text()
    assert json.loads(snapshot) == json.loads(workflow_json_schema_text())
    assert snapshot == workflow_json_schema_text()
