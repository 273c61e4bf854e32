"""mapReduce's JavaScript side: the server-side shell types, `emit`, the three phases, and
the value codec between BSON values and JavaScript.

Values cross as JSON with tagged objects `{"\\u0000": type, "v": ...}` (no BSON field name
can hold a NUL, so no document collides with a tag). The mapping follows the server's
mozjs ValueReader/ValueWriter [srv:scripting/mozjs/valuereader.cpp, valuewriter.cpp]:

| BSON            | in JavaScript                  | back to BSON                          |
| --------------- | ------------------------------ | ------------------------------------- |
| double, int32   | number                         | double; int32 only for an unchanged   |
|                 |                                | integral field that was int32 (the    |
|                 |                                | writer's "original parent" rule)      |
| int64           | NumberLong (floatApprox, toNumber, valueOf, toString)   | int64    |
| decimal128      | NumberDecimal                  | decimal128                            |
| NumberInt(n)    | NumberInt                      | int32                                 |
| ObjectId        | ObjectId (str, valueOf, getTimestamp, equals)           | ObjectId |
| date            | Date                           | date                                  |
| timestamp       | Timestamp (t, i)               | timestamp                             |
| binary          | BinData (subtype, base64, hex, length)                  | binary   |
| regex           | RegExp (flags JS lacks dropped)| regex                                 |
| code            | Code                           | code; a JS function becomes code too  |
| minKey / maxKey | MinKey / MaxKey                | minKey / maxKey                       |
| null, undefined | null, undefined                | null                                  |
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import re
import uuid
from typing import Any

from bson.binary import Binary
from bson.code import Code
from bson.datetime_ms import DatetimeMS
from bson.dbref import DBRef
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.timestamp import Timestamp

TAG = "\x00"
_INT32 = range(-(2**31), 2**31)
_EPOCH = datetime.datetime(1970, 1, 1)


def to_js(value: Any) -> Any:
    """A BSON value as JSON data for the JavaScript side."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Int64):
        return {TAG: "long", "v": str(int(value))}
    if isinstance(value, int):
        return {TAG: "i", "v": value} if value in _INT32 else {TAG: "long", "v": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {TAG: "dbl", "v": str(value)}
    if isinstance(value, dict):
        return {str(k): to_js(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_js(v) for v in value]
    if isinstance(value, ObjectId):
        return {TAG: "oid", "v": str(value)}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return {TAG: "date", "v": (value - _EPOCH) // datetime.timedelta(milliseconds=1)}
    if isinstance(value, DatetimeMS):
        return {TAG: "date", "v": int(value)}
    if isinstance(value, Decimal128):
        return {TAG: "dec", "v": str(value)}
    if isinstance(value, Timestamp):
        return {TAG: "ts", "v": [value.time, value.inc]}
    if isinstance(value, uuid.UUID):
        value = Binary.from_uuid(value)
    if isinstance(value, bytes):  # Binary is a bytes subclass; plain bytes are subtype 0
        subtype = value.subtype if isinstance(value, Binary) else 0
        return {TAG: "bin", "v": [subtype, base64.b64encode(value).decode()]}
    if isinstance(value, re.Pattern):
        value = Regex.from_native(value)
    if isinstance(value, Regex):
        flags = value.flags if isinstance(value.flags, str) else ""
        return {TAG: "re", "v": [value.pattern, flags]}
    if isinstance(value, Code):
        return {TAG: "code", "v": str(value)}
    if isinstance(value, MinKey):
        return {TAG: "min"}
    if isinstance(value, MaxKey):
        return {TAG: "max"}
    if isinstance(value, DBRef):
        return to_js(value.as_doc())
    return None  # a type BSON decoding never gives


def dumps(value: Any) -> str:
    return json.dumps(to_js(value), allow_nan=False, separators=(",", ":"))


def _from_tag(obj: dict[str, Any]) -> Any:
    kind = obj.get(TAG)
    if kind is None:
        return obj
    v = obj.get("v")
    if kind == "dbl":
        return float(v)
    if kind == "int":
        return int(v)
    if kind == "long":
        return Int64(int(v))
    if kind == "dec":
        return Decimal128(v)
    if kind == "oid":
        return ObjectId(v)
    if kind == "date":
        ms = int(v)
        try:
            return _EPOCH + datetime.timedelta(milliseconds=ms)
        except OverflowError:
            return DatetimeMS(ms)
    if kind == "ts":
        return Timestamp(int(v[0]), int(v[1]))
    if kind == "bin":
        return Binary(base64.b64decode(v[1]), int(v[0]))
    if kind == "re":
        return Regex(v[0], v[1])
    if kind == "code":
        return Code(v)
    if kind == "min":
        return MinKey()
    if kind == "max":
        return MaxKey()
    return None  # undefined, and what BSON cannot hold


def loads(text: str) -> Any:
    """JSON from the JavaScript side as BSON values: every plain number is a double."""
    return json.loads(text, object_hook=_from_tag, parse_int=float)


# The driver, defined once per runtime. Shell types after the server's mozjs types and
# types.js [srv:scripting/mozjs/numberlong.cpp, oid.cpp, ...; shell/types.js Array.sum];
# phases after map_reduce_agg.cpp's pipeline [srv:db/commands/query_cmd/mr_common.cpp
# translateFromMR]: the map per document with `this` bound to it and its emits converted at
# emit time (expression_js_emit.cpp), reduce(key, values) per key, finalize(key, value).
PRELUDE = r"""
var __T = '\u0000';
// The driver's own references: user code may reassign the globals.
var __parse = JSON.parse.bind(JSON), __stringify = JSON.stringify.bind(JSON);
var __has = Function.prototype.call.bind(Object.prototype.hasOwnProperty);
var __define = Object.defineProperty, __keys = Object.keys, __isArray = Array.isArray;
var __isInteger = Number.isInteger, __isFinite = Number.isFinite;
function NumberLong(v) {
  if (!(this instanceof NumberLong)) return new NumberLong(v);
  var b = typeof v === 'string' ? BigInt(v) : BigInt(Math.trunc(Number(v === undefined ? 0 : v)));
  this.__v = String(BigInt.asIntN(64, b));
}
Object.defineProperty(NumberLong.prototype, 'floatApprox', {get: function() { return Number(this.__v); }});
NumberLong.prototype.toNumber = function() { return Number(this.__v); };
NumberLong.prototype.valueOf = function() { return Number(this.__v); };
NumberLong.prototype.toString = function() { return 'NumberLong(' + this.__v + ')'; };
NumberLong.prototype.toJSON = function() { return {'$numberLong': this.__v}; };
NumberLong.prototype.compare = function(o) {
  var a = BigInt(this.__v), b = BigInt(new NumberLong(o instanceof NumberLong ? o.__v : o).__v);
  return a < b ? -1 : a > b ? 1 : 0;
};
NumberLong.prototype.equals = function(o) { return this.compare(o) === 0; };
function NumberInt(v) {
  if (!(this instanceof NumberInt)) return new NumberInt(v);
  this.__v = Number(v === undefined ? 0 : v) | 0;
}
NumberInt.prototype.toNumber = function() { return this.__v; };
NumberInt.prototype.valueOf = function() { return this.__v; };
NumberInt.prototype.toString = function() { return 'NumberInt(' + this.__v + ')'; };
NumberInt.prototype.toJSON = function() { return this.__v; };
function NumberDecimal(v) {
  if (!(this instanceof NumberDecimal)) return new NumberDecimal(v);
  this.__v = String(v === undefined ? 0 : v);
}
NumberDecimal.prototype.toString = function() { return 'NumberDecimal("' + this.__v + '")'; };
NumberDecimal.prototype.toJSON = function() { return {'$numberDecimal': this.__v}; };
function ObjectId(hex) {
  if (!(this instanceof ObjectId)) return new ObjectId(hex);
  if (hex === undefined) {
    var s = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
    for (var i = 0; i < 16; i++) s += Math.floor(Math.random() * 16).toString(16);
    hex = s;
  }
  if (!/^[0-9a-fA-F]{24}$/.test(String(hex))) throw new Error('invalid ObjectId: ' + hex);
  this.str = String(hex).toLowerCase();
}
ObjectId.prototype.valueOf = function() { return this.str; };
ObjectId.prototype.toString = function() { return 'ObjectId("' + this.str + '")'; };
ObjectId.prototype.toJSON = function() { return {'$oid': this.str}; };
ObjectId.prototype.getTimestamp = function() { return new Date(parseInt(this.str.slice(0, 8), 16) * 1000); };
ObjectId.prototype.equals = function(o) { return o instanceof ObjectId && o.str === this.str; };
function Timestamp(t, i) {
  if (!(this instanceof Timestamp)) return new Timestamp(t, i);
  this.t = Number(t || 0); this.i = Number(i || 0);
}
Timestamp.prototype.getTime = function() { return this.t; };
Timestamp.prototype.getInc = function() { return this.i; };
Timestamp.prototype.toString = function() { return 'Timestamp(' + this.t + ', ' + this.i + ')'; };
Timestamp.prototype.toJSON = function() { return {'$timestamp': {t: this.t, i: this.i}}; };
function BinData(subtype, b64) {
  if (!(this instanceof BinData)) return new BinData(subtype, b64);
  this.__t = Number(subtype); this.__b = String(b64);
}
BinData.prototype.subtype = function() { return this.__t; };
BinData.prototype.base64 = function() { return this.__b; };
BinData.prototype.length = function() { return atob(this.__b).length; };
BinData.prototype.hex = function() {
  var s = atob(this.__b), h = '';
  for (var i = 0; i < s.length; i++) h += s.charCodeAt(i).toString(16).padStart(2, '0');
  return h;
};
BinData.prototype.toString = function() { return 'BinData(' + this.__t + ',"' + this.__b + '")'; };
function Code(code) { if (!(this instanceof Code)) return new Code(code); this.code = String(code); }
Code.prototype.toString = function() { return this.code; };
var MinKey = {toString: function() { return 'MinKey'; }};
var MaxKey = {toString: function() { return 'MaxKey'; }};
function ISODate(s) { return s === undefined ? new Date() : new Date(s); }
function isNumber(x) { return typeof x === 'number'; }
function isString(x) { return typeof x === 'string'; }
function isObject(x) { return typeof x === 'object' && x !== null; }
function print() {}
function printjson() {}
function tojson(x) { return JSON.stringify(x); }
Array.sum = function(a) { if (a.length === 0) return null; var s = a[0]; for (var i = 1; i < a.length; i++) s += a[i]; return s; };
Array.avg = function(a) { if (a.length === 0) return null; return Array.sum(a) / a.length; };
Array.contains = function(a, x) { return a.indexOf(x) >= 0; };
Array.unique = function(a) { return a.filter(function(x, i) { return a.indexOf(x) === i; }); };

function __markInt(holder, key) {
  if (!__has(holder, '__ints'))
    __define(holder, '__ints', {value: new Set(), enumerable: false});
  holder.__ints.add(key);
}
function __rev(key, v) {
  if (v === null || typeof v !== 'object' || __isArray(v) || !__has(v, __T)) return v;
  var x = v.v;
  switch (v[__T]) {
    case 'i': __markInt(this, key); return x;
    case 'dbl': return Number(x === 'inf' ? 'Infinity' : x === '-inf' ? '-Infinity' : x === 'nan' ? 'NaN' : x);
    case 'long': return new NumberLong(x);
    case 'dec': return new NumberDecimal(x);
    case 'oid': return new ObjectId(x);
    case 'date': return new Date(x);
    case 'ts': return new Timestamp(x[0], x[1]);
    case 'bin': return new BinData(x[0], x[1]);
    case 're':
      try { return new RegExp(x[0], x[1].replace(/[^gimsuy]/g, '')); } catch (e) { return new RegExp(''); }
    case 'code': return new Code(x);
    case 'min': return MinKey;
    case 'max': return MaxKey;
  }
  return undefined;
}
function __enc(v, holder, key, depth) {
  if (depth > 150) throw new RangeError('too much recursion');
  if (v === null) return null;
  switch (typeof v) {
    case 'number':
      if (holder && holder.__ints && holder.__ints.has(key) && __isInteger(v) && v >= -2147483648 && v <= 2147483647)
        return {'\u0000': 'int', v: v};
      return __isFinite(v) ? v : {'\u0000': 'dbl', v: String(v)};
    case 'string': return v.toWellFormed();  // a lone surrogate becomes U+FFFD, as UTF-8 needs
    case 'boolean': return v;
    case 'undefined': case 'symbol': return {'\u0000': 'undef'};
    case 'function': return {'\u0000': 'code', v: String(v)};
    case 'bigint': return {'\u0000': 'long', v: String(BigInt.asIntN(64, v))};
  }
  if (v instanceof NumberLong) return {'\u0000': 'long', v: v.__v};
  if (v instanceof NumberInt) return {'\u0000': 'int', v: v.__v};
  if (v instanceof NumberDecimal) return {'\u0000': 'dec', v: v.__v};
  if (v instanceof ObjectId) return {'\u0000': 'oid', v: v.str};
  if (v instanceof Date) return {'\u0000': 'date', v: isNaN(v.getTime()) ? 0 : v.getTime()};
  if (v instanceof Timestamp) return {'\u0000': 'ts', v: [v.t, v.i]};
  if (v instanceof BinData) return {'\u0000': 'bin', v: [v.__t, v.__b]};
  if (v instanceof RegExp) return {'\u0000': 're', v: [v.source, v.flags.replace(/[gy]/g, '')]};
  if (v instanceof Code) return {'\u0000': 'code', v: v.code};
  if (v === MinKey) return {'\u0000': 'min'};
  if (v === MaxKey) return {'\u0000': 'max'};
  if (__isArray(v)) {
    var a = [];
    for (var i = 0; i < v.length; i++) a[i] = __enc(v[i], v, String(i), depth + 1);
    return a;
  }
  var o = {}, ks = __keys(v);
  for (var j = 0; j < ks.length; j++) o[ks[j].toWellFormed()] = __enc(v[ks[j]], v, ks[j], depth + 1);
  return o;
}
function __text(e) { try { return String(e); } catch (x) { return 'exception'; } }
function __fail(e) {
  if (e !== null && typeof e === 'object' && e.__code) return __stringify({error: [e.__code, e.message]});
  if (e !== null && typeof e === 'object') return __stringify({error: [139, 'uncaught exception: ' + __text(e)]});
  return __stringify({error: [8, 'uncaught exception: ' + __text(e)]});
}
var __src = {}, __fns = {}, __emits = null;
function __compile(name) {
  if (__fns[name]) return __fns[name];
  var f = (0, eval)('(' + __src[name] + '\n)');
  if (typeof f !== 'function') throw new TypeError(name + ' is not a function');
  return (__fns[name] = f);
}
function __callable(name) {
  try { return [__compile(name)]; }
  catch (e) { return [null, __stringify({error: [139, __text(e)]})]; }
}
function emit(k, v) {
  if (arguments.length !== 2) { var e = new Error('emit takes 2 args'); e.__code = 31220; throw e; }
  __emits.push([__enc(k === undefined ? null : k, null, '', 0), __enc(v, null, '', 0)]);
}
function __setup(s) {
  var a = __parse(s, __rev);
  __src = a.fns;
  var scope = a.scope || {};
  __keys(scope).forEach(function(k) {
    var v = scope[k];
    if (v instanceof Code) { try { v = (0, eval)('(' + v.code + '\n)'); } catch (e) { /* stays Code */ } }
    globalThis[k] = v;
  });
  return '{"ok":null}';
}
function __map(s) {
  var docs = __parse(s, __rev), out = [];
  if (docs.length === 0) return __stringify({ok: out});
  var c = __callable('map');
  if (!c[0]) return c[1];
  for (var i = 0; i < docs.length; i++) {
    __emits = [];
    try { c[0].call(docs[i]); } catch (e) { return __fail(e); }
    out.push(__emits);
  }
  __emits = null;
  return __stringify({ok: out});
}
function __apply(name, s) {
  var calls = __parse(s, __rev), out = [];
  if (calls.length === 0) return __stringify({ok: out});
  var c = __callable(name);
  if (!c[0]) return c[1];
  for (var i = 0; i < calls.length; i++) {
    var r;
    try { r = c[0](calls[i][0], calls[i][1]); } catch (e) { return __fail(e); }
    out.push(__enc(r, null, '', 0));
  }
  return __stringify({ok: out});
}
function __reduce(s) { return __apply('reduce', s); }
function __finalize(s) { return __apply('finalize', s); }
"""
