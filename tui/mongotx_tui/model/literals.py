"""Parse what people type into editor fields: relaxed Extended JSON and mongosh-style literals.

`parse_value(text)` accepts JSON5 (unquoted keys, single quotes, trailing commas, comments),
Extended JSON (`{"$oid": ...}`, `{"$date": ...}`, ...) and the mongosh constructors
`ObjectId()`, `ISODate()`, `new Date()`, `NumberLong()`, `NumberInt()`, `NumberDecimal()`,
`Timestamp()`, `UUID()`, `BinData()`, `MinKey()`/`MaxKey()`. Constructor calls are rewritten
to Extended JSON, the result is parsed with `json5`, and `bson.json_util` turns Extended JSON
into BSON types. Errors carry the 1-based line and column in the text the user typed.

No textual, no rich: this is the pure core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["LiteralError", "format_value", "parse_document", "parse_value"]


@dataclass
class LiteralError(ValueError):
    """A field's text could not be read; where (1-based line and column) and why."""

    message: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


_CTOR = re.compile(
    r"(?:new\s+)?\b(ObjectId|ISODate|Date|NumberLong|NumberInt|NumberDecimal|Timestamp|UUID|"
    r"BinData|MinKey|MaxKey)\s*\("
)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def _skip_string(text: str, i: int) -> int:
    """`text[i]` is a quote; return the index just after the closing quote."""
    quote = text[i]
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        i += 1
    return i


def _split_args(text: str, start: int) -> tuple[list[tuple[str, int]], int]:
    """Arguments of a call whose '(' is just before `start`: [(raw arg, offset)], end index."""
    args: list[tuple[str, int]] = []
    depth = 0
    i = start
    arg_start = start
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            i = _skip_string(text, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                if ch != ")":
                    break
                raw = text[arg_start:i]
                if raw.strip() or args:
                    args.append((raw, arg_start))
                return args, i + 1
            depth -= 1
        elif ch == "," and depth == 0:
            args.append((text[arg_start:i], arg_start))
            arg_start = i + 1
        i += 1
    raise LiteralError("unclosed '(' in constructor call", *_line_col(text, start - 1))


_SIMPLE_STR = re.compile(r"'[^'\\\n]*'|" + r'"[^"\\\n]*"')
_SIMPLE_NUM = re.compile(r"-?\d+")


def _string_arg(text: str, raw: str, offset: int, ctor: str) -> str:
    import json5

    value = raw.strip()
    if _SIMPLE_STR.fullmatch(value):  # the common case, without json5's cost
        return value[1:-1]
    if _SIMPLE_NUM.fullmatch(value):
        return value
    try:
        parsed = json5.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, int | float) and not isinstance(parsed, bool):
        return value
    pos = offset + (len(raw) - len(raw.lstrip()))
    raise LiteralError(f"{ctor}() takes a string or number, got {value!r}", *_line_col(text, pos))


def _rewrite(text: str) -> tuple[str, list[tuple[int, int, bool]]]:
    """Rewrite constructor calls to Extended JSON; return text and a position map.

    The map holds (new_start, old_start, copied) segments so an error position in the
    rewritten text can be reported in the user's text.
    """
    import json

    out: list[str] = []
    segs: list[tuple[int, int, bool]] = []
    n = 0  # length of output so far
    i = 0
    copy_from = 0

    def flush(upto: int) -> None:
        nonlocal n
        if upto > copy_from:
            segs.append((n, copy_from, True))
            out.append(text[copy_from:upto])
            n += upto - copy_from

    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            i = _skip_string(text, i)
            continue
        if ch == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        if ch == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j < 0 else j + 2
            continue
        m = _CTOR.match(text, i) if (ch.isalpha()) else None
        if m is None or (i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")):
            i += 1
            continue
        ctor = m.group(1)
        args, end = _split_args(text, m.end())
        strs = [_string_arg(text, raw, off, ctor) for raw, off in args]
        replacement = _ext_json(ctor, strs, text, i, m.group(0).startswith("new"))
        flush(i)
        segs.append((n, i, False))
        rep = json.dumps(replacement)
        out.append(rep)
        n += len(rep)
        i = end
        copy_from = end
    flush(len(text))
    return "".join(out), segs


def _ext_json(ctor: str, args: list[str], text: str, pos: int, new: bool) -> Any:
    def need(count: int) -> None:
        if len(args) != count:
            raise LiteralError(
                f"{ctor}() takes {count} argument{'s' if count != 1 else ''}, got {len(args)}",
                *_line_col(text, pos),
            )

    if ctor == "ObjectId":
        if not args:
            from bson import ObjectId

            return {"$oid": str(ObjectId())}
        need(1)
        if not re.fullmatch(r"[0-9a-fA-F]{24}", args[0]):
            raise LiteralError("ObjectId() needs 24 hex digits", *_line_col(text, pos))
        return {"$oid": args[0]}
    if ctor in ("ISODate", "Date"):
        if not args:
            import datetime as dt

            now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
            return {"$date": now.replace("+00:00", "Z")}
        need(1)
        value = args[0]
        if re.fullmatch(r"-?\d+", value):
            return {"$date": {"$numberLong": value}}
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            value += "T00:00:00Z"
        elif not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value):
            value += "Z"
        return {"$date": value}
    if ctor == "NumberLong":
        need(1)
        if not re.fullmatch(r"[+-]?\d+", args[0]):
            raise LiteralError("NumberLong() needs an integer", *_line_col(text, pos))
        return {"$numberLong": str(int(args[0]))}
    if ctor == "NumberInt":
        need(1)
        if not re.fullmatch(r"[+-]?\d+", args[0]):
            raise LiteralError("NumberInt() needs an integer", *_line_col(text, pos))
        return {"$numberInt": str(int(args[0]))}
    if ctor == "NumberDecimal":
        need(1)
        return {"$numberDecimal": args[0]}
    if ctor == "Timestamp":
        need(2)
        return {"$timestamp": {"t": int(float(args[0])), "i": int(float(args[1]))}}
    if ctor == "UUID":
        need(1)
        return {"$uuid": args[0]}
    if ctor == "BinData":
        need(2)
        return {"$binary": {"base64": args[1], "subType": f"{int(float(args[0])):02x}"}}
    if ctor == "MinKey":
        return {"$minKey": 1}
    return {"$maxKey": 1}


def _map_back(segs: list[tuple[int, int, bool]], new_pos: int) -> int:
    best = (0, 0, True)
    for seg in segs:
        if seg[0] <= new_pos:
            best = seg
        else:
            break
    start, old, copied = best
    return old + (new_pos - start) if copied else old


MAX_DEPTH = 32  # brackets nested in one field; the JSON5 parser recurses ~20 frames a level
_BRACKETS = re.compile(r"[\[\]{}()'\"]|//|/\*")
# the rest of a quoted string, its closing quote included (backslash escapes skipped)
_STRING_END = {q: re.compile(rf"[^{q}\\]*(?:\\.[^{q}\\]*)*{q}", re.S) for q in "'\""}


def _check_depth(text: str) -> None:
    """Refuse text nested deeper than MAX_DEPTH before the recursive parser sees it."""
    depth = 0
    pos = 0
    while (m := _BRACKETS.search(text, pos)) is not None:
        token = m.group()
        pos = m.end()
        if token in "'\"":
            end = _STRING_END[token].match(text, pos)
            if end is None:
                return  # unterminated: the parser reports it
            pos = end.end()
        elif token == "//":
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline
        elif token == "/*":
            close = text.find("*/", pos)
            pos = len(text) if close < 0 else close + 2
        elif token in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise LiteralError(
                    f"nested more than {MAX_DEPTH} levels deep", *_line_col(text, m.start())
                )
        else:
            depth = max(depth - 1, 0)


# One token of the JSON5 subset people type, for the fast path (_to_json).
_TOKEN = re.compile(
    r"""(?P<ws>\s+)"""
    r"""|(?P<punct>[{}\[\]:,])"""
    r"""|(?P<dq>"(?:[^"\\\n]|\\["\\/bfnrtu])*")"""
    r"""|(?P<sq>'(?:[^'\\\n]|\\['\\/bfnrtu])*')"""
    r"""|(?P<num>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.$]))"""
    r"""|(?P<ident>[A-Za-z_$][\w$]*)"""
    r"""|(?P<comment>//[^\n]*|/\*[\s\S]*?\*/)"""
)
_KEY_AFTER = re.compile(r"\s*:")
_LITERALS = frozenset({"true", "false", "null"})


def _to_json(text: str) -> str | None:
    """The text as strict JSON, in one pass: unquoted keys quoted, single-quoted strings
    double-quoted, comments and trailing commas dropped, constructor calls rewritten to
    Extended JSON. None for anything outside that common subset (hex or signed numbers,
    unusual escapes, Infinity...): json5 then reads it, slowly but completely, and reports
    errors with their position. json5 is pure Python (~70 KB/s here); this path lets the C
    JSON reader do the work, so a pasted 300 KB document is read in well under a second."""
    import json

    out: list[str] = []
    last = -1  # index in `out` of the last token that is not whitespace or a comment
    i, n = 0, len(text)
    match = _TOKEN.match
    while i < n:
        m = match(text, i)
        if m is None:
            return None
        kind = m.lastgroup
        tok = m.group()
        if kind == "ws" or kind == "comment":
            out.append(" ")
            i = m.end()
            continue
        if kind == "punct":
            if tok in "}]" and last >= 0 and out[last] == ",":
                out[last] = " "  # a trailing comma
            tok_out = tok
        elif kind == "dq" or kind == "num":
            tok_out = tok
        elif kind == "sq":
            body = tok[1:-1].replace("\\'", "'").replace('"', '\\"')
            tok_out = f'"{body}"'
        else:  # an identifier: a key, a literal or a constructor call
            if _KEY_AFTER.match(text, m.end()):
                tok_out = f'"{tok}"'
            elif tok in _LITERALS:
                tok_out = tok
            else:
                call = _CTOR.match(text, i)
                if call is None:
                    return None
                args, end = _split_args(text, call.end())
                strs = [_string_arg(text, raw, off, call.group(1)) for raw, off in args]
                value = _ext_json(call.group(1), strs, text, i, call.group(0).startswith("new"))
                out.append(json.dumps(value))
                last = len(out) - 1
                i = end
                continue
        out.append(tok_out)
        last = len(out) - 1
        i = m.end()
    return "".join(out)


_JSON5_ERR = re.compile(r"^<string>:(\d+) (.*) at column (\d+)$")


def parse_value(text: str) -> Any:
    """Parse one value (document, array, scalar). Raises LiteralError with the position.

    Common input takes the fast path (_to_json, then the C JSON reader); the rest, and
    every error, goes through json5, which knows all of JSON5 and where a mistake is."""
    import json

    if not text.strip():
        raise LiteralError("empty: type a value, e.g. {}", 1, 1)
    _check_depth(text)  # before any reader: both recurse per level
    hook = _ext_json_hook()
    for attempt in (lambda: text, lambda: _to_json(text)):  # strict JSON first: no scan
        as_json = attempt()
        if as_json is None:
            break
        try:
            return json.loads(as_json, object_pairs_hook=hook)
        except (ValueError, TypeError, OverflowError):
            continue  # json5 below says what is wrong, and where
    return _parse_json5(text)


def _ext_json_hook() -> Any:
    from bson import json_util

    options = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
    return lambda pairs: json_util.object_pairs_hook(pairs, options)


def _parse_json5(text: str) -> Any:
    """The complete (slow) reader: json5 on the text with its constructors rewritten."""
    import json5

    rewritten, segs = _rewrite(text)
    try:
        return json5.loads(rewritten, object_pairs_hook=_ext_json_hook())
    except LiteralError:
        raise
    except ValueError as exc:
        msg = str(exc)
        m = _JSON5_ERR.match(msg)
        if m is None:
            # bson.json_util rejects malformed Extended JSON ({"$oid": 5}) without a position
            raise LiteralError(msg, 1, 1) from None
        line, what, col = int(m.group(1)), m.group(2), int(m.group(3))
        lines = rewritten.split("\n")
        offset = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
        line, col = _line_col(text, min(_map_back(segs, offset), len(text)))
        raise LiteralError(what, line, col) from None
    except (TypeError, OverflowError) as exc:
        raise LiteralError(str(exc), 1, 1) from None


def parse_document(text: str) -> dict[str, Any]:
    value = parse_value(text)
    if not isinstance(value, dict):
        raise LiteralError(f"expected a document {{...}}, got {type(value).__name__}", 1, 1)
    return value


def format_value(value: Any, indent: int | None = None) -> str:
    """Render a value as relaxed Extended JSON (what the panels and the copy action show)."""
    from bson import json_util

    options = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
    return json_util.dumps(value, json_options=options, indent=indent, ensure_ascii=False)


_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _quote(text: str) -> str:
    """A single-quoted literal that parse_value reads back as `text`: line breaks, control
    characters and lone surrogates as \\u escapes."""
    text = text.replace("\\", "\\\\").replace("'", "\\'")
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else _u_escape(ch) for ch in text)
    return "'" + text + "'"


def _u_escape(ch: str) -> str:
    # beyond the BMP nothing is a line break: JSON5 reads the character itself
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else ch


def format_short(value: Any) -> str:
    """Compact mongosh-style text for panels: {name: 'Alice', balance: 90}."""
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = k if _IDENT.match(str(k)) else format_value(str(k))
            items.append(f"{key}: {format_short(v)}")
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(format_short(v) for v in value) + "]"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bool) or value is None:
        return format_value(value)
    from bson import Decimal128, ObjectId

    if isinstance(value, ObjectId):
        return f"ObjectId('{value}')"
    if isinstance(value, Decimal128):
        return f"NumberDecimal('{value}')"
    import datetime as dt

    if isinstance(value, dt.datetime):
        return f"ISODate('{value.isoformat().replace('+00:00', 'Z')}')"
    return format_value(value)
