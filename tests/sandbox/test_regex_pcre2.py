"""User regexes run on PCRE2, as MongoDB's (issue 16, item 3): its syntax, its messages, its
match limit instead of catastrophic backtracking."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def test_pcre2_syntax_named_groups_and_h(coll) -> None:  # type: ignore[no-untyped-def]
    # (?<name>…) and \h are PCRE2 syntax; Python's re refuses both.
    coll.insert_many([{"_id": 1, "s": "abc"}, {"_id": 2, "s": "a\tb"}])
    assert [d["_id"] for d in coll.find({"s": {"$regex": "(?<w>ab)c"}})] == [1]
    assert [d["_id"] for d in coll.find({"s": {"$regex": "a\\hb"}})] == [2]


def test_word_class_is_ascii_but_caseless_folds_unicode(coll) -> None:  # type: ignore[no-untyped-def]
    # The server compiles with UTF and without UCP (util/pcre_util.cpp flagsToOptions).
    coll.insert_many([{"_id": 1, "s": "é"}, {"_id": 2, "s": "É"}])
    assert list(coll.find({"s": {"$regex": "^\\w$"}})) == []
    found = coll.find({"s": {"$regex": "^é$", "$options": "i"}})
    assert sorted(d["_id"] for d in found) == [1, 2]


def test_options_m_s_x(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"_id": 1, "s": "one\ntwo"})
    assert coll.count_documents({"s": {"$regex": "^two", "$options": "m"}}) == 1
    assert coll.count_documents({"s": {"$regex": "^two"}}) == 0
    assert coll.count_documents({"s": {"$regex": "one.two", "$options": "s"}}) == 1
    assert coll.count_documents({"s": {"$regex": "one.two"}}) == 0
    assert coll.count_documents({"s": {"$regex": "o n e # comment", "$options": "x"}}) == 1


def test_invalid_regex_has_pcre2_message(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"s": "x"})
    with pytest.raises(OperationFailure) as info:
        coll.find_one({"s": {"$regex": "[)"}})
    assert info.value.code == 51091
    assert info.value.details["errmsg"] == (
        "Regular expression is invalid: missing terminating ] for character class"
    )


def test_embedded_null_is_bad_value(coll) -> None:  # type: ignore[no-untyped-def]
    coll.insert_one({"s": "x"})
    with pytest.raises(OperationFailure) as info:
        coll.find_one({"s": {"$regex": "ab\x00c"}})
    assert info.value.code == 2


def test_catastrophic_pattern_hits_the_match_limit(uri: str) -> None:
    # Backtracking without end under Python's re; PCRE2 stops at its match limit, which the
    # server's matcher counts as no match (db/matcher/expression_leaf.cpp). The generous
    # socket timeout turns a hang into a failure.
    client: MongoClient = MongoClient(uri, socketTimeoutMS=60_000)
    try:
        coll = client.test.regex_catastrophic
        coll.drop()
        coll.insert_many([{"_id": 1, "s": "a" * 40 + "b"}, {"_id": 2, "s": "aaa"}])
        found = coll.find({"s": {"$regex": "(a+)+$"}})
        assert [d["_id"] for d in found] == [2]
    finally:
        client.close()


def test_regex_match_expression_runs_on_pcre2(uri: str) -> None:
    # $regexMatch reports PCRE2's match limit as an error, unlike the query matcher
    # (server: db/exec/expression/evaluate_regex.cpp, execute: 51156).
    client: MongoClient = MongoClient(uri, socketTimeoutMS=60_000)
    try:
        coll = client.test.regex_match_expr
        coll.drop()
        coll.insert_one({"_id": 1, "s": "abc", "t": "a" * 40 + "b"})

        def run(spec: dict) -> list:  # type: ignore[type-arg]
            return list(coll.aggregate([{"$project": {"_id": 0, "m": {"$regexMatch": spec}}}]))

        assert run({"input": "$s", "regex": "(?<w>ab)c"}) == [{"m": True}]
        assert run({"input": "$s", "regex": "^AB", "options": "i"}) == [{"m": True}]
        assert run({"input": "$missing", "regex": "a"}) == [{"m": False}]
        with pytest.raises(OperationFailure) as info:
            run({"input": "$t", "regex": "(a+)+$"})
        assert info.value.code == 51156
        assert info.value.details["errmsg"] == (
            "Error occurred while executing the regular expression in $regexMatch. "
            "Result code: match limit exceeded"
        )
        with pytest.raises(OperationFailure) as info:
            run({"input": "$s", "regex": "[)"})
        assert info.value.code == 51111
    finally:
        client.close()
