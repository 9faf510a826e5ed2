"""The reproduce report: Table 1 from every experiment's verdicts, then each section.

Only rendering happens here: each experiment module judges its own claim
(``verdict(results)``) and renders its own section (``render(results, out)``). Everything
is a function of the finished runs' metrics (never of timings), so a resumed run writes the
same report. Files are written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import regretgap
from regretgap.experiments._render import md_table
from regretgap.experiments._suite import RunSpec
from regretgap.experiments._verdict import (
    BOUND_CHECK,
    CLAIM,
    CONSISTENT,
    INCONSISTENT,
    NOT_APPLICABLE,
    TOLERANCE,
    Verdict,
)
from regretgap.io import atomic_write_bytes


def verdicts(results: list[tuple[RunSpec, dict]], modules: Mapping[str, Any]) -> list[Verdict]:
    """Every experiment's verdicts, in module order."""
    out: list[Verdict] = []
    for name, mod in modules.items():
        pairs = [(s.config, m) for s, m in results if s.experiment == name]
        if pairs:
            out += mod.verdict(pairs)
    return out


def skipped(modules: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the suite skips here for a missing extra: ``(experiment, "what, why: pip
    install ...")`` from each module's optional ``unavailable()`` (the whole experiment)
    and ``partly_unavailable()`` (some of its rows)."""
    out = []
    for name, mod in modules.items():
        reason = getattr(mod, "unavailable", lambda: None)()
        if reason:
            out.append((name, f"not run, {reason}"))
            continue
        part = getattr(mod, "partly_unavailable", lambda: None)()
        if part:
            out.append((name, part))
    return out


def _skipped_block(modules: Mapping[str, Any]) -> str:
    lines = [f"- `{name}`: {why}" for name, why in skipped(modules)]
    if not lines:
        return ""
    return (
        "**Skipped here for a missing extra** (install it and rerun the same command: "
        "finished runs are kept, the skipped ones run):\n\n" + "\n".join(lines) + "\n\n"
    )


def _values(values: list[Any]) -> str:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    shown = [str(v) for v in (sorted(values) if numbers else values)]
    if len(shown) == 1:
        return f"={shown[0]}"
    if len(shown) > 8:
        return f": {len(shown)} values, {shown[0]} .. {shown[-1]}"
    return f" in ({', '.join(shown)})"


def run_settings(configs: list[dict]) -> str:
    """The settings that ran, from the runs' own configurations: each key with its one
    value or its distinct values (numbers ascending, others in run order). So a
    ``--quick`` report lists the quick form's, whatever a module's ``Args`` default to."""
    distinct: dict[str, list[Any]] = {}
    for config in configs:
        for key, value in config.items():
            seen = distinct.setdefault(key, [])
            if value not in seen:
                seen.append(value)
    return ", ".join(f"{key}{_values(values)}" for key, values in distinct.items())


def _configuration(modules: Mapping[str, Any], results: list[tuple[RunSpec, dict]]) -> str:
    lines = []
    reasons = dict(skipped(modules))
    for name in modules:
        configs = [s.config for s, _ in results if s.experiment == name]
        note = f"; {reasons[name]}" if name in reasons else ""
        if not configs:
            if note:
                lines.append(f"- `{name}`: {reasons[name]}")
            continue
        lines.append(f"- `{name}` ({len(configs)} runs): {run_settings(configs)}{note}")
    return (
        "## Configuration and seeds\n\n"
        + "\n".join(lines)
        + "\n\nEvery run draws its random numbers from `numpy.random.default_rng(seed)` with "
        "`seed` the first four bytes of the SHA-256 of its key (`experiment:config`, stored "
        "in `results.sqlite` with the run), so any single run can be replayed. Confidence "
        "intervals are two-sided 95% Student-t intervals over the seeds listed in each "
        "configuration (`seed` is the repetition index). Exact computations are printed as "
        f"0 below {TOLERANCE:g}.\n"
    )


def write_report(
    out: Path,
    results: list[tuple[RunSpec, dict]],
    modules: Mapping[str, Any],
    *,
    quick: bool,
) -> str:
    """Write ``report.md`` and the plots into ``out``; return the report's text."""
    every = verdicts(results, modules)
    claims = [v for v in every if v.kind == CLAIM]
    checks = [v for v in every if v.kind == BOUND_CHECK]
    header = ["claim", "learner", "assumption", "paper's bound", "measured", "verdict"]

    def rows(table: list[Verdict]) -> list[list[str]]:
        who = "(the proof's policies)"
        return [
            [v.claim, v.learner or who, v.assumption, v.bound, v.measured, v.word] for v in table
        ]

    criteria = "\n".join(
        f"{k}. {v.claim}{' (' + v.learner + ')' if v.learner else ''}: {v.criterion}."
        for k, v in enumerate(claims + checks, 1)
    )

    def count(table: list[Verdict]) -> str:
        words = (CONSISTENT, INCONSISTENT, NOT_APPLICABLE)
        return ", ".join(f"{sum(v.word == w for v in table)} {w}" for w in words)

    sections = []
    for name, mod in modules.items():
        pairs = [(s.config, m) for s, m in results if s.experiment == name]
        if pairs:
            sections.append(mod.render(pairs, out))
    text = (
        f"# regretgap reproduce{' (quick)' if quick else ''}\n\n"
        + _skipped_block(modules)
        + f'regretgap {regretgap.__version__}; {len(results)} runs. Table 1 of "Multi-Agent '
        f'Imitation Learning: Value is Easy, Regret is Hard", measured: its claims '
        f"({count(claims)}) and, separately, the checks of a bound ({count(checks)}).\n\n"
        "### Claims\n\n"
        "What a learner, or the proofs' construction, achieves that another does not: each "
        "row can fail for the learner's reason. Learner comparisons are made at equal "
        "demonstrations or expert queries against the strongest simple baseline that ran "
        "(DAgger+noise: DAgger whose roll-ins deviate at random).\n\n"
        + md_table(header, rows(claims))
        + "\n\n### Checks of a bound\n\n"
        "Inequalities and identities that hold for *every* policy (upper bounds such as "
        "`gap <= 4 l u H`, definitions, class inclusions): they validate the evaluator and "
        "the constants, and say nothing about which learner is better.\n\n"
        + md_table(header, rows(checks))
        + "\n\nWhat each verdict tests (claims, then checks of a bound, in table order):\n\n"
        + criteria
        + "\n\n"
        + "\n".join(sections)
        + "\n"
        + _configuration(modules, results)
    )
    atomic_write_bytes(out / "report.md", text.encode())
    return text
