"""``run_sweep``: serial, processes and Ray give equal results; dying workers are retried.

The Ray tests run on a local instance (``ray.init(num_cpus=2)``, started once for this
module) and are skipped, with the reason, where the ``ray`` extra is not installed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from regretgap.errors import ValidationError
from regretgap.experiments import reproduce
from regretgap.experiments.sweep import Finished, WorkerDied, run_sweep

# Module-level so that spawned workers can import them. A spec is (marker, k, victim): run
# k squares itself; the victim's worker dies (os._exit) while the marker file is missing
# ("once") or every time ("always").


def _die_once(spec: tuple[str, int, int]) -> dict:
    marker, k, victim = spec
    if k == victim and not os.path.exists(marker):
        Path(marker).write_text("died")
        os._exit(3)  # no cleanup, no exception: the process is gone, as after a kill
    return {"square": k * k}


def _die_always(spec: tuple[str, int, int]) -> dict:
    _, k, victim = spec
    if k == victim:
        os._exit(3)
    return {"square": k * k}


def _fail(spec: int) -> dict:
    if spec == 1:
        raise ArithmeticError(f"run {spec} failed")
    return {"square": spec * spec}


def _threads(spec: int) -> dict:
    import numba
    from threadpoolctl import threadpool_info

    blas = [pool["num_threads"] for pool in threadpool_info()]
    return {"numba": numba.get_num_threads(), "blas": max(blas, default=1)}


def _specs(tmp_path: Path, victim: int, n: int = 6) -> list[tuple[str, int, int]]:
    return [(str(tmp_path / "died"), k, victim) for k in range(n)]


def _rows(db: Path) -> dict[str, dict]:
    with sqlite3.connect(db) as con:
        return {k: json.loads(m) for k, m in con.execute("SELECT key, metrics FROM runs")}


# ---------------------------------------------------------------------------------------
# every backend


def test_serial_yields_every_run_in_order_with_its_seconds():
    got = list(run_sweep([3, 1, 2], lambda k: {"square": k * k}))
    assert [f.spec for f in got] == [3, 1, 2]
    assert [f.metrics for f in got] == [{"square": 9}, {"square": 1}, {"square": 4}]
    assert all(isinstance(f, Finished) and f.seconds >= 0 for f in got)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(backend="threads"), "backend must be one of"),
        (dict(backend="processes", workers=0), "workers must be an integer >= 1"),
        (dict(backend="processes", retries=-1), "retries must be an integer >= 0"),
        (dict(backend="processes", address="auto"), "address applies to the Ray backend"),
        (dict(workers=2), "serial backend runs one run at a time"),
        (dict(backend="processes", execute=lambda k: k), "module-level function"),
        (dict(backend="ray", workers=2, address="auto"), "sizes a local Ray instance"),
    ],
)
def test_bad_sweep_arguments_are_refused_before_any_run(kwargs, message):
    execute = kwargs.pop("execute", _fail)
    with pytest.raises(ValidationError, match=message):
        run_sweep([0, 1], execute, **kwargs)


def test_missing_ray_extra_is_one_line_naming_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ImportError) as err:  # also a ValidationError (MissingExtra)
        run_sweep([0], _fail, backend="ray")
    assert str(err.value) == 'the Ray backend needs Ray: pip install "regretgap[ray]"'
    with pytest.raises(ImportError, match=r'pip install "regretgap\[ray\]"'):
        reproduce.main(reproduce.Args(out=tmp_path / "r", quick=True, ray="local"))
    assert not (tmp_path / "r").exists()  # refused before any work

    from regretgap.cli import main

    out = tmp_path / "cli"
    assert main(["reproduce", "--quick", "--ray", "--out", str(out)]) == 2
    err_lines = capsys.readouterr().err.splitlines()
    assert err_lines == [
        'regretgap: error: the Ray backend needs Ray: pip install "regretgap[ray]"'
    ]
    assert not out.exists()

    from regretgap.experiments._cli import cli

    assert cli(reproduce.Args, reproduce.main, "", ["--ray", "local", "--out", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "python -m regretgap.experiments.reproduce: error: the Ray backend needs Ray: "
        'pip install "regretgap[ray]"'
    ]
    assert not out.exists()


# ---------------------------------------------------------------------------------------
# local processes


def test_processes_retry_a_dying_worker_and_keep_every_run(tmp_path):
    specs = _specs(tmp_path, victim=2)
    got = list(run_sweep(specs, _die_once, backend="processes", workers=2, retries=1))
    assert (tmp_path / "died").exists(), "the victim's first worker must have died"
    assert sorted(f.spec for f in got) == specs  # each run exactly once
    assert all(f.metrics == {"square": f.spec[1] ** 2} for f in got)


def test_processes_give_up_after_retries_and_keep_the_finished_runs(tmp_path):
    specs = _specs(tmp_path, victim=5)  # last: runs 0-3 finish before it is handed out
    got: list[Finished] = []
    with pytest.raises(WorkerDied, match=r"died on each of its 2 attempts \(retries=1"):
        for finished in run_sweep(specs, _die_always, backend="processes", workers=2, retries=1):
            got.append(finished)
    assert len(got) >= 4 and all(f.metrics == {"square": f.spec[1] ** 2} for f in got)


def test_processes_pass_an_exception_on_without_retrying():
    with pytest.raises(ArithmeticError, match="run 1 failed"):
        list(run_sweep([0, 1, 2], _fail, backend="processes", workers=2, retries=3))


def test_processes_run_one_thread_each():
    got = list(run_sweep([0, 1], _threads, backend="processes", workers=2))
    assert [f.metrics for f in got] == [{"numba": 1, "blas": 1}] * 2


# ---------------------------------------------------------------------------------------
# Ray (local instance)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance for this module; run_sweep uses it as it finds it."""
    ray = pytest.importorskip(
        "ray", reason='Ray is the optional extra: pip install "regretgap[ray]"'
    )
    # Ray's workers cannot import this test module: ship its functions by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


def test_reproduce_on_ray_resumes_to_the_serial_database_and_report(local_ray, tmp_path):
    experiments = ("horizon_sweep", "routing")
    serial = reproduce.main(
        reproduce.Args(out=tmp_path / "serial", quick=True, progress=False, experiments=experiments)
    )
    # half done serially (as if killed), then resumed on Ray: the driver skips those keys
    out = tmp_path / "ray"
    first = reproduce.main(
        reproduce.Args(out=out, quick=True, progress=False, experiments=experiments[:1])
    )
    resumed = reproduce.main(
        reproduce.Args(out=out, quick=True, progress=False, experiments=experiments, ray="local")
    )
    assert resumed.skipped == first.ran and resumed.ran == serial.ran - first.ran > 0
    assert _rows(out / "results.sqlite") == _rows(tmp_path / "serial" / "results.sqlite")
    assert resumed.text == serial.text


def test_ray_retries_a_dying_worker_and_keeps_every_run(local_ray, tmp_path):
    specs = _specs(tmp_path, victim=2)
    got = list(run_sweep(specs, _die_once, backend="ray", retries=1))
    assert (tmp_path / "died").exists(), "the victim's first worker must have died"
    assert sorted(f.spec for f in got) == specs
    assert all(f.metrics == {"square": f.spec[1] ** 2} for f in got)


def test_ray_gives_up_after_retries_and_keeps_the_finished_runs(local_ray, tmp_path):
    specs = _specs(tmp_path, victim=5)
    got: list[Finished] = []
    with pytest.raises(WorkerDied, match=r"died on each of its 1 attempts \(retries=0"):
        for finished in run_sweep(specs, _die_always, backend="ray", retries=0):
            got.append(finished)
    assert all(f.metrics == {"square": f.spec[1] ** 2} for f in got)


def test_ray_runs_one_thread_each_and_passes_exceptions_on(local_ray):
    got = list(run_sweep([0, 1], _threads, backend="ray"))
    assert [f.metrics for f in got] == [{"numba": 1, "blas": 1}] * 2
    with pytest.raises(ArithmeticError, match="run 1 failed"):
        list(run_sweep([0, 1, 2], _fail, backend="ray", retries=3))
