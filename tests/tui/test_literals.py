"""The editor's parser: relaxed Extended JSON and mongosh literals, errors with positions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from bson import Decimal128, Int64, ObjectId, Timestamp

from mongotx_tui.model.literals import LiteralError, format_value, parse_document, parse_value


def test_unquoted_keys_single_quotes_trailing_commas_comments():
    assert parse_value("{a: 1, 'b': 'x', c: [1, 2,], // note\n}") == {"a": 1, "b": "x", "c": [1, 2]}


def test_mongosh_constructors():
    doc = parse_document(
        "{_id: ObjectId('64b7f0c2a1b2c3d4e5f60718'), at: ISODate('2024-01-02T03:04:05Z'),"
        " n: NumberLong(7), i: NumberInt('3'), d: NumberDecimal('10.50'), t: Timestamp(5, 1),"
        " when: new Date('2024-01-02')}"
    )
    assert doc["_id"] == ObjectId("64b7f0c2a1b2c3d4e5f60718")
    assert doc["at"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert isinstance(doc["n"], Int64) and doc["n"] == 7
    assert doc["i"] == 3
    assert doc["d"] == Decimal128(Decimal("10.50"))
    assert doc["t"] == Timestamp(5, 1)
    assert doc["when"].date() == dt.date(2024, 1, 2)


def test_extended_json_and_operators():
    assert parse_value('{"$oid": "64b7f0c2a1b2c3d4e5f60718"}') == ObjectId(
        "64b7f0c2a1b2c3d4e5f60718"
    )
    assert parse_value("{$inc: {balance: -10}}") == {"$inc": {"balance": -10}}
    assert parse_value("[{$match: {a: {$gt: 1}}}]") == [{"$match": {"a": {"$gt": 1}}}]


def test_constructor_names_inside_strings_are_left_alone():
    assert parse_value("{a: 'ObjectId(1)', b: \"NumberLong(x)\"}") == {
        "a": "ObjectId(1)",
        "b": "NumberLong(x)",
    }


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("{a: 1,\n b: }", 2, 5, "Unexpected"),
        ("{a: ObjectId('zz')}", 1, 5, "24 hex digits"),
        ("{a: ObjectId('64b7f0c2a1b2c3d4e5f60718'), b: }", 1, 46, "Unexpected"),
        ("{a: NumberLong('x')}", 1, 5, "integer"),
        ("", 1, 1, "empty"),
    ],
)
def test_errors_point_at_the_users_text(text, line, column, fragment):
    with pytest.raises(LiteralError) as info:
        parse_value(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert fragment in info.value.message


def test_format_value_round_trips_relaxed():
    doc = {"_id": ObjectId("64b7f0c2a1b2c3d4e5f60718"), "n": 1}
    assert parse_value(format_value(doc)) == doc


FAST_AND_SLOW = [
    '{_id: \'alice\', b: "x\\"y", c: [1, 2,], d: {e: null,}, // note\n f: 1}',
    "{f: ObjectId('0123456789abcdef01234567'), g: new Date('2024-01-01'), 'h i': 'it\\'s'}",
    "{a: NumberLong(5), b: NumberInt('7'), c: NumberDecimal('1.5'), t: Timestamp(1, 2),}",
    "{a: 'x' /* c */ , b: [true, false, null], c: -0.5e3, d: 'tab\\there', e: 'é\\u00e9'}",
    '{"strict": ["json", 1, 2.5, {"n": null}], "$set": {"a.b": 1}}',
    "{a: 0x1F, b: +1, c: .5, d: Infinity, e: 'q\\\"d'}",  # outside the fast subset
    "[{$match: {a: {$gt: 1}}}, {$sort: {_id: -1}}]",
    "'just a string'",
    "42",
]


@pytest.mark.parametrize("text", FAST_AND_SLOW)
def test_the_fast_path_reads_what_json5_reads(text):
    from mongotx_tui.model.literals import _parse_json5

    assert parse_value(text) == _parse_json5(text)


def test_a_pasted_300_kb_document_reads_the_same_on_both_paths():
    """The benchmark's document (benchmarks/literals_bench.py prints how long it takes)."""
    import importlib.util
    from pathlib import Path

    from mongotx_tui.model.literals import _parse_json5, _to_json

    path = Path(__file__).parents[2] / "benchmarks" / "literals_bench.py"
    spec = importlib.util.spec_from_file_location("literals_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench.mongosh_doc(300)
    assert _to_json(text) is not None  # the fast path takes it
    doc = parse_value(text)
    assert len(doc["rows"]) > 1000 and doc == _parse_json5(text)
