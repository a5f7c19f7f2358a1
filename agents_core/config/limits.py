"""The safety limits of the file format, in one place (SPEC §14).

A workflow file is small, hand-written text; these limits are far above
anything a person writes and far below what would exhaust memory, the
C stack or Python's recursion limit. Each limit breached is reported as a
problem with the place it was breached and what to do, never as a crash.
The config reference (``docs/CONFIG_REFERENCE.md``) lists them from here.
"""

from __future__ import annotations

#: Largest workflow file read, in bytes.
MAX_FILE_BYTES = 1024 * 1024
#: Most values built by re-visiting anchored nodes through aliases ("billion laughs").
MAX_ALIAS_EXPANSION = 10_000
#: Deepest nesting of mappings and lists (YAML, JSON, or data handed to the API).
MAX_NESTING_DEPTH = 100
#: Longest number literal, in characters (Python refuses to convert ints over 4,300 digits).
MAX_NUMBER_LENGTH = 100
#: Deepest nesting of parentheses and ``not`` in a route condition.
MAX_CONDITION_DEPTH = 50
#: Deepest nesting of ``list[...]`` / ``dict[...]`` in a type string.
MAX_TYPE_DEPTH = 20

#: (name, value, what it bounds) for the config reference.
LIMITS: tuple[tuple[str, str, str], ...] = (
    ("file size", f"{MAX_FILE_BYTES // 1024} KiB", "bytes in a workflow file"),
    ("alias expansion", f"{MAX_ALIAS_EXPANSION:,} values", "values built by re-using anchors through aliases"),
    ("nesting depth", f"{MAX_NESTING_DEPTH} levels", "mappings and lists inside one another (YAML, JSON, API data)"),
    ("number length", f"{MAX_NUMBER_LENGTH} characters", "digits (and sign, point, exponent) in one number"),
    ("condition depth", f"{MAX_CONDITION_DEPTH} levels", "nested parentheses and 'not' in a route condition"),
    ("type depth", f"{MAX_TYPE_DEPTH} levels", "list[...] / dict[...] inside one another in a type string"),
)
