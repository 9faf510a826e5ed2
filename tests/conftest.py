import json
import os
import sqlite3

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=40, deadline=None)
# benchmarks/mutation.py: a failing example is enough to kill a mutant, so no shrinking
# (shrinking a failure can outlast the mutation tool's timeout) and no example database
settings.register_profile(
    "mutation",
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    database=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def quick_suite(tmp_path_factory):
    """One ``regretgap reproduce --quick`` for the whole session: ``(out, outcome,
    results)`` with ``results[experiment] = [(config, metrics), ...]`` from the database."""
    from regretgap.experiments import reproduce

    out = tmp_path_factory.mktemp("quick_suite")
    outcome = reproduce.main(reproduce.Args(out=out, quick=True, progress=False))
    results: dict[str, list[tuple[dict, dict]]] = {}
    with sqlite3.connect(out / "results.sqlite") as con:
        for experiment, config, metrics in con.execute(
            "SELECT experiment, config, metrics FROM runs ORDER BY rowid"
        ):
            results.setdefault(experiment, []).append((json.loads(config), json.loads(metrics)))
    return out, outcome, results
