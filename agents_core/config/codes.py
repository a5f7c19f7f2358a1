"""The catalogue of problem codes: each code's severity and what it means.

Codes are stable: tools, tests and users match on them. A code is added here
before any rule may emit it, so the catalogue doubles as documentation
(`docs/VALIDATION.md` is checked against it) and the fixture corpus is
checked to cover it.
"""

from __future__ import annotations

from agents_core.errors import Severity

CODES: dict[str, tuple[Severity, str]] = {
    # 1. Syntax
    "E-FILE-READ": ("error", "the file cannot be read (missing, not UTF-8, not a file)"),
    "E-FILE-TOO-LARGE": ("error", "the file is larger than the 1 MiB limit"),
    "E-FILE-EMPTY": ("error", "the file holds no document"),
    "E-YAML-SYNTAX": ("error", "YAML syntax error"),
    "E-JSON-SYNTAX": ("error", "JSON syntax error"),
    "E-YAML-DUPLICATE-KEY": ("error", "a mapping has the same key twice"),
    "E-YAML-ALIAS-LIMIT": ("error", "aliases expand beyond the safety limit"),
    "E-YAML-TAG": ("error", "an unsafe or unknown YAML tag"),
    "E-YAML-MULTI-DOC": ("error", "more than one YAML document in the file"),
    "E-YAML-TAG-VALUE": ("error", "a standard YAML tag with a value it cannot take (!!bool maybe)"),
    "E-TEXT-ENCODING": ("error", "text that is not valid Unicode (a lone surrogate)"),
    "E-NESTING-DEPTH": ("error", "mappings and lists nested beyond the depth limit"),
    "E-YAML-DATE": ("error", "an unquoted value YAML reads as a date or time (2024-02-30); the format has none"),
    "E-NUMBER-TOO-LONG": ("error", "a number literal longer than the length limit"),
    # 2. Shape
    "E-SHAPE-NOT-MAPPING": ("error", "the document is not a mapping of keys"),
    "E-SHAPE-MISSING": ("error", "a required key is missing"),
    "E-SHAPE-UNKNOWN-KEY": ("error", "a key the format does not know"),
    "E-SHAPE-TYPE": ("error", "a value of the wrong type"),
    "E-SHAPE-VALUE": ("error", "a value outside its allowed range or set"),
    "E-SCHEMA-VERSION": ("error", "an unsupported schema_version"),
    "E-NAME-INVALID": ("error", "a name that is not identifier-like"),
    # 3. Types
    "E-TYPE-SYNTAX": ("error", "a type string that does not parse"),
    "E-TYPE-DEFAULT": ("error", "a default that does not match its declared type"),
    "E-STATE-REQUIRED-DEFAULT": ("error", "a state field both required and defaulted"),
    "E-STATE-SCHEMA": ("error", "`schema` given for a field that is not an object"),
    "E-OUTPUT-SCHEMA": ("error", "an output_schema of the wrong form"),
    # 4. References
    "E-REF-STATE": ("error", "a placeholder names an unknown state field"),
    "E-REF-SUBFIELD": ("error", "a placeholder names an unknown sub-field"),
    "E-REF-LOCAL": ("error", "a placeholder names an unknown input"),
    "E-TEMPLATE-SYNTAX": ("error", "a malformed placeholder or a stray brace"),
    "E-INPUT-NAME": ("error", "an input name that is not identifier-like or is reserved"),
    "E-OUTPUT-UNKNOWN-FIELD": ("error", "`outputs` names a field not in state"),
    "E-OUTPUT-MISMATCH": ("error", "`outputs` and output_schema names differ"),
    "E-OUTPUT-TYPE": ("error", "an output type incompatible with its state field"),
    "E-OUTPUT-COUNT": ("error", "a single-type output_schema needs exactly one output"),
    "E-TOOL-UNKNOWN": ("error", "a tool that is not in the registry"),
    "E-NODE-DUPLICATE": ("error", "two nodes with the same id"),
    "E-NODE-RESERVED": ("error", "a node id that is reserved (START, END)"),
    "E-EDGE-UNKNOWN-NODE": ("error", "an edge names a node that does not exist"),
    "E-COND-SYNTAX": ("error", "a route condition that does not parse"),
    "E-COND-TYPE": ("error", "a condition compares values that can never compare"),
    # 5. Graph
    "E-EDGE-SHAPE": ("error", "an edge without exactly one of to, routes, parallel"),
    "E-EDGE-FROM-END": ("error", "an edge that leaves END"),
    "E-EDGE-TO-START": ("error", "an edge that enters START"),
    "E-GRAPH-ENTRY": ("error", "not exactly one edge from START"),
    "E-GRAPH-MULTI-OUT": ("error", "a node with more than one outgoing edge block"),
    "E-GRAPH-DEAD-END": ("error", "a node with no outgoing edge"),
    "E-GRAPH-UNREACHABLE": ("error", "a node that START cannot reach"),
    "E-GRAPH-NO-END": ("error", "a node from which END cannot be reached"),
    "E-GRAPH-CYCLE": ("error", "a cycle made of plain edges only"),
    "E-ROUTE-NO-DEFAULT": ("error", "a routes block that does not end with default"),
    "E-ROUTE-DEFAULT-POSITION": ("error", "a default route that is not last"),
    "E-PARALLEL-BRANCH-EDGE": ("error", "a parallel branch with an edge of its own"),
    "E-PARALLEL-CONFLICT": ("error", "parallel branches that write the same field"),
    "E-EDGE-SEED-LOOP": ("error", "a seed-style `loop:` edge (a loop here is a route going back)"),
    "E-EDGE-SEED-FORK": ("error", "a seed-style fork `to: [a, b]` (a fan-out here is `parallel` + `join`)"),
    # 6. Providers
    "W-PROVIDER-UNKNOWN": ("warning", "a provider that is not registered"),
    "W-MODEL-UNKNOWN": ("warning", "a model name the provider does not list"),
    "W-PROVIDER-KEY": ("warning", "the provider's API key variable is unset"),
    # 7. Other warnings
    "W-STATE-UNUSED": ("warning", "a state field never written nor read"),
    "W-STATE-UNSET": ("warning", "a field read but never written, required or defaulted"),
    "W-NODE-NO-OUTPUTS": ("warning", "a node that writes no state field"),
    "W-OPTIMIZATION": ("warning", "optimization is enabled but not applied yet"),
}


def severity_of(code: str) -> Severity:
    """The severity a code always has (a code never changes severity)."""
    return CODES[code][0]
