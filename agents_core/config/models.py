"""Pydantic models of the workflow file (schema_version "1.0", SPEC §3).

The models check *shape* (keys, value types, ranges) and feed the JSON
Schema and the config reference through their field descriptions. Rules that
span several parts of the file (references, the graph, type compatibility)
live in the validator, which reports them with source positions; the models
therefore carry no cross-field validators.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypeAliasType

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
FLOW_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"
SUPPORTED_SCHEMA_VERSIONS = ("1.0",)

ObjectSchema = TypeAliasType(
    "ObjectSchema",
    dict[str, "str | ObjectSchema"],
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=False)


class FlowInfo(_Model):
    """Identity of the workflow."""

    name: str = Field(
        pattern=FLOW_NAME,
        description="Name of the workflow: letters, digits, '_' and '-', starting with a letter.",
        examples=["article_writer"],
    )
    description: str | None = Field(default=None, description="What the workflow does, in a sentence or two.")
    version: str | None = Field(
        default=None, description="Your own version label for the workflow (free text, e.g. '1.2.0')."
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        """``version: 1.0`` is read by YAML as a number; keep it as the text the user wrote."""
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class StateField(_Model):
    """One field of the workflow state."""

    type: str = Field(
        description="Type string: str, int, float, bool, list, dict, object, list[T] or dict[K, V] (nesting allowed).",
        examples=["str", "list[str]", "dict[str, int]", "object"],
    )
    required: bool = Field(default=False, description="Whether a run must be given this field as input.")
    default: Any = Field(default=None, description="Value the field starts with; must match `type`.")
    description: str | None = Field(default=None, description="What the field holds (shown in forms and the API).")
    schema_: ObjectSchema | None = Field(
        default=None,
        alias="schema",
        description="For `type: object`: sub-field name -> type string, or a nested mapping for a nested object.",
    )


class StateConfig(_Model):
    """The typed state that nodes read and write."""

    fields: dict[str, StateField] = Field(
        description="State fields by name (identifier-like names).",
        min_length=1,
    )


class OutputField(_Model):
    """One field of an object-shaped node output."""

    name: str = Field(pattern=IDENTIFIER, description="Field name; must also be listed in the node's `outputs`.")
    type: str = Field(description="Type string of the field, compatible with the state field it is written to.")
    description: str | None = Field(default=None, description="Tells the model what to put in this field.")
    schema_: ObjectSchema | None = Field(
        default=None,
        alias="schema",
        description="For `type: object`: sub-field name -> type string (nested mappings allowed), "
        "as in state.fields; the reply is checked against it.",
    )


class OutputSchema(_Model):
    """The structured output a node asks the model for."""

    type: str = Field(
        description="`object` (then list `fields`) or a single type string such as `str` or `list[str]`.",
        examples=["object", "str"],
    )
    fields: list[OutputField] | None = Field(
        default=None, description="For `type: object`: the fields of the output, one per state field written."
    )
    description: str | None = Field(default=None, description="For a single-type output: what the value is.")


class LLMSettings(_Model):
    """Model settings; a node's `llm` overrides `config.llm` field by field."""

    provider: str | None = Field(
        default=None, description="Provider name: `google` (default), `local` or `openai` (any OpenAI-compatible API)."
    )
    model: str | None = Field(
        default=None,
        description="Model name for the provider (default `gemini-2.5-flash`; for `local`, a .gguf path may be given).",
    )
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Sampling temperature, 0 to 2 (default 0.7)."
    )
    max_tokens: int | None = Field(default=None, gt=0, description="Upper bound on tokens the model may generate.")
    api_base: str | None = Field(default=None, description="Endpoint override (proxy, self-hosted server, test stub).")
    structured_output: Literal["auto", "json_schema", "function_calling", "json_mode"] | None = Field(
        default=None,
        description="How structured output is asked for (default `auto`: the provider's native way; "
        "`function_calling` for OpenAI-compatible servers that reject JSON schemas).",
    )


class NodeOptimize(_Model):
    """Per-node DSPy optimization settings (validated; not applied yet, SPEC §13)."""

    enabled: bool = Field(default=False, description="Optimize this node's prompt when optimization runs.")
    strategy: str | None = Field(default=None, description="DSPy optimizer for this node (overrides the global one).")
    metric: str | None = Field(default=None, description="Metric for this node (overrides the global one).")
    max_demos: int | None = Field(
        default=None, gt=0, description="Most few-shot demonstrations for this node (overrides the global one)."
    )


class Node(_Model):
    """One step of the workflow: a prompt sent to a model, whose output is written to state."""

    id: str = Field(pattern=IDENTIFIER, description="Unique node id (identifier-like; START and END are reserved).")
    description: str | None = Field(default=None, description="What the node does.")
    inputs: dict[str, Any] | None = Field(
        default=None,
        description='Local names for the prompt: name -> a template such as "{state.topic}" or a literal value.',
    )
    prompt: str = Field(
        description="Prompt template: {state.field}, {state.field.sub}, {input_name}; '{{' and '}}' are literal braces."
    )
    output_schema: OutputSchema | None = Field(
        default=None, description="Structured output asked of the model; without it the reply is text (`str`)."
    )
    outputs: list[str] = Field(default_factory=list, description="State fields this node writes, in output order.")
    tools: list[str] = Field(default_factory=list, description="Registered tool names the model may call.")
    llm: LLMSettings | None = Field(default=None, description="Per-node model settings, merged over `config.llm`.")
    optimize: NodeOptimize | None = Field(default=None, description="DSPy settings for this node (see §13).")


class RouteCondition(_Model):
    """When a route is taken."""

    logic: str = Field(
        description="Expression over {state.x} (or state.x, without braces) with == != < <= > >= and or not, "
        "parentheses and literals; or `default`.",
        examples=["{state.score} >= 8", "state.score >= 8", "default"],
    )


class Route(_Model):
    """One branch of a conditional edge."""

    condition: RouteCondition = Field(description="The condition that selects this route.")
    to: str = Field(description="Node id (or END) to go to when the condition holds.")


class Edge(_Model):
    """A transition: linear (`to`), conditional (`routes`) or a parallel fan-out (`parallel` + `join`)."""

    from_: str = Field(alias="from", description="Node id the edge leaves (or START).")
    to: str | None = Field(default=None, description="Linear edge: the next node id (or END).")
    routes: list[Route] | None = Field(
        default=None, description="Conditional edge: routes tried in order; the last must be `default`."
    )
    parallel: list[str] | None = Field(
        default=None, description="Fan-out: node ids that run concurrently after `from`."
    )
    join: str | None = Field(default=None, description="Fan-in: the node that runs once every parallel branch is done.")


class MLflowSettings(_Model):
    """MLflow tracking of runs (SPEC §8)."""

    enabled: bool = Field(default=False, description="Record every run in MLflow.")
    tracking_uri: str | None = Field(
        default=None,
        description="MLflow store: default `sqlite:///mlflow.db` in the workspace; file: and http(s): work.",
    )
    experiment_name: str = Field(default="configurable_agents", description="MLflow experiment that receives runs.")
    run_name: str | None = Field(
        default=None, description="Run name template: may use {flow.name}, {timestamp} and {state.field}."
    )
    log_artifacts: bool = Field(default=True, description="Log inputs.json, outputs.json and error.txt.")
    log_prompts: bool = Field(
        default=True, description="Log prompts and responses (at `artifact_level: full`); false keeps them out."
    )
    retention_days: int | None = Field(default=None, gt=0, description="Delete runs older than this many days.")
    redact_pii: bool = Field(
        default=False,
        description="Mask e-mails, phone and card numbers, IBANs and API-key-like strings in all that goes to MLflow.",
    )
    async_logging: bool = Field(
        default=True, description="Log to MLflow in the background so tracking never slows a run (seed key)."
    )
    artifact_level: Literal["minimal", "standard", "full"] = Field(
        default="standard",
        description="`minimal` (cost summary), `standard` (plus per-node records and the trace) or `full` "
        "(plus prompts and responses) (seed key).",
    )


class LoggingSettings(_Model):
    """Console logging."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Log level of the engine."
    )


class ObservabilitySettings(_Model):
    """Where runs are recorded."""

    mlflow: MLflowSettings | None = Field(default=None, description="MLflow tracking settings.")
    logging: LoggingSettings | None = Field(default=None, description="Console logging settings.")


class ExecutionSettings(_Model):
    """Limits of a run."""

    timeout: float = Field(default=120, gt=0, description="Seconds allowed for each model call.")
    max_retries: int = Field(default=3, ge=0, description="Retries of transient errors and invalid structured output.")
    max_loop_iterations: int = Field(default=10, ge=1, description="How often a loop may go back before the run fails.")
    retry_initial_delay: float = Field(
        default=1.0, ge=0, description="Seconds before the first retry; later retries wait exponentially longer."
    )
    max_cost_usd: float | None = Field(
        default=None,
        gt=0,
        description="Run budget in USD: the run stops before a model call whose worst case (prompt + max_tokens) "
        "could cross it.",
    )
    monthly_budget_usd: float | None = Field(
        default=None,
        gt=0,
        description="Monthly budget of this workflow in USD: a run is refused once its month-to-date spend "
        "(UTC calendar month, from the run store) has reached it.",
    )


class GlobalConfig(_Model):
    """Settings for the whole workflow."""

    llm: LLMSettings | None = Field(default=None, description="Default model settings for every node.")
    execution: ExecutionSettings | None = Field(default=None, description="Timeouts, retries, loop and cost limits.")
    observability: ObservabilitySettings | None = Field(default=None, description="MLflow and logging.")


class OptimizationConfig(_Model):
    """Global DSPy optimization settings (validated; not applied yet, SPEC §13)."""

    enabled: bool = Field(default=False, description="Turn prompt optimization on (warns: not applied yet).")
    strategy: str = Field(default="BootstrapFewShot", description="DSPy optimizer name.")
    metric: str = Field(default="semantic_match", description="Metric that scores outputs during optimization.")
    max_demos: int = Field(default=4, gt=0, description="Most few-shot demonstrations to add to a prompt (at least 1).")


class Workflow(_Model):
    """A Configurable Agents workflow file."""

    schema_version: Literal["1.0"] = Field(description='Version of this file format; "1.0".')
    flow: FlowInfo = Field(description="Name and description of the workflow.")
    state: StateConfig = Field(description="The typed state shared by all nodes.")
    nodes: Annotated[list[Node], Field(min_length=1)] = Field(description="The steps of the workflow.")
    edges: Annotated[list[Edge], Field(min_length=1)] = Field(
        description="Transitions between nodes, from START to END."
    )
    optimization: OptimizationConfig | None = Field(default=None, description="DSPy optimization (see §13).")
    config: GlobalConfig | None = Field(default=None, description="LLM, execution and observability settings.")
