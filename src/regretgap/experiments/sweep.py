"""One sweep runner for every backend: in this process, local processes, or Ray.

:func:`run_sweep` runs ``execute(spec) -> metrics`` for every spec and yields
:class:`Finished` ``(spec, metrics, seconds)`` in the order runs finish, so the caller (the
driver) alone records results and shows progress. Backends: ``"serial"`` (this process),
``"processes"`` (local spawned processes) and ``"ray"`` (a local Ray instance or a
cluster; the optional extra ``pip install "regretgap[ray]"``). Every run executes with one
numba/BLAS thread whatever the backend: the parallelism is across runs, and a run whose
numbers depend only on its spec (``RunSpec.seed``) gives the same metrics everywhere.
A worker that dies (killed, out of memory, ``os._exit``) has its run retried up to
``retries`` times; runs already yielded are never lost. An exception raised by
``execute`` is not retried: it reaches the caller.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, Literal, NamedTuple

from regretgap.errors import ValidationError

Backend = Literal["serial", "processes", "ray"]
BACKENDS = ("serial", "processes", "ray")

#: The one line a missing Ray gives (``backend="ray"`` without the extra).
RAY_MISSING = 'the Ray backend needs Ray: pip install "regretgap[ray]"'


class Finished(NamedTuple):
    """One finished run: its spec, what ``execute`` returned, and its wall-clock seconds
    (measured where it ran)."""

    spec: Any
    metrics: Any
    seconds: float


class MissingExtra(ValidationError, ImportError):
    """Ray is not installed. An ImportError, like the other extras' messages, and a
    ValidationError, so that both command lines print it as one line and exit 2."""


class WorkerDied(RuntimeError):
    """A run's worker died more often than ``retries`` allows (the run is not recorded)."""


def run_sweep(
    specs: Sequence[Any],
    execute: Callable[[Any], Any],
    *,
    backend: Backend = "serial",
    workers: int | None = None,
    address: str | None = None,
    retries: int = 2,
) -> Iterator[Finished]:
    """Run ``execute(spec)`` for every spec; yield :class:`Finished` as each run ends.

    Arguments are checked (and Ray imported) when this is called, before any run starts;
    the runs happen as the returned iterator is consumed. Close it (``contextlib.closing``,
    or let a ``for`` loop end) to stop: queued runs are dropped and workers stopped.

    Args:
        specs: the runs; picklable for ``"processes"`` and ``"ray"``.
        execute: ``execute(spec) -> metrics``, a pure function of ``spec`` (seed from the
            spec, e.g. ``RunSpec.seed``). For ``"processes"`` it must be importable
            (a module-level function); Ray also takes closures.
        backend: ``"serial"``, ``"processes"`` or ``"ray"``.
        workers: parallel runs. ``"processes"``: processes (default: CPU count).
            ``"ray"``: CPUs of a local Ray instance started here (default: all); with an
            ``address`` the cluster's CPUs decide, so ``workers`` must be ``None``.
            ``"serial"``: ``None`` or 1.
        address: ``"ray"`` only: ``"auto"`` (the cluster this machine joined with
            ``ray start``) or a cluster address such as ``"10.0.0.1:6379"``; ``None``
            starts a local instance for the sweep and stops it afterwards. A Ray
            connection already open in this process is used as it is.
        retries: times a run is retried after its worker dies (``"processes"``,
            ``"ray"``); in ``"serial"`` a dying run takes this process with it.

    Returns:
        An iterator of :class:`Finished`, in the order runs finish.

    Raises:
        ValidationError: an unknown backend, ``workers`` < 1, ``retries`` < 0, or an
            option that does not apply to the backend.
        MissingExtra: ``backend="ray"`` without Ray installed (:data:`RAY_MISSING`); an
            ImportError and a ValidationError.
        WorkerDied: (while iterating) a run's worker died ``retries + 1`` times.
    """
    if backend not in BACKENDS:
        raise ValidationError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValidationError(f"workers must be an integer >= 1 or None, got {workers!r}")
    if not isinstance(retries, int) or retries < 0:
        raise ValidationError(f"retries must be an integer >= 0, got {retries!r}")
    if address is not None and backend != "ray":
        raise ValidationError(f"address applies to the Ray backend only, got backend {backend!r}")
    specs = list(specs)
    if backend == "serial":
        if workers not in (None, 1):
            raise ValidationError(
                f"the serial backend runs one run at a time, got workers {workers}"
            )
        return _serial(specs, execute)
    if backend == "processes":
        try:
            pickle.dumps(execute)
        except Exception as exc:
            raise ValidationError(
                f"execute must be a module-level function for the processes backend "
                f"(spawned workers import it): {exc}"
            ) from exc
        return _processes(specs, execute, workers or os.cpu_count() or 1, retries)
    if address is not None and workers is not None:
        raise ValidationError(
            f"workers={workers} sizes a local Ray instance; a cluster at {address!r} runs as "
            f"many runs as it has CPUs"
        )
    ray = require_ray()
    return _ray(ray, specs, execute, workers, address, retries)


# ---------------------------------------------------------------------------------------
# one thread per run


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One compute thread for numba and BLAS inside the block, restored afterwards.

    The suite's games are small (at most a few hundred state-action pairs), where threads
    only add synchronisation: on 2 busy cores a run measured 10-20x slower with the
    default thread pools.
    """
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        numba.set_num_threads(before)


def _worker_init() -> None:
    # worker processes and Ray tasks: the workers are the parallelism, one thread each
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(1)


def _timed(execute: Callable[[Any], Any], spec: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    metrics = execute(spec)
    return metrics, time.perf_counter() - t0


# ---------------------------------------------------------------------------------------
# serial


def _serial(specs: list, execute: Callable[[Any], Any]) -> Iterator[Finished]:
    with one_thread():
        for spec in specs:
            yield Finished(spec, *_timed(execute, spec))


# ---------------------------------------------------------------------------------------
# local processes


def _serve(conn: Connection, execute: Callable[[Any], Any]) -> None:
    """A worker process: run the specs the driver sends until it sends ``None``."""
    # Ctrl-C reaches the whole process group; the driver decides when workers stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_init()
    while (spec := conn.recv()) is not None:
        try:
            conn.send(("ok", *_timed(execute, spec)))
        except BaseException as exc:
            try:
                conn.send(("error", exc, None))
            except Exception:  # an exception that does not pickle
                conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}"), None))


class _Worker(NamedTuple):
    proc: Any  # multiprocessing.Process (spawn context)
    conn: Connection


def _processes(
    specs: list, execute: Callable[[Any], Any], workers: int, retries: int
) -> Iterator[Finished]:
    """Own pool (not ``ProcessPoolExecutor``): the driver knows which run each worker
    holds, so a dying worker costs a retry of that run only, and the others go on."""
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe with numba's OpenMP layer

    def start() -> _Worker:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, execute), daemon=True)
        proc.start()
        child.close()
        return _Worker(proc, parent)

    queue = deque(enumerate(specs))
    deaths = [0] * len(specs)
    idle: list[_Worker] = []
    busy: dict[_Worker, tuple[int, Any]] = {}
    try:
        idle = [start() for _ in range(min(workers, len(specs)))]
        while queue or busy:
            while queue and idle:
                worker, (k, spec) = idle.pop(), queue.popleft()
                with contextlib.suppress(OSError):  # a worker gone since: its sentinel says so
                    worker.conn.send(spec)
                busy[worker] = (k, spec)
            ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy]))
            for worker, (k, spec) in list(busy.items()):
                if worker.conn not in ready and worker.proc.sentinel not in ready:
                    continue
                msg = None
                with contextlib.suppress(EOFError, OSError):
                    if worker.conn.poll():
                        msg = worker.conn.recv()
                del busy[worker]
                if msg is None:  # the worker died holding this run
                    worker.proc.join()
                    worker.conn.close()
                    deaths[k] += 1
                    if deaths[k] > retries:
                        raise WorkerDied(
                            f"the worker running {spec!r} died on each of its {deaths[k]} "
                            f"attempts (retries={retries}; last exit code {worker.proc.exitcode})"
                        )
                    queue.appendleft((k, spec))
                    idle.append(start())
                    continue
                if worker.proc.is_alive():
                    idle.append(worker)
                else:  # it answered, then died: the run counts, the worker is replaced
                    worker.proc.join()
                    worker.conn.close()
                    idle.append(start())
                status, value, seconds = msg
                if status == "error":
                    value.add_note(f"raised by execute in a worker process, running {spec!r}")
                    raise value
                yield Finished(spec, value, seconds)
    finally:
        for worker in idle:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in busy:  # interrupted or failed: stop the runs still going
            worker.proc.terminate()
        for worker in [*idle, *busy]:
            worker.proc.join(timeout=5)
            if worker.proc.is_alive():
                worker.proc.kill()
                worker.proc.join()
            worker.conn.close()


# ---------------------------------------------------------------------------------------
# Ray


def require_ray() -> Any:
    """The ``ray`` module; without the extra, :class:`MissingExtra` naming it."""
    try:
        import ray
    except ImportError as exc:  # one line, naming the extra
        raise MissingExtra(RAY_MISSING) from exc
    return ray


def _python_handlers() -> dict[int, Any]:
    """SIGTERM and SIGINT handlers that are Python functions (none outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    return {sig: h for sig, h in handlers.items() if callable(h)}


def _ray_task(execute: Callable[[Any], Any], spec: Any) -> tuple[Any, float]:
    _worker_init()  # Ray reuses worker processes; setting it each task is cheap
    return _timed(execute, spec)


def _ray(
    ray: Any,
    specs: list,
    execute: Callable[[Any], Any],
    workers: int | None,
    address: str | None,
    retries: int,
) -> Iterator[Finished]:
    started = False
    if not ray.is_initialized():
        handlers = _python_handlers()
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
        started = True
        # ray.init replaces SIGTERM's handler with one that logs a stack and exits 15; a
        # caller's own handler (the CLI's: one line, exit 143, stop the sweep) comes back
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    # max_retries: Ray reruns a task whose worker process died; retry_exceptions=False
    # keeps an exception raised by execute an answer, as in the other backends
    task = ray.remote(num_cpus=1, max_retries=retries, retry_exceptions=False)(_ray_task)
    # a task's worker process or machine went away (Ray retried it max_retries times)
    died = tuple(
        getattr(ray.exceptions, name)
        for name in ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError")
        if hasattr(ray.exceptions, name)
    )
    pending: list = []
    try:
        fn = ray.put(execute)
        refs = {task.remote(fn, spec): spec for spec in specs}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    metrics, seconds = ray.get(ref)
                except died as exc:
                    raise WorkerDied(
                        f"the worker running {refs[ref]!r} died on each of its {retries + 1} "
                        f"attempts (retries={retries})"
                    ) from exc
                yield Finished(refs[ref], metrics, seconds)
    finally:
        if started:
            # disconnecting ends this job, and Ray stops its tasks; cancelling them first
            # (force=True) raced with their replies and crashed the driver in Ray 2.60
            # ("Check failed: it != submissible_tasks_.end()")
            ray.shutdown()
        else:
            for ref in pending:  # the caller's connection stays: drop the unfinished runs
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
