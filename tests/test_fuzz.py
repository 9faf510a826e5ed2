"""Fuzzed loaders (CI-sized): every input loads a valid object or raises the loader's
ValueError subclass. ``benchmarks/fuzz_loaders.py`` runs the same harness on 10^5 inputs."""

from __future__ import annotations

from collections import Counter

import pytest
from fuzzing import LOADERS, cases, run_one, run_typo, seeds, typos
from hypothesis import HealthCheck, given, settings

OUTCOMES: Counter = Counter()
TYPOS: Counter = Counter()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_seed_files_load(name, folder):
    for data in seeds()[LOADERS[name].seed]:
        assert run_one(name, data, folder) == "loaded"


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_loaders_load_or_refuse(case, folder):
    name, data = case
    OUTCOMES[run_one(name, data, folder)] += 1


def test_fuzzing_reached_both_outcomes():
    # the mutations must not all be refused at the zip layer: some load, many are refused
    assert OUTCOMES["refused"] > 0 and OUTCOMES["loaded"] > 0, OUTCOMES


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=typos())
def test_tntp_typos_are_refused_or_harmless(case, folder):
    # O for 0, l for 1, a dropped separator or field: refused, or the very same data
    name, original, typo = case
    TYPOS[(name, run_typo(name, original, typo, folder))] += 1


def test_typo_fuzzing_refused_typos_in_both_readers():
    for name in ("read_tntp_network", "read_tntp_trips"):
        assert TYPOS[(name, "refused")] > 0, TYPOS
