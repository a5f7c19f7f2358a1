"""Read a workflow file into plain data plus the source position of every node.

Why not ``yaml.safe_load``: the validator must point at the line and column
of any key or value, duplicate keys must be errors (YAML silently keeps the
last one), and alias expansion must be bounded so a "billion laughs" file
fails in milliseconds instead of eating memory. So we let libyaml *compose*
the node tree (safe: composing builds no Python objects) and construct the
data ourselves, recording a :class:`Span` for every path on the way.

JSON files are checked with :mod:`json` first (exact JSON error positions),
then composed the same way; JSON is YAML-compatible once tabs, which valid
JSON only has as whitespace, become spaces of the same width.
"""

from __future__ import annotations

import bisect
import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from agents_core.config.codes import severity_of
from agents_core.config.limits import MAX_ALIAS_EXPANSION, MAX_FILE_BYTES, MAX_NESTING_DEPTH, MAX_NUMBER_LENGTH
from agents_core.errors import ParseError, Problem

__all__ = ["MAX_ALIAS_EXPANSION", "MAX_FILE_BYTES", "LoadedDocument", "SourceMap", "Span", "load_text", "read_source"]

PathKey = tuple[str | int, ...]

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_NODE_TAGS = {"sequence": "tag:yaml.org,2002:seq", "mapping": "tag:yaml.org,2002:map"}
_SURROGATE = re.compile("[\ud800-\udfff]")


#: Characters YAML also ends a line at; editors (Ace, VS Code) and ``text.count("\n")`` do not.
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")


class _Positions:
    """Line and column of a YAML mark, counted as editors count them: lines end at ``\n``.

    YAML also ends lines at ``\r``, U+0085, U+2028 and U+2029, so where the
    text holds one of those the mark's character index is mapped through the
    text's own newlines; elsewhere the mark's line and column are already right.
    """

    def __init__(self, text: str, shift: int = 0) -> None:
        self.shift = shift  # characters before what YAML saw (a stripped BOM)
        self._text = text
        self._lines = text.count("\n") + 1
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))] if _OTHER_BREAKS.search(text) else None

    def __call__(self, mark: Any) -> tuple[int, int]:
        if self._starts is None and mark.line < self._lines:
            return mark.line + 1, mark.column + 1
        return self.of_index(mark.index)

    def of_index(self, index: int) -> tuple[int, int]:
        """The place of the character at ``index`` of the text YAML saw."""
        index = min(index + self.shift, len(self._text))  # an end-of-stream mark stays on the last line
        starts = self._starts if self._starts is not None else self._newlines()
        line = bisect.bisect_right(starts, index) - 1
        return line + 1, index - starts[line] + 1

    def _newlines(self) -> list[int]:
        self._starts = [0, *(m.end() for m in re.finditer("\n", self._text))]
        return self._starts


def has_lone_surrogate(text: str) -> bool:
    """True when ``text`` holds a surrogate code point that no encoding can write."""
    return _SURROGATE.search(text) is not None


class Span(NamedTuple):
    """Where one value sits in the source (1-based line/column)."""

    line: int
    column: int
    key_line: int
    key_column: int
    start: int  # character offsets into the source text
    end: int


def format_path(path: PathKey) -> str:
    """``("nodes", 1, "prompt")`` -> ``nodes[1].prompt``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class SourceMap:
    """Positions of every value in a document, looked up by path."""

    def __init__(self, text: str, spans: dict[PathKey, Span]) -> None:
        self.text = text
        self.spans = spans
        self._line_starts = [0, *(match.end() for match in re.finditer("\n", text))]

    def span(self, path: PathKey) -> Span | None:
        """The span of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            found = self.spans.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.spans.get(())

    def value_position(self, path: PathKey) -> tuple[int, int]:
        found = self.span(path)
        return (found.line, found.column) if found else (1, 1)

    def key_position(self, path: PathKey) -> tuple[int, int]:
        found = self.span(path)
        return (found.key_line, found.key_column) if found else (1, 1)

    def position_of_offset(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, index) - 1
        return line + 1, index - self._line_starts[line] + 1

    def locate_in_value(self, path: PathKey, value: str, offset: int, length: int) -> tuple[int, int]:
        """Source position of ``value[offset:offset+length]`` inside the scalar at ``path``.

        The n-th occurrence of the piece in the parsed value is matched to
        its n-th occurrence in the raw source of the scalar, which holds for
        plain, quoted and block scalars alike (placeholders contain no
        characters that YAML escapes). Falls back to the scalar's start.
        """
        found = self.spans.get(tuple(path))
        if found is None:
            return self.value_position(path)
        piece = value[offset : offset + length]
        occurrence = value.count(piece, 0, offset) if piece else 0
        raw_index = found.start - 1
        for _ in range(occurrence + 1):
            raw_index = self.text.find(piece, raw_index + 1, found.end)
            if raw_index < 0:
                return found.line, found.column
        return self.position_of_offset(raw_index)


@dataclass
class LoadedDocument:
    """A parsed file: plain data, where each part came from, and load problems."""

    data: Any
    source: SourceMap
    file: str | None = None
    problems: list[Problem] = field(default_factory=list)


class _LoadLimit(Exception):
    """A safety limit was breached while building; the whole file is refused."""

    def __init__(self, place: tuple[int, int], message: str, code: str = "E-YAML-ALIAS-LIMIT", hint: str = "") -> None:
        super().__init__(message)
        self.place = place
        self.message = message
        self.code = code
        self.hint = hint or "Expand the anchors by hand or use fewer aliases."


def _problem(code: str, message: str, hint: str, file: str | None, line: int, column: int, path: str = "") -> Problem:
    return Problem(code, severity_of(code), message, hint, path, file, line, column)


class _Builder:
    """Builds plain data from a composed YAML node tree, recording spans."""

    def __init__(self, file: str | None, positions: _Positions) -> None:
        from yaml.constructor import SafeConstructor

        self.file = file
        self._pos = positions
        self.spans: dict[PathKey, Span] = {}
        self.problems: list[Problem] = []
        self._scalars = SafeConstructor()
        self._seen: set[int] = set()
        self._active: set[int] = set()
        self._alias_budget = MAX_ALIAS_EXPANSION
        self._alias_entry: PathKey = ()

    def _place(self, path: PathKey) -> tuple[int, int]:
        """Where an alias is used: the key that holds it, or the list it is an item of.

        (An item's own span is that of the anchored node, elsewhere in the file.)
        """
        use_value = bool(path) and isinstance(path[-1], int)
        if use_value:
            path = path[:-1]
        while path and path not in self.spans:
            path = path[:-1]
        span = self.spans.get(path)
        if span is None:
            return 1, 1
        return (span.line, span.column) if use_value else (span.key_line, span.key_column)

    def build(self, node: Any, path: PathKey, key_node: Any = None, via_alias: bool = False) -> Any:
        node_id = id(node)
        if node_id in self._active:
            place = self._pos(key_node.start_mark) if key_node else self._place(path)
            raise _LoadLimit(place, "an alias refers to the mapping or list that contains it")
        if len(path) > MAX_NESTING_DEPTH:
            raise _LoadLimit(
                self._pos(node.start_mark),
                f"mappings and lists are nested more than {MAX_NESTING_DEPTH} levels deep here",
                "E-NESTING-DEPTH",
                "Flatten the structure; workflow files need only a few levels.",
            )
        if node_id in self._seen and not via_alias:
            via_alias = True
            self._alias_entry = path  # where the expansion being counted started
        self._seen.add(node_id)
        if via_alias:
            self._alias_budget -= 1
            if self._alias_budget < 0:
                raise _LoadLimit(
                    self._place(self._alias_entry), f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values"
                )
        shift = self._pos.shift
        self.spans[path] = Span(
            *self._pos(node.start_mark),
            *self._pos((key_node or node).start_mark),
            node.start_mark.index + shift,
            node.end_mark.index + shift,
        )
        kind = node.id
        if kind == "scalar":
            return self._scalar(node, path)
        self._active.add(node_id)
        try:
            if kind == "sequence":
                if not self._check_tag(node, path):
                    return []
                return [self.build(item, (*path, i), via_alias=via_alias) for i, item in enumerate(node.value)]
            return self._mapping(node, path, via_alias)
        finally:
            self._active.discard(node_id)

    def _check_tag(self, node: Any, path: PathKey) -> bool:
        if node.tag in _STANDARD_TAGS:
            expected = _NODE_TAGS.get(node.id)
            if expected is None or node.tag == expected:
                return True
            self._tag_value_problem(node, path)
            return False
        self.problems.append(
            _problem(
                "E-YAML-TAG",
                f"the tag {node.tag!r} is not allowed; workflow files use plain YAML values only.",
                "Remove the tag (the part starting with '!').",
                self.file,
                *self._pos(node.start_mark),
                format_path(path),
            )
        )
        return False

    def _scalar(self, node: Any, path: PathKey) -> Any:
        tag = node.tag
        if tag == _STR_TAG:
            return node.value  # the common case, without the constructor's bookkeeping
        if not self._check_tag(node, path):
            return node.value
        if tag == _TIMESTAMP_TAG and self._scalars.timestamp_regexp.match(node.value):
            # The format has no date type. YAML reads an unquoted date-like value (valid
            # or not, e.g. 2024-02-30) as a timestamp, so it is an error that says how to
            # keep it as text; the text is kept so nothing else is reported about it.
            self.problems.append(
                _problem(
                    "E-YAML-DATE",
                    f"{node.value!r} is unquoted, so YAML reads it as a date or time; workflow files have no date values.",
                    f'Quote it to keep it as text: "{node.value}".',
                    self.file,
                    *self._pos(node.start_mark),
                    format_path(path),
                )
            )
            return node.value
        if tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_LENGTH:
            self.problems.append(
                _problem(
                    "E-NUMBER-TOO-LONG",
                    f"this number is {len(node.value):,} characters long; the limit is {MAX_NUMBER_LENGTH}.",
                    "Write a shorter number, or quote it if it is meant as text.",
                    self.file,
                    *self._pos(node.start_mark),
                    format_path(path),
                )
            )
            return node.value
        try:
            return self._scalars.construct_object(node, deep=True)
        except Exception:  # any constructor failure is the value's fault
            self._tag_value_problem(node, path)
            return node.value

    def _tag_value_problem(self, node: Any, path: PathKey) -> None:
        kind = node.tag.rsplit(":", 1)[-1]
        shown = node.value if node.id == "scalar" else f"a {node.id}"
        self.problems.append(
            _problem(
                "E-YAML-TAG-VALUE",
                f"the value {shown!r} cannot be read as {kind} (tag !!{kind}).",
                f"Remove the '!!{kind}' tag, or write a value that is a {kind}.",
                self.file,
                *self._pos(node.start_mark),
                format_path(path),
            )
        )

    def _mapping(self, node: Any, path: PathKey, via_alias: bool) -> dict[Any, Any]:
        if not self._check_tag(node, path):
            return {}
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if value_node.id == "sequence" else [value_node]
                for number, source in enumerate(sources):
                    if source.id == "mapping":
                        # Built under a scratch path (with the alias checks of build()), so the
                        # positions of keys written explicitly in this mapping are never replaced.
                        built = self.build(source, (*path, f"<<{number}"), key_node=key_node, via_alias=True)
                        merged.update({k: v for k, v in built.items() if k not in merged})
                continue
            if key_node.id != "scalar":
                self.problems.append(
                    _problem(
                        "E-SHAPE-TYPE",
                        "a mapping key must be a plain name, not a list or mapping.",
                        "Write the key as a plain word.",
                        self.file,
                        *self._pos(key_node.start_mark),
                        format_path(path),
                    )
                )
                continue
            key = self._scalar(key_node, path)
            if not isinstance(key, str):
                key = str(key) if key is not None else "null"
            if key in result:
                first = self.spans.get((*path, key))
                first_line = first.key_line if first else "?"
                self.problems.append(
                    _problem(
                        "E-YAML-DUPLICATE-KEY",
                        f"the key {key!r} appears twice in this mapping (first at line {first_line}).",
                        "Remove or rename one of them; YAML would silently keep only the last.",
                        self.file,
                        *self._pos(key_node.start_mark),
                        format_path((*path, key)),
                    )
                )
                continue
            result[key] = self.build(value_node, (*path, key), key_node=key_node, via_alias=via_alias)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result


def _yaml_error_problem(
    exc: Any, file: str | None, text: str, code: str = "E-YAML-SYNTAX", positions: _Positions | None = None
) -> Problem:
    from yaml.reader import ReaderError  # already imported by the caller

    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    place = positions or _Positions(text)
    if isinstance(exc, ReaderError):
        # The reader stops at the first character YAML forbids; libyaml counts its
        # position in bytes, so the place is found from the character itself.
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        index = text.find(chr(character))
        return _problem(
            code,
            f"YAML syntax error: the character U+{character:04X} is not allowed in YAML text ({exc.reason}).",
            'Delete the character; if it belongs in a value, write it as an escape in double quotes, e.g. "\\x07".',
            file,
            *(place.of_index(index - place.shift) if index >= 0 else (1, 1)),
        )
    line_count = max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)
    tab_found = "tab character" in what or "'\\t'" in what
    if (
        context_mark is not None
        and not (tab_found and mark is not None)
        and (
            context.startswith(("while scanning a quoted scalar", "while scanning a block scalar"))
            or (mark is not None and place(mark)[0] > line_count)
        )
    ):
        mark = context_mark  # where the unclosed thing opened, not the end of the file
    line, column = place(mark) if mark else (1, 1)
    if line > line_count:
        line, column = line_count, 1
    message = f"YAML syntax error: {what}" + (f" ({context})" if context else "") + "."
    hint = "Check the indentation and quoting on this line and the one above."
    source_line = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    if tab_found or "\t" in source_line[: max(column, 1)]:
        hint = "YAML indents with spaces, never tabs: replace the tabs with spaces."
    elif "mapping values are not allowed" in what:
        hint = "A value containing ': ' must be quoted, or the indentation is off."
    elif "could not find expected ':'" in what:
        hint = "A key is missing its ':' or a multi-line string is not indented under its key."
    return _problem(code, message, hint, file, line, column)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Composing and building create many objects but no cycles; the cyclic
    collector would otherwise rescan them over and over (5,000 nodes: 4x slower)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_text(text: str, file: str | None = None) -> LoadedDocument:
    """Parse workflow text; problems go into ``LoadedDocument.problems``.

    ``data`` is ``None`` when the text could not be parsed at all. The file
    format is chosen by the extension of ``file`` (``.json`` or YAML).
    """
    with _gc_paused():
        return _load_text(text, file)


def _load_text(text: str, file: str | None) -> LoadedDocument:
    import yaml

    empty = SourceMap(text, {})
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        problem = _problem(
            "E-FILE-TOO-LARGE",
            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB.",
            "Workflow files are small; split the file or remove embedded data.",
            file,
            1,
            1,
        )
        return LoadedDocument(None, empty, file, [problem])
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        line, column = SourceMap(text, {}).position_of_offset(surrogate.start())
        problem = _problem(
            "E-TEXT-ENCODING",
            f"the text holds a lone surrogate (U+{ord(surrogate.group()):04X}), which is not a character.",
            "Delete the character or retype it; the text must be valid Unicode.",
            file,
            line,
            column,
        )
        return LoadedDocument(None, empty, file, [problem])
    is_json = bool(file) and str(file).lower().endswith(".json")
    yaml_text = text
    if is_json:
        if text.startswith("\ufeff"):
            text = " " + text[1:]  # a UTF-8 BOM; a space keeps every offset where it was
        try:
            # Numbers are not converted (only the syntax is checked here): a number too
            # long for int() is reported, with its place, when the document is built.
            json.loads(text, parse_int=len, parse_float=len, parse_constant=len)
        except RecursionError:
            pass  # nested too deeply: composing below reports the place
        except json.JSONDecodeError as exc:
            problem = _problem(
                "E-JSON-SYNTAX",
                f"JSON syntax error: {exc.msg}.",
                "Check commas, quotes and brackets near this place.",
                file,
                exc.lineno,
                exc.colno,
            )
            return LoadedDocument(None, empty, file, [problem])
        yaml_text = text.replace("\t", " ")
    shift = 0
    if yaml_text.startswith("\ufeff"):
        # YAML skips a BOM, but libyaml then counts indices without it: strip it, shift back.
        yaml_text, shift = yaml_text[1:], 1
    positions = _Positions(text, shift)
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(yaml_text, Loader=loader_class)
    except RecursionError:
        return LoadedDocument(None, empty, file, [_depth_problem(file, 1, 1)])
    except yaml.composer.ComposerError as exc:
        code = "E-YAML-MULTI-DOC" if "single document" in str(exc) else "E-YAML-SYNTAX"
        problem = _yaml_error_problem(exc, file, text, code, positions)
        if code == "E-YAML-MULTI-DOC":
            problem = _problem(
                code,
                "the file holds more than one YAML document ('---').",
                "Keep one workflow per file.",
                file,
                problem.line,
                problem.column,
            )
        return LoadedDocument(None, empty, file, [problem])
    except yaml.YAMLError as exc:
        problem = _yaml_error_problem(exc, file, text, positions=positions)
        if "maximum nesting depth" in str(exc):
            problem = _depth_problem(file, problem.line, problem.column)
        return LoadedDocument(None, empty, file, [problem])
    if root is None:
        return LoadedDocument(None, empty, file, [_empty_problem(file, "the file holds no workflow.")])
    builder = _Builder(file, positions)
    try:
        data = builder.build(root, ())
    except _LoadLimit as exc:
        problem = _problem(exc.code, f"{exc.message}; the file was not loaded.", exc.hint, file, *exc.place)
        return LoadedDocument(None, empty, file, [problem])
    except RecursionError:
        return LoadedDocument(None, empty, file, [_depth_problem(file, 1, 1)])
    if data is None and not builder.problems:
        line, column = positions(root.start_mark)
        message = "the file is empty: it holds only a null value (such as '~', 'null' or a bare anchor), no mapping."
        return LoadedDocument(None, empty, file, [_empty_problem(file, message, line, column)])
    return LoadedDocument(data, SourceMap(text, builder.spans), file, builder.problems)


def _empty_problem(file: str | None, message: str, line: int = 1, column: int = 1) -> Problem:
    return _problem("E-FILE-EMPTY", message, "Start from a template or an example.", file, line, column)


def _depth_problem(file: str | None, line: int, column: int) -> Problem:
    return _problem(
        "E-NESTING-DEPTH",
        f"mappings and lists are nested more than {MAX_NESTING_DEPTH} levels deep here; the file was not loaded.",
        "Flatten the structure; workflow files need only a few levels.",
        file,
        line,
        column,
    )


def read_source(path: str | Path) -> str:
    """Read a workflow file as UTF-8 text, raising :class:`ParseError` with a Problem."""
    path = Path(path)
    shown = str(path)

    def fail(message: str, hint: str, code: str = "E-FILE-READ") -> ParseError:
        problem = _problem(code, message, hint, shown, 1, 1)
        return ParseError(message, hint, [problem])

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise fail(f"{shown}: no such file.", "Check the path.") from None
    except OSError as exc:
        raise fail(f"{shown}: cannot be read ({exc.strerror}).", "Check the path and its permissions.") from None
    if not path.is_file():
        raise fail(f"{shown}: is not a file.", "Give the path of a .yaml, .yml or .json file.")
    if size > MAX_FILE_BYTES:
        raise fail(
            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB ({size:,} bytes).",
            "Workflow files are small; split the file or remove embedded data.",
            "E-FILE-TOO-LARGE",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"{shown}: cannot be read ({exc.strerror}).", "Check the path and its permissions.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", errors="replace")) + 1
        message = (
            f"{shown}: is not UTF-8 text (byte {exc.start}, 0x{data[exc.start]:02X}, at line {line}, col {column})."
        )
        problem = _problem("E-FILE-READ", message, "Save the file as UTF-8.", shown, line, column)
        raise ParseError(message, problem.hint, [problem]) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as read_text() gave
