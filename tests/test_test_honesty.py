"""The test suite's own rules, checked on its source: no test asserts on elapsed time (speed is
measured in bench/, against a baseline of the same run), and no test sleeps and then asserts
(it waits for an observable event with a deadline, tests/processes.py `wait_until`).

Both are read from the syntax tree of every module under tests/:

- elapsed time: an `assert` that uses a clock reading (`time.perf_counter()`, `monotonic()`,
  `time()`, `process_time()`, their `_ns` forms, or what tests/processes.py's `wait_until`
  returns: the seconds it waited), directly or through a variable computed from one in the same
  function (assigned, appended to, or iterated over); how many readings there are (`len(...)`)
  is a count, not a time;
- sleep-then-assert: a `time.sleep(...)` (or `sleep`, `asyncio.sleep`) statement followed, later
  in the same block, by an `assert` with no wait (a call to a `wait…` function) in between. A
  sleep that ends a polling loop's body is followed by nothing in its block, so a loop that polls
  with a deadline is not one.

What is allowed anyway is listed in ALLOWED with the reason; an entry that no longer matches
anything fails the check too, so the list cannot go stale.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

CLOCKS = {
    "perf_counter",
    "perf_counter_ns",
    "monotonic",
    "monotonic_ns",
    "time",
    "time_ns",
    "process_time",
    "process_time_ns",
}
WAITED = {"wait_until"}  # helpers that return the seconds they waited

# (path under tests/, function, rule) → why it is allowed.
ALLOWED: dict[tuple[str, str, str], str] = {
    (
        "faults/test_relay.py",
        "test_relay_refusing_connections_for_20_seconds_then_back_delivers_everyone_once",
        "sleep-then-assert",
    ): (
        "the sleep is the injected fault itself (the relay refuses connections for 20 s); what "
        "follows checks the campaign is still sending and deferring at the end of the outage, "
        "a state that holds for the whole outage, not an event that might merely be late"
    ),
}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    function: str
    rule: str

    def __str__(self) -> str:
        return f"tests/{self.path}:{self.line} in {self.function}: {self.rule}"


def _name(func: ast.expr) -> tuple[str | None, str | None]:
    """(module or object name, attribute) of a called expression: `time.sleep` → ("time",
    "sleep"); a bare `sleep` → (None, "sleep")."""
    if isinstance(func, ast.Attribute):
        base = func.value.id if isinstance(func.value, ast.Name) else None
        return base, func.attr
    if isinstance(func, ast.Name):
        return None, func.id
    return None, None


def _is_clock(node: ast.AST, waited: set[str] = WAITED) -> bool:
    if not isinstance(node, ast.Call):
        return False
    base, attr = _name(node.func)
    if attr in waited:
        return True
    if attr not in CLOCKS:
        return False
    # `time.time()` and `time.monotonic()`; a bare `monotonic()` imported from time. A bare
    # `time()` is too common a name to trust, so only the module form counts for it.
    return base == "time" or (base is None and attr != "time")


def _is_sleep(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Expr):
        return False
    call = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
    if not isinstance(call, ast.Call):
        return False
    base, attr = _name(call.func)
    return attr == "sleep" and base in (None, "time", "asyncio")


def _is_wait(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    _, attr = _name(node.func)
    return bool(attr and attr.startswith("wait"))


def _walk_values(node: ast.AST) -> list[ast.AST]:
    """`ast.walk`, leaving out the insides of `len(...)` (a count of readings is not a time)."""
    out: list[ast.AST] = []
    todo = [node]
    while todo:
        n = todo.pop()
        out.append(n)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len":
            continue
        todo.extend(ast.iter_child_nodes(n))
    return out


def _uses(node: ast.AST, tainted: set[str], waited: set[str]) -> bool:
    return any(
        _is_clock(n, waited) or (isinstance(n, ast.Name) and n.id in tainted)
        for n in _walk_values(node)
    )


def _targets(target: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _clock_names(func: ast.AST, waited: set[str]) -> set[str]:
    """Names in `func` that hold a clock reading or something computed from one (to a fixpoint:
    `start = perf_counter()`, `elapsed = perf_counter() - start`, `times.append(monotonic())`,
    `for t in times`)."""
    tainted: set[str] = set()
    while True:
        before = len(tainted)
        for node in ast.walk(func):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                if node.value is not None and _uses(node.value, tainted, waited):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        tainted |= _targets(target)
            elif isinstance(node, ast.For | ast.comprehension) and _uses(
                node.iter, tainted, waited
            ):
                tainted |= _targets(node.target)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                receiver = node.func.value
                if (
                    node.func.attr in {"append", "extend", "insert", "add"}
                    and isinstance(receiver, ast.Name)
                    and any(_uses(arg, tainted, waited) for arg in node.args)
                ):
                    tainted.add(receiver.id)
        if len(tainted) == before:
            return tainted


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    out = []
    for field in ("body", "orelse", "finalbody"):
        block = getattr(node, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            out.append(block)
    return out


def _sleeps_then_asserts(func: ast.AST) -> list[int]:
    """Lines of the sleeps in `func` followed in their block by an assert before any wait."""
    lines = []
    for node in ast.walk(func):
        for block in _blocks(node):
            for i, stmt in enumerate(block):
                if not _is_sleep(stmt):
                    continue
                for later in block[i + 1 :]:
                    if _is_sleep(later) or any(_is_wait(n) for n in ast.walk(later)):
                        break
                    if any(isinstance(n, ast.Assert) for n in ast.walk(later)):
                        lines.append(stmt.lineno)
                        break
    return lines


def violations(source: str, path: str = "<sample>") -> list[Violation]:
    """Every elapsed-time assertion and sleep-then-assert in one module's source."""
    tree = ast.parse(source)
    found: list[Violation] = []
    # A module with its own `wait_until` (returning what it waited for, not seconds) means that.
    own = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    waited = WAITED - own
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for func in functions:
        inner = {
            id(n)
            for f in ast.walk(func)
            if f is not func and isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            for n in ast.walk(f)
        }
        tainted = _clock_names(func, waited)
        for node in ast.walk(func):
            if id(node) in inner:
                continue  # judged as its own function
            if isinstance(node, ast.Assert) and _uses(node.test, tainted, waited):
                found.append(Violation(path, node.lineno, func.name, "asserts on elapsed time"))
        for line in _sleeps_then_asserts(func):
            if not any(id(n) in inner for n in ast.walk(func) if getattr(n, "lineno", 0) == line):
                found.append(Violation(path, line, func.name, "sleep-then-assert"))
    return sorted(set(found), key=lambda v: (v.path, v.line, v.rule))


def _rule(violation: Violation) -> str:
    return "sleep-then-assert" if violation.rule == "sleep-then-assert" else "elapsed-time"


def suite_violations() -> list[Violation]:
    out = []
    for path in sorted(TESTS.rglob("*.py")):
        rel = path.relative_to(TESTS).as_posix()
        out += violations(path.read_text(encoding="utf-8"), rel)
    return out


def test_no_test_asserts_on_elapsed_time_or_sleeps_then_asserts() -> None:
    found = suite_violations()
    unexplained = [v for v in found if (v.path, v.function, _rule(v)) not in ALLOWED]
    assert not unexplained, "\n".join(map(str, unexplained))
    used = {(v.path, v.function, _rule(v)) for v in found}
    stale = [key for key in ALLOWED if key not in used]
    assert not stale, f"allowed but no longer found (remove from ALLOWED): {stale}"


SLEEP_THEN_ASSERT = """
import time
def test_x(relay):
    relay.send()
    time.sleep(0.5)
    assert relay.count == 1
"""
SLEEP_ASSIGN_ASSERT = """
from time import sleep
def test_x(relay):
    at_pause = relay.count
    sleep(3)
    after = relay.count
    assert after - at_pause <= 50
"""
ASYNC_SLEEP_THEN_ASSERT = """
import asyncio
async def test_x(relay):
    await asyncio.sleep(1)
    assert relay.count == 0
"""
ELAPSED = """
import time
def test_x(compose):
    start = time.perf_counter()
    compose()
    elapsed = time.perf_counter() - start
    assert elapsed < 10
"""
ELAPSED_THROUGH_A_LIST = """
import time
def test_x(sink):
    times = []
    sink.on_data(lambda: times.append(time.monotonic()))
    assert times[-1] - times[0] >= 4
"""
WAITED_SECONDS = """
def test_x(probe):
    waited = wait_until(probe.done, 60, "done")
    assert waited < 5
"""


@pytest.mark.parametrize(
    ("source", "rule", "line"),
    [
        (SLEEP_THEN_ASSERT, "sleep-then-assert", 5),
        (SLEEP_ASSIGN_ASSERT, "sleep-then-assert", 5),
        (ASYNC_SLEEP_THEN_ASSERT, "sleep-then-assert", 4),
        (ELAPSED, "asserts on elapsed time", 7),
        (ELAPSED_THROUGH_A_LIST, "asserts on elapsed time", 6),
        (WAITED_SECONDS, "asserts on elapsed time", 4),
    ],
    ids=["sleep", "sleep-assign", "asyncio-sleep", "elapsed", "list-of-stamps", "waited"],
)
def test_the_check_finds_a_violation(source: str, rule: str, line: int) -> None:
    assert [(v.rule, v.line) for v in violations(source)] == [(rule, line)]


POLLING_LOOP = """
import time
def wait_for(sink, count, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if len(sink) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("never arrived")
"""
SLEEP_THEN_WAIT = """
import time
def test_x(relay, probe):
    time.sleep(3)  # the outage
    relay.start()
    wait_until(probe.done, 60, "the campaign to finish")
    assert probe.counts() == {"sent": 10}
"""
OWN_WAIT_UNTIL = """
def wait_until(check, timeout, what):
    return check()
def test_x(stack):
    [fwd] = wait_until(stack.forwards, 30, "the forward")
    assert fwd["To"] == "partner@example.com"
"""
RATE_OF_RECORDED_TIMES = """
def test_x(relay):
    times = [r.received_at for r in relay.received]
    assert_within_rate(times, "25/second")
    assert len(times) == 100
"""


@pytest.mark.parametrize(
    "source",
    [POLLING_LOOP, SLEEP_THEN_WAIT, OWN_WAIT_UNTIL, RATE_OF_RECORDED_TIMES],
    ids=["polling-loop", "sleep-then-wait", "own-wait-until", "recorded-times"],
)
def test_the_check_lets_waits_and_recorded_times_pass(source: str) -> None:
    assert violations(source) == []


def test_the_suite_check_would_fail_on_a_violating_module(tmp_path: Path) -> None:
    """The suite-wide check is the same function run over real files: a module with both faults
    yields both, named by file, line and function."""
    found = violations(SLEEP_THEN_ASSERT + ELAPSED.replace("test_x", "test_y"), "sample.py")
    assert [str(v) for v in found] == [
        "tests/sample.py:5 in test_x: sleep-then-assert",
        "tests/sample.py:13 in test_y: asserts on elapsed time",
    ]
