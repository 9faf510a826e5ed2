"""The paper_checks experiment: every verdict says "consistent" on the real computation and
"inconsistent" on a doctored result that violates its claim."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import regretgap as rg
from regretgap.experiments import paper_checks as pc
from regretgap.experiments._verdict import (
    BOUND_CHECK,
    CLAIM,
    CONSISTENT,
    INCONSISTENT,
    NOT_APPLICABLE,
)

Results = list[tuple[dict, dict]]


@pytest.fixture(scope="module")
def quick() -> Results:
    """The quick run's real ``(config, metrics)`` pairs."""
    return [(s.config, pc.execute(s.config, s.seed)) for s in pc.runs(pc.Args(quick=True))]


def _word(results: Results, claim: str) -> str:
    found = [v for v in pc.verdict(results) if v.claim == claim]
    assert len(found) == 1, f"{claim}: {[v.claim for v in pc.verdict(results)]}"
    return found[0].word


def _doctor(results: Results, check: str, edit: Callable[[dict, dict], None]) -> Results:
    """A deep copy of ``results`` with ``edit(config, metrics)`` applied to the first run of
    ``check`` (``"4.7/theorem_4_5"``: the first on that game); the other runs stay real."""
    out = copy.deepcopy(results)
    name, _, game = check.partition("/")
    config, metrics = next(
        (c, m) for c, m in out if c["check"] == name and (not game or c.get("game") == game)
    )
    edit(config, metrics)
    return out


def _set(**values: float) -> Callable[[dict, dict], None]:
    return lambda _c, m: m.update(values)


def _shift(key: str, by: float) -> Callable[[dict, dict], None]:
    return lambda _c, m: m.update({key: m[key] + by})


def _learner_row(key: str, value: float) -> Callable[[dict, dict], None]:
    return lambda _c, m: m["learners"][0].update({key: value})


# (claim, check whose first run is doctored, the violation)
VIOLATIONS = [
    # a learner that recommends uniformly at s_1 has gap (H - 2) / 3, not H - 2
    ("Theorem 4.5", "4.5", lambda c, m: m.update(regret_gap=(c["H"] - 2) / 3)),
    ("Theorem 4.5", "4.5", _set(occupancy_diff=0.1)),
    ("Theorem 5.4", "5.4", _shift("regret_gap", 0.01)),
    ("Theorem 5.4", "5.4", lambda c, m: m.update(bc=2 * c["eps"])),
    ("Corollary 5.6", "5.4", lambda c, m: m.update(moment=c["eps"])),
    ("Theorem 5.3", "5.4", _set(ratio_step=4.5)),
    ("Theorem 5.3", "5.4", _set(ratio_avg=4.5)),
    ("Theorems 5.8 and 5.10", "5.8", _shift("value_gap", 0.01)),
    ("Theorems 5.8 and 5.10", "5.8", lambda c, m: m.update(deviation=c["eps"] / 2)),
    ("Theorems 5.7 and 5.9", "5.8", _set(ratio=5.0)),
    # the perturbed learner's regrets match the expert's: indicators would not separate
    ("Theorem 4.3", "4.3", _set(perturbed_max_diff=0.0)),
    ("Theorem 4.3", "4.3", _shift("identity_error", 1e-3)),
    ("Theorem 4.3", "4.3", _set(equal_max_diff=0.2)),
    ("Theorem 4.4", "4.4", _set(value_gap=0.0)),
    ("Theorem 4.4", "4.4", _set(regret_gap=0.5)),
    ("Lemma F.1", "4.4", _set(f1_regret_r_prime=0.5)),
    ("Lemma F.2", "4.4", _set(f2_value_2=1.0)),
    ("Lemma F.2", "4.4", _set(f2_regret_2=0.1)),
    ("Theorem 4.7 (definition check)", "4.7", lambda _c, m: m["learners"][0].update(delta_2=-1.0)),
    # the learner recommending uniformly at s_1: only an (H - 2)/3-approximate CE
    (
        "Corollary 4.8",
        "4.7/theorem_4_5",
        lambda c, m: m["learners"][0].update(
            regret_learner=(c["H"] - 2) / 3, delta_2=(c["H"] - 2) / 3
        ),
    ),
    ("Corollary 4.8", "4.7/theorem_4_5", _learner_row("value_gap", 0.5)),
    ("Theorem D.1", "D.1", _set(max_diff=1e-3)),
    ("Deviation classes", "classes", _shift("learner_swap", 10.0)),
    ("Deviation classes", "classes", _shift("expert_cce", 1.0)),
]


def test_quick_run_all_consistent(quick: Results) -> None:
    verdicts = pc.verdict(quick)
    assert {v.claim for v in verdicts} == {claim for claim, _, _ in VIOLATIONS}
    for v in verdicts:
        assert v.word == CONSISTENT, v
        assert v.experiment == pc.NAME and v.learner == ""
        assert all(isinstance(x, float) for x in v.numbers.values())


@pytest.mark.parametrize(("claim", "check", "edit"), VIOLATIONS)
def test_verdict_can_fail(quick: Results, claim: str, check: str, edit) -> None:
    assert _word(quick, claim) == CONSISTENT
    assert _word(_doctor(quick, check, edit), claim) == INCONSISTENT


def test_theorem_4_7_violated_by_learner_rows(quick: Results) -> None:
    bad = _doctor(quick, "4.7", _learner_row("regret_learner", 100.0))
    assert _word(bad, "Theorem 4.7 (definition check)") == INCONSISTENT


#: Rows that hold for every policy: identities and upper bounds that validate the evaluator
#: and the constants; the report keeps them out of Table 1's claims.
BOUND_CHECKS = {
    "Theorem 5.3",
    "Theorems 5.7 and 5.9",
    "Theorem 4.7 (definition check)",
    "Theorem D.1",
    "Deviation classes",
}


def test_bound_checks_are_labelled_so(quick: Results) -> None:
    kinds = {v.claim: v.kind for v in pc.verdict(quick)}
    assert {c for c, k in kinds.items() if k == BOUND_CHECK} == BOUND_CHECKS
    assert {k for c, k in kinds.items() if c not in BOUND_CHECKS} == {CLAIM}


def test_not_applicable(quick: Results) -> None:
    two_agents = _doctor(quick, "D.1", _set(agents=2))
    assert _word(two_agents, "Theorem D.1") == NOT_APPLICABLE
    one_action = _doctor(quick, "4.3", _set(min_actions_max=1.0))
    assert _word(one_action, "Theorem 4.3") == NOT_APPLICABLE


def test_exact_numbers_from_the_proofs() -> None:
    """Reference values: E.3 (H - 2), E.8 (eps H (u'-2)/(2 beta), BC eps, moment 2 eps),
    E.12/E.14 (eps H (u'-1)), E.1 (R(f_sa) = H rho(s, a))."""
    m = pc.execute({"check": "4.5", "H": 10}, 0)
    assert m["regret_gap"] == pytest.approx(8.0, abs=1e-12) and m["value_gap"] == 0.0
    m = pc.execute({"check": "5.4", "H": 8, "beta": 0.1, "u": 6.0, "eps": 0.005}, 0)
    assert m["regret_gap"] == pytest.approx(0.005 * 8 * 4 / 0.2, abs=1e-12)
    assert m["bc"] == pytest.approx(0.005, abs=1e-15)
    assert m["moment"] == pytest.approx(0.01, abs=1e-15)
    # the step-averaged beta is the per-step one over H on this layered construction
    assert m["ratio_avg"] * 8 == pytest.approx(m["ratio_step"], rel=1e-12)
    m = pc.execute({"check": "5.8", "H": 16, "beta": 0.25, "u": 3.0, "eps": 0.01}, 0)
    assert m["regret_gap"] == pytest.approx(0.01 * 16 * 2, abs=1e-12)
    assert m["value_gap"] == pytest.approx(m["regret_gap"], abs=1e-12)
    m = pc.execute({"check": "4.3", "game": "theorem_4_5", "H": 5}, 3)
    assert m["identity_error"] < 1e-12 and m["equal_true_regret_gap"] == pytest.approx(3.0)


def test_runs_are_json_and_seeded() -> None:
    specs = pc.runs(pc.Args())
    assert len({s.key for s in specs}) == len(specs)
    for s in specs:
        json.dumps(s.config)
    spec = next(s for s in specs if s.config.get("game") == "random")
    first, again = pc.execute(spec.config, spec.seed), pc.execute(spec.config, spec.seed)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert first["seed"] == spec.seed


def test_unknown_check() -> None:
    with pytest.raises(rg.ValidationError, match="unknown check"):
        pc.execute({"check": "9.9"}, 0)


def test_render(quick: Results, tmp_path: Path) -> None:
    text = pc.render(quick, tmp_path)
    assert text.startswith("## " + pc.TITLE)
    for v in pc.verdict(quick):
        assert v.claim in text
    assert "True" not in text and "False" not in text
    assert "deterministic" in text
    pngs = list(tmp_path.glob("*.png"))
    assert len(pngs) == 1 and pngs[0].name in text
    # every table row has as many cells as its header (no stray "|" inside a cell)
    header = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
        elif header is None:
            header = line.count("|")
        else:
            assert line.count("|") == header, line


def test_main_prints_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = pc.main(pc.Args(quick=True))
    assert all(v.word == CONSISTENT for v in verdicts)
    assert "Theorem 4.5" in capsys.readouterr().out
