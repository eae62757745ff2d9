"""bench/send.py --cprofile DIR / --cputime DIR: where the workers' pool processes spend CPU.

This folder is put on the workers' PYTHONPATH only when one of those options is given, so Python
imports this module at start-up in those processes alone.

- BENCH_CPROFILE_DIR: each pool process profiles the tasks named BENCH_CPROFILE_TASK (default
  `mailer.tasks.send_batch`) with cProfile, in CPU time, between Celery's task_prerun and
  task_postrun signals, and writes its accumulated stats to DIR/pool-PID.prof after each task.
  cProfile's own cost per call inflates the many small functions: read shares, not µs.
- BENCH_CPUTIME_DIR: a lighter breakdown. The steps of a batch named in STEPS are wrapped to add
  up their CPU time (time.process_time) exclusive of the wrapped steps they call, and each
  task's whole (`(task NAME)`; the start's rendering and snapshot run in a pool process too);
  written to DIR/steps-PID.json after each task. Each wrapped call costs about a
  microsecond of its own (two clock reads), counted in the step that made it.
  BENCH_CPUTIME_STEPS (a comma-separated list of attribute paths, e.g. `SigningKey.sign`)
  wraps only those steps: the DKIM comparison times the signature alone that way, at one
  wrapped call per message.
"""

from __future__ import annotations

import os

# (module, attribute path) of each step timed by BENCH_CPUTIME_DIR.
STEPS = [
    ("mailer.sending.deliveries", "recover_abandoned"),
    ("mailer.sending.deliveries", "claim_recipients"),
    ("mailer.sending.deliveries", "release"),
    ("mailer.sending.batch", "send_range"),
    ("mailer.sending.compose", "Composer.compose"),
    ("mailer.sending.ratelimit", "SendRateLimiter.acquire"),
    ("mailer.sending.transport", "SMTPTransport.send"),
    ("mailer.sending.transport", "SMTPTransport.submit"),
    ("mailer.sending.transport", "SMTPTransport.flush"),
    ("mailer.sending.transport", "SMTPTransport._connect"),
    ("mailer.sending.transport", "SMTPTransport.close"),
    ("mailer.sending.outcomes", "Recorder.record"),
    ("mailer.sending.outcomes", "Recorder.committed"),
    ("mailer.sending.outcomes", "Recorder.__init__"),
    ("mailer.sending.tasks", "_after_batch"),
    ("mailer.sending.tasks", "_composer"),
    # DKIM (a signed run): the signer's header work, and the RSA (or Ed25519) operation itself —
    # the signature timed in the very processes and run whose cost it is compared with.
    ("mailer.sending.dkim", "Signer.signature"),
    ("mailer.sending.dkim", "SigningKey.sign"),
]


def _install_cprofile(folder: str) -> None:
    import cProfile
    import time
    from typing import Any

    from celery.signals import task_postrun, task_prerun

    wanted = os.environ.get("BENCH_CPROFILE_TASK", "mailer.tasks.send_batch")
    profilers: dict[int, cProfile.Profile] = {}

    def profiler() -> cProfile.Profile:
        # One per process: the pool forks after this module ran in the worker's main one. CPU
        # time (the figure the bench's target is about), not wall time, which counts waiting
        # for the relay and the database.
        if os.getpid() not in profilers:
            profilers[os.getpid()] = cProfile.Profile(time.process_time)
        return profilers[os.getpid()]

    @task_prerun.connect(weak=False)
    def _start(task: Any = None, **_: Any) -> None:
        if task is not None and task.name == wanted:
            profiler().enable()

    @task_postrun.connect(weak=False)
    def _stop(task: Any = None, **_: Any) -> None:
        if task is not None and task.name == wanted:
            prof = profiler()
            prof.disable()
            prof.dump_stats(os.path.join(folder, f"pool-{os.getpid()}.prof"))


def _install_cputime(folder: str) -> None:
    import functools
    import importlib
    import json
    import time
    from typing import Any

    from celery.signals import task_postrun, task_prerun

    wanted = os.environ.get("BENCH_CPROFILE_TASK", "mailer.tasks.send_batch")
    clock = time.process_time
    totals: dict[str, list[float]] = {}  # name: [calls, exclusive seconds]
    children = [0.0]  # the running step's wrapped callees' time (a stack of one value per level)
    state: dict[str, Any] = {"patched": False, "task_started": 0.0}

    def wrap(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            children.append(0.0)
            began = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = clock() - began
                inner = children.pop()
                children[-1] += spent
                entry = totals.setdefault(name, [0, 0.0])
                entry[0] += 1
                entry[1] += spent - inner

        return timed

    only = set(filter(None, os.environ.get("BENCH_CPUTIME_STEPS", "").split(",")))

    def patch() -> None:
        for module_name, path in STEPS:
            if only and path not in only:
                continue
            owner: Any = importlib.import_module(module_name)
            *parents, attr = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            fn = owner.__dict__.get(attr) if isinstance(owner, type) else getattr(owner, attr, None)
            if fn is not None:  # an older checkout may lack a step
                setattr(owner, attr, wrap(path, fn))

    started: dict[str, float] = {}

    @task_prerun.connect(weak=False)
    def _start(task: Any = None, **_: Any) -> None:
        if task is None:
            return
        if not state["patched"]:
            patch()
            state["patched"] = True
        children[:] = [0.0]
        started[task.name] = clock()

    @task_postrun.connect(weak=False)
    def _stop(task: Any = None, **_: Any) -> None:
        if task is None or task.name not in started:
            return
        spent = clock() - started.pop(task.name)
        if task.name == wanted:
            entry = totals.setdefault("send_batch (rest of the task)", [0, 0.0])
            entry[0] += 1
            entry[1] += spent - children[0]
        whole = totals.setdefault(f"(task {task.name})", [0, 0.0])
        whole[0] += 1
        whole[1] += spent
        path = os.path.join(folder, f"steps-{os.getpid()}.json")
        with open(path, "w") as f:
            json.dump(totals, f)


if os.environ.get("BENCH_CPROFILE_DIR"):
    _install_cprofile(os.environ["BENCH_CPROFILE_DIR"])
if os.environ.get("BENCH_CPUTIME_DIR"):
    _install_cputime(os.environ["BENCH_CPUTIME_DIR"])
