"""The loader: positions of keys and values, and the safety limits of SPEC §14."""

from __future__ import annotations

from agents_core.config.loader import MAX_FILE_BYTES, format_path, load_text, read_source
from agents_core.errors import ParseError


def codes(document):
    return [p.code for p in document.problems]


def test_positions_of_keys_and_values_are_one_based():
    doc = load_text("a: 1\nnested:\n  key: value\nitems:\n  - x\n  - {y: 2}\n", "f.yaml")
    assert doc.problems == []
    assert doc.source.value_position(("a",)) == (1, 4)
    assert doc.source.key_position(("nested", "key")) == (3, 3)
    assert doc.source.value_position(("nested", "key")) == (3, 8)
    assert doc.source.value_position(("items", 1, "y")) == (6, 9)


def test_missing_path_falls_back_to_nearest_ancestor():
    doc = load_text("outer:\n  inner: 1\n", "f.yaml")
    assert doc.source.value_position(("outer", "inner", "absent")) == (2, 10)


def test_piece_inside_block_scalar_is_located_on_its_own_line():
    text = "prompt: |\n  first line\n  second {state.x} and {state.x}\n"
    doc = load_text(text, "f.yaml")
    value = doc.data["prompt"]
    second = value.index("{state.x}", value.index("{state.x}") + 1)
    assert doc.source.locate_in_value(("prompt",), value, value.index("{state.x}"), 9) == (3, 10)
    assert doc.source.locate_in_value(("prompt",), value, second, 9) == (3, 24)


def test_positions_count_characters_not_bytes():
    doc = load_text("title: 'héllo wörld'\nnext: {state: x}\n", "f.yaml")
    assert doc.source.value_position(("next", "state")) == (2, 15)
    value = doc.data["title"]
    assert doc.source.locate_in_value(("title",), value, value.index("w"), 1) == (1, 15)


def test_duplicate_keys_are_errors_at_the_second_key():
    doc = load_text("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert codes(doc) == ["E-YAML-DUPLICATE-KEY"]
    problem = doc.problems[0]
    assert (problem.line, problem.column) == (3, 1)
    assert "first at line 1" in problem.message
    assert doc.data["a"] == 1


def test_billion_laughs_fails_fast_without_expanding():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        prev, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    doc = load_text("\n".join(lines) + "\n", "bomb.yaml")
    assert doc.data is None
    assert codes(doc) == ["E-YAML-ALIAS-LIMIT"]


def test_small_anchors_and_merge_keys_still_work():
    text = "base: &base {provider: local, temperature: 0.1}\nnode:\n  <<: *base\n  temperature: 0.5\n"
    doc = load_text(text, "f.yaml")
    assert doc.problems == []
    assert doc.data["node"] == {"provider": "local", "temperature": 0.5}


def test_recursive_alias_is_refused():
    doc = load_text("a: &a [1, *a]\n", "f.yaml")
    assert codes(doc) == ["E-YAML-ALIAS-LIMIT"]


def test_unsafe_tags_are_refused_and_never_constructed():
    doc = load_text("x: !!python/object/apply:os.system ['echo hacked']\n", "f.yaml")
    assert "E-YAML-TAG" in codes(doc)


def test_syntax_error_has_line_and_column_and_a_hint():
    doc = load_text("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    assert doc.data is None
    (problem,) = doc.problems
    assert problem.code == "E-YAML-SYNTAX"
    assert problem.line >= 2
    assert problem.hint


def test_tabs_get_a_tab_specific_hint():
    doc = load_text("a:\n\tb: 1\n", "f.yaml")
    assert doc.problems[0].code == "E-YAML-SYNTAX"
    assert "tabs" in doc.problems[0].hint


def test_json_errors_use_json_positions_and_json_tabs_are_fine():
    broken = load_text('{\n  "a": 1,\n  "b": \n}\n', "f.json")
    assert codes(broken) == ["E-JSON-SYNTAX"]
    assert broken.problems[0].line == 4
    tabbed = load_text('{\n\t"a": {\n\t\t"b": 2\n\t}\n}\n', "f.json")
    assert tabbed.problems == []
    assert tabbed.source.value_position(("a", "b")) == (3, 8)


def test_multiple_documents_and_empty_files_are_errors():
    assert codes(load_text("a: 1\n---\nb: 2\n", "f.yaml")) == ["E-YAML-MULTI-DOC"]
    assert codes(load_text("# only a comment\n", "f.yaml")) == ["E-FILE-EMPTY"]


def test_size_limit_applies_to_text_and_files(tmp_path):
    big = "a: " + "x" * (MAX_FILE_BYTES + 1) + "\n"
    assert codes(load_text(big, "f.yaml")) == ["E-FILE-TOO-LARGE"]
    path = tmp_path / "big.yaml"
    path.write_text(big)
    try:
        read_source(path)
    except ParseError as exc:
        assert exc.problems[0].code == "E-FILE-TOO-LARGE"
    else:
        raise AssertionError("a file over the limit was read")


def test_unreadable_files_raise_parse_error_with_a_problem(tmp_path):
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"a: \xff\xfe\n")
    for path in (tmp_path / "missing.yaml", binary, tmp_path):
        try:
            read_source(path)
        except ParseError as exc:
            assert exc.problems[0].code == "E-FILE-READ"
            assert exc.problems[0].file == str(path)
        else:
            raise AssertionError(f"{path} was read")


def test_format_path():
    assert format_path(("nodes", 1, "prompt")) == "nodes[1].prompt"
    assert format_path(()) == ""
