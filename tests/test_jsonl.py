"""JSON-lines reading: line numbers, the cut-off last line a crash leaves, and what is damage instead."""

from __future__ import annotations

import json

import pytest

from perform.jsonl import JSONLinesError, read_json_lines


def test_lines_come_with_their_numbers_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n\n[2]\n')
    assert read_json_lines(path) == ([(1, {"a": 1}), (3, [2])], 0)


def test_a_last_line_cut_by_a_crash_is_left_out_only_where_allowed(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes('{"a": 1}\n{"b": "caf\u00e9'.encode()[:-1])  # cut inside a character, no newline after it
    assert read_json_lines(path, allow_cut=True) == ([(1, {"a": 1})], 2)
    with pytest.raises(JSONLinesError, match="line 2: not UTF-8 text") as info:
        read_json_lines(path)
    assert info.value.line == 2


def test_a_whole_bad_line_is_damage_even_when_it_is_the_last(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\nnot json\n')  # it ends with its newline: the write finished
    with pytest.raises(JSONLinesError) as info:
        read_json_lines(path, allow_cut=True)
    assert info.value.line == 2 and isinstance(info.value.error, json.JSONDecodeError)


def test_what_parse_refuses_names_its_line_and_bytes_that_are_not_utf8_theirs(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"t": 1}\n{"t": "x"}\n')

    def parse(line: str) -> float:
        t = json.loads(line)["t"]
        if not isinstance(t, int):
            raise TypeError(f"'t' is {t!r}")
        return t

    with pytest.raises(JSONLinesError, match="line 2: 't' is 'x'"):
        read_json_lines(path, parse, invalid=(TypeError,))
    path.write_bytes(b'{"a": 1}\n{"a": "\xff"}\n')
    with pytest.raises(JSONLinesError, match="line 2: not UTF-8 text"):
        read_json_lines(path)
