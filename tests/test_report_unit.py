"""The reproduce report's rendering (experiments/report.py) on fake experiment modules: in
seconds, where test_reproduce checks the same report end to end on the real suite."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import regretgap
from regretgap.experiments import report
from regretgap.experiments._suite import RunSpec
from regretgap.experiments._verdict import (
    BOUND_CHECK,
    CLAIM,
    CONSISTENT,
    INCONSISTENT,
    NOT_APPLICABLE,
    Verdict,
)


def _verdict(experiment: str, claim: str, word: str, kind: str = CLAIM, learner: str = "MALICE"):
    return Verdict(
        experiment, claim, learner, "coverage", "gap <= 1", "gap = 0.5", word,
        f"criterion of {claim}", {}, kind,
    )  # fmt: skip


def _module(verdicts, section: str, unavailable=None, partly=None):
    seen: list = []

    def verdict(pairs):
        seen.append(pairs)
        return list(verdicts)

    def render(pairs, out):
        return f"## {section}\n\n{len(pairs)} runs rendered\n"

    mod = SimpleNamespace(verdict=verdict, render=render, seen=seen)
    if unavailable is not None:
        mod.unavailable = lambda: unavailable
    if partly is not None:
        mod.partly_unavailable = lambda: partly
    return mod


@pytest.fixture
def suite():
    alpha = _module(
        [
            _verdict("alpha", "Theorem 5.3", CONSISTENT),
            _verdict("alpha", "Theorem 5.7", INCONSISTENT, learner=""),
            _verdict("alpha", "Lemma 5.1", CONSISTENT, kind=BOUND_CHECK),
        ],
        "Alpha",
    )
    beta = _module(
        [_verdict("beta", "Theorem 4.3", NOT_APPLICABLE), _verdict("beta", "4.4", CONSISTENT)],
        "Beta",
        partly="the routing rows, routing: pip install regretgap[routing]",
    )
    gamma = _module([_verdict("gamma", "never", CONSISTENT)], "Gamma", unavailable="no torch")
    modules = {"alpha": alpha, "beta": beta, "gamma": gamma}
    results = [
        (RunSpec("alpha", {"seed": 3, "H": 4, "learner": "malice"}), {"gap": 0.1}),
        (RunSpec("beta", {"seed": 0}), {"gap": 0.2}),
        (RunSpec("alpha", {"seed": 1, "H": 2, "learner": "blades"}), {"gap": 0.3}),
    ]
    return modules, results


def test_verdicts_go_to_their_module_in_module_order(suite) -> None:
    modules, results = suite
    words = [v.claim for v in report.verdicts(results, modules)]
    assert words == ["Theorem 5.3", "Theorem 5.7", "Lemma 5.1", "Theorem 4.3", "4.4"]
    # each module sees its own runs' (config, metrics) only; a module with no runs, none
    assert modules["alpha"].seen[0] == [
        ({"seed": 3, "H": 4, "learner": "malice"}, {"gap": 0.1}),
        ({"seed": 1, "H": 2, "learner": "blades"}, {"gap": 0.3}),
    ]
    assert modules["beta"].seen[0] == [({"seed": 0}, {"gap": 0.2})]
    assert modules["gamma"].seen == []


def test_skipped_names_whole_experiments_and_partial_rows(suite) -> None:
    modules, _ = suite
    assert report.skipped(modules) == [
        ("beta", "the routing rows, routing: pip install regretgap[routing]"),
        ("gamma", "not run, no torch"),
    ]
    assert report.skipped({"alpha": modules["alpha"]}) == []


@pytest.mark.parametrize(
    ("configs", "expected"),
    [
        ([{"H": 4}, {"H": 4}], "H=4"),
        ([{"H": 8}, {"H": 2}, {"H": 4}], "H in (2, 4, 8)"),  # numbers ascending
        ([{"g": "b"}, {"g": "a"}], "g in (b, a)"),  # others in run order
        ([{"f": True}, {"f": False}], "f in (True, False)"),  # booleans are not numbers
        ([{"n": k} for k in range(9, 0, -1)], "n: 9 values, 1 .. 9"),
        ([{"n": k} for k in range(8)], "n in (0, 1, 2, 3, 4, 5, 6, 7)"),  # 8: listed
        ([{"a": 1, "b": 2}, {"a": 1, "b": 3}], "a=1, b in (2, 3)"),
    ],
)
def test_run_settings_lists_each_key_once_with_its_values(configs, expected) -> None:
    assert report.run_settings(configs) == expected


def test_the_report_counts_words_and_separates_claims_from_checks(suite, tmp_path) -> None:
    modules, results = suite
    text = report.write_report(tmp_path, results, modules, quick=False)
    assert (tmp_path / "report.md").read_text() == text
    assert text.startswith("# regretgap reproduce\n\n")
    assert f"regretgap {regretgap.__version__}; 3 runs." in text
    # four claims (consistent, inconsistent, n/a, consistent) and one check
    assert "its claims (2 consistent, 1 inconsistent, 1 not applicable)" in text
    assert "checks of a bound (1 consistent, 0 inconsistent, 0 not applicable)" in text
    claims, checks = text.split("### Claims")[1].split("### Checks of a bound")
    assert "Theorem 5.3" in claims and "Lemma 5.1" not in claims
    assert "Lemma 5.1" in checks.split("What each verdict tests")[0]
    # a row without a learner is the proofs' own construction
    assert "| Theorem 5.7 | (the proof's policies) | coverage |" in claims
    # criteria numbered in table order: claims first, then checks; learner in parentheses
    assert "1. Theorem 5.3 (MALICE): criterion of Theorem 5.3." in text
    assert "2. Theorem 5.7: criterion of Theorem 5.7." in text
    assert "5. Lemma 5.1 (MALICE): criterion of Lemma 5.1." in text
    # sections of the modules that ran, in order; none for the one that did not
    assert text.index("## Alpha") < text.index("## Beta")
    assert "## Alpha\n\n2 runs rendered" in text and "## Gamma" not in text


def test_the_report_says_what_was_skipped_and_configures_every_module(suite, tmp_path) -> None:
    modules, results = suite
    text = report.write_report(tmp_path, results, modules, quick=True)
    assert text.startswith("# regretgap reproduce (quick)\n\n**Skipped here for a missing extra**")
    assert "- `gamma`: not run, no torch" in text
    config = text.split("## Configuration and seeds\n\n")[1]
    assert config.startswith(
        "- `alpha` (2 runs): seed in (1, 3), H in (2, 4), learner in (malice, blades)\n"
        "- `beta` (1 runs): seed=0; the routing rows, routing: pip install regretgap[routing]\n"
        "- `gamma`: not run, no torch\n"
    )
    # nothing skipped: no block, and a module without runs or reasons is not listed
    plain = {"alpha": modules["alpha"], "delta": _module([], "Delta")}
    text = report.write_report(Path(tmp_path), results, plain, quick=False)
    assert "Skipped here" not in text and "`delta`" not in text
