"""Execute one unified-format test: set up, run operations, check events and outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import ServerSelectionTimeoutError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from .entities import EntityMap
from .errors import check_error, describe_error
from .events import describe, match_event
from .matching import Matcher, MatchError, exact_equal
from .operations import OpContext, resolve
from .requirements import DriverLacks, Unsupported, parse_version, skip_reason
from .runner_ops import RunnerOps
from .specs import SpecCase
from .target import Target

# The newest schema pymongo's own unified runner declares (test/unified_format.py,
# SCHEMA_VERSION 1.26). Features of those versions the runner lacks (log messages, SDAM
# events, encryption) fail per test as "runner lacks …"; what pymongo lacks is a skip.
SUPPORTED_SCHEMA = (1, 26)
# Fields of a test and of a file the runner reads; any other is reported, not ignored.
_TEST_FIELDS = frozenset(
    {"description", "runOnRequirements", "skipReason", "operations", "expectEvents", "outcome"}
)
_FILE_FIELDS = frozenset(
    {
        "description",
        "schemaVersion",
        "runOnRequirements",
        "createEntities",
        "initialData",
        "tests",
        "_yamlAnchors",
    }
)
_CURSOR_OPS = {"find", "aggregate", "listCollections", "listDatabases", "listIndexes"}
_MAJORITY = WriteConcern(w="majority")


class Skip(Exception):
    """The test does not apply to this target (requirements or skipReason), or the installed
    pymongo lacks an API it needs (DriverLacks)."""


class TestRun:
    """State of one test while it runs."""

    def __init__(self, case: SpecCase, target: Target) -> None:
        self.case = case
        self.target = target
        assert target.internal is not None and target.info is not None
        self.internal = target.internal
        self.entities = EntityMap(target.uri)
        self.matcher = Matcher(self.entities.lookup)
        self.ctx = OpContext(self.entities, target.info.version)
        self.ctx.run_callback = lambda ops: self.run_operations(ops, in_callback=True)
        self.runner_ops = RunnerOps(self.entities, self.internal, self.run_operations)

    # ---- setup and checks ---------------------------------------------------------------------

    def load_initial_data(self) -> None:
        for data in self.case.file.get("initialData", []):
            database = self.internal.get_database(data["databaseName"], write_concern=_MAJORITY)
            name = data["collectionName"]
            database.drop_collection(name)
            if "createOptions" in data or not data["documents"]:
                database.create_collection(
                    name, check_exists=False, **data.get("createOptions", {})
                )
            if data["documents"]:
                database[name].insert_many(data["documents"])

    def check_outcome(self) -> None:
        for data in self.case.test.get("outcome", []):
            coll = self.internal.get_database(
                data["databaseName"], read_concern=ReadConcern("local")
            )[data["collectionName"]]
            actual = list(coll.find({}, sort=[("_id", 1)]))
            if not exact_equal(data["documents"], actual):
                raise MatchError(
                    f"outcome {data['databaseName']}.{data['collectionName']}: expected "
                    f"{data['documents']!r}, got {actual!r}"
                )

    def check_events(self) -> None:
        for spec in self.case.test.get("expectEvents", []):
            client = spec["client"]
            kinds = _event_kinds(spec.get("eventType", "command"))
            actual = [(k, e) for k, e in self.entities.logs[client].events if k in kinds]
            expected = spec["events"]
            extra_ok = spec.get("ignoreExtraEvents", False)
            seen = ", ".join(describe(k, e) for k, e in actual)
            if len(actual) < len(expected) or (len(actual) > len(expected) and not extra_ok):
                want = ", ".join(next(iter(e)) + f"({_name(e)})" for e in expected)
                raise MatchError(
                    f"events of {client}: expected {len(expected)} [{want}], "
                    f"got {len(actual)} [{seen}]"
                )
            for index, (want, (kind, event)) in enumerate(zip(expected, actual, strict=False)):
                try:
                    match_event(self.matcher, want, kind, event)
                except MatchError as exc:
                    raise MatchError(
                        f"events of {client}[{index}] {describe(kind, event)}: {exc}"
                    ) from exc

    # ---- operations ---------------------------------------------------------------------------

    def run_operations(self, ops: list[Mapping[str, Any]], *, in_callback: bool = False) -> None:
        for index, op in enumerate(ops):
            where = f"op[{index}] {op['object']}.{op['name']}"
            try:
                self.run_operation(op, in_callback=in_callback)
            except (MatchError, Unsupported) as exc:
                if in_callback:
                    raise
                raise type(exc)(f"{where}: {exc}") from exc
            except Exception as exc:
                if in_callback or op["object"] != "testRunner":
                    raise
                raise MatchError(f"{where}: {describe_error(exc)}") from exc

    def run_operation(self, op: Mapping[str, Any], *, in_callback: bool = False) -> None:
        args = op.get("arguments", {})
        if op["object"] == "testRunner":
            self.runner_ops.run(op["name"], args)
            return
        call = resolve(self.ctx, op["name"], op["object"], args)
        try:
            result = call()
        except (MatchError, Unsupported, Skip):
            raise
        except DriverLacks as exc:
            raise Skip(str(exc)) from exc
        except Exception as exc:
            if _needs_secondary(exc) and self.target.info and self.target.info.members < 2:
                # Not applicable, like an unmet runOnRequirements: pymongo selects a server for
                # the secondary read preference before its own transaction check, and a
                # one-member set has none (a real one-member replica set answers the same).
                raise Skip(
                    "needs a secondary member: the target is a one-member replica set"
                ) from exc
            if op.get("ignoreResultAndError"):
                if in_callback:
                    raise
                return
            if "expectError" not in op:
                if in_callback:
                    raise
                raise MatchError(f"{_hint(exc)}unexpected error {describe_error(exc)}") from exc
            try:
                check_error(self.matcher, op["expectError"], exc)
            except MatchError as mismatch:
                raise MatchError(f"{_hint(exc)}{mismatch}") from exc
            if in_callback:
                raise
            return
        if "expectError" in op:
            raise MatchError(f"expected an error, got result {result!r}")
        if "expectResult" in op:
            self.match_result(op["name"], op["expectResult"], result)
        if "saveResultAsEntity" in op:
            self.entities.add(op["saveResultAsEntity"], result)

    def match_result(self, name: str, expected: Any, actual: Any) -> None:
        """Documents from cursors are root-level (extra keys allowed); other values are not."""
        if name in _CURSOR_OPS and isinstance(expected, list) and isinstance(actual, list):
            if len(expected) != len(actual):
                raise MatchError(f"result: expected {len(expected)} documents, got {actual!r}")
            for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
                self.matcher.match(want, got, path=f"result[{index}]")
            return
        self.matcher.match(expected, actual, path="result")

    # ---- whole test ---------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.load_initial_data()
            for spec in self.case.file.get("createEntities", []):
                self.entities.create(spec)
            self.run_operations(self.case.test["operations"])
            self.entities.stop_events()
            problems = self.runner_ops.disable_fail_points()
            self.check_events()
            self.check_outcome()
            if problems:
                raise MatchError("; ".join(problems))
        finally:
            self.entities.stop_events()
            self.runner_ops.disable_fail_points()
            self.entities.close()
            self.target.kill_all_sessions()


def _needs_secondary(exc: BaseException) -> bool:
    return isinstance(exc, ServerSelectionTimeoutError) and "Primary(" not in str(exc)


def _hint(exc: BaseException) -> str:
    """Name the missing piece when the error comes from the one-member topology itself."""
    if _needs_secondary(exc):
        return "[needs a secondary; a one-member replica set has none] "
    return ""


def _event_kinds(event_type: str) -> set[str]:
    from .events import CMAP_EVENTS, COMMAND_EVENTS

    if event_type == "command":
        return set(COMMAND_EVENTS.values())
    if event_type == "cmap":
        return set(CMAP_EVENTS.values())
    raise Unsupported(f"runner lacks expectEvents eventType {event_type!r}")


def _name(expected: Mapping[str, Any]) -> str:
    body = next(iter(expected.values()))
    return str(body.get("commandName") or next(iter(body.get("command", {"": 0}))))


def check_applicable(case: SpecCase, target: Target) -> None:
    """Raise `Skip` for inapplicable tests and `Unsupported` for unreadable files."""
    version = parse_version(case.file.get("schemaVersion", "0"))
    if version[0] != SUPPORTED_SCHEMA[0] or version[:2] > SUPPORTED_SCHEMA:
        raise Unsupported(f"runner lacks schemaVersion {case.file.get('schemaVersion')}")
    if "skipReason" in case.test:
        raise Skip(f"skipReason: {case.test['skipReason']}")
    unknown = sorted((set(case.test) - _TEST_FIELDS) | (set(case.file) - _FILE_FIELDS))
    if unknown:
        # expectLogMessages (schema 1.13) is the one known so far: log assertions.
        raise Unsupported(f"runner lacks test field(s) {unknown}")
    assert target.info is not None
    for requirements in (case.file.get("runOnRequirements"), case.test.get("runOnRequirements")):
        reason = skip_reason(requirements, target.info)
        if reason:
            raise Skip(reason)


def run_case(case: SpecCase, target: Target) -> None:
    """Run `case` against `target`; raise `Skip`, `Unsupported` or `AssertionError` as needed."""
    target.for_file(case.path)
    check_applicable(case, target)
    try:
        TestRun(case, target).run()
    except DriverLacks as exc:
        raise Skip(str(exc)) from exc
