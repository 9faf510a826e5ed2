"""The shared verdict helpers on hand-made numbers: both words, and the wording."""

from __future__ import annotations

import pytest

from regretgap.experiments._verdict import (
    CONSISTENT,
    INCONSISTENT,
    MARGIN_FLOOR,
    MARGIN_FRACTION,
    NOT_APPLICABLE,
    non_inferiority,
)


def test_non_inferiority_passes_a_worse_mean_within_the_margin_and_says_worse():
    reference = [1.0] * 6  # margin 0.1 + 1e-3
    cmp = non_inferiority([0.02, 0.03, 0.025, 0.02, 0.03, 0.025], reference, "A", "B")
    assert cmp.margin == pytest.approx(MARGIN_FRACTION + MARGIN_FLOOR)
    assert cmp.word == CONSISTENT and "A worse on average" in cmp.measured


def test_non_inferiority_fails_beyond_the_margin_and_when_underpowered():
    reference = [1.0] * 6
    assert non_inferiority([0.2] * 6, reference, "A", "B").word == INCONSISTENT
    wide = non_inferiority([-0.5, 0.5, -0.4, 0.45, 0.0, -0.1], reference, "A", "B")
    assert wide.word == NOT_APPLICABLE and "underpowered" in wide.measured
    # narrow and above the margin: really worse
    worse = non_inferiority([0.3, 0.31, 0.29, 0.3], reference, "A", "B")
    assert worse.word == INCONSISTENT and "underpowered" not in worse.measured
    # wide, but entirely beyond the margin: worse however few the pairs
    far = non_inferiority([5.0, 9.0, 6.0, 8.0], reference, "A", "B")
    assert far.word == INCONSISTENT


def test_non_inferiority_on_exact_zeros_and_a_better_mean():
    assert non_inferiority([0.0] * 4, [0.0] * 4, "A", "B").word == CONSISTENT
    better = non_inferiority([-0.3, -0.31, -0.29], [1.0] * 3, "A", "B")
    assert better.word == CONSISTENT and "A better on average" in better.measured


def test_non_inferiority_narrow_ci_straddling_the_margin_is_inconsistent():
    """Half-width 0.054 (between margin / 2 and the margin) and the CI across the margin:
    precise enough to judge, so "worse than allowed", not "underpowered"."""
    diffs = [0.03, 0.17, 0.1, 0.14, 0.06, 0.11]
    cmp = non_inferiority(diffs, [1.0] * 6, "A", "B")
    half = cmp.diff.high - cmp.diff.mean
    assert cmp.margin / 2 < half < cmp.margin and cmp.diff.low < cmp.margin < cmp.diff.high
    assert cmp.word == INCONSISTENT and "underpowered" not in cmp.measured


def test_non_inferiority_a_wide_ci_wholly_below_the_margin_passes():
    """Few pairs, but clearly better: the width does not matter when the upper end is below."""
    cmp = non_inferiority([-5.0, -9.0, -6.0, -8.0], [1.0] * 4, "A", "B")
    assert cmp.diff.high - cmp.diff.mean > cmp.margin
    assert cmp.word == CONSISTENT and "underpowered" not in cmp.measured


def test_non_inferiority_worse_by_exactly_the_margin_fails():
    """The CI's upper end must lie strictly below the margin."""
    margin = MARGIN_FRACTION * 1.0 + MARGIN_FLOOR
    cmp = non_inferiority([margin] * 4, [1.0] * 4, "A", "B")  # exact mean
    assert cmp.diff.high == cmp.margin and cmp.word == INCONSISTENT


def test_non_inferiority_margin_uses_the_mean_of_the_reference():
    """Reference [0, 2]: margin 0.1 * 1 + 1e-3 (the mean), not 0.1 * 2 (the largest)."""
    cmp = non_inferiority([0.15] * 4, [0.0, 2.0, 0.0, 2.0], "A", "B")
    assert cmp.margin == pytest.approx(MARGIN_FRACTION * 1.0 + MARGIN_FLOOR)
    assert cmp.word == INCONSISTENT
    # a negative reference mean (value gaps, round-off) still gives a margin >= the floor
    assert non_inferiority([0.0], [-1.0], "A", "B").margin == pytest.approx(
        MARGIN_FRACTION + MARGIN_FLOOR
    )


def test_non_inferiority_wording_round_off_is_equal_and_counts_pairs():
    for diffs in ([0.0] * 6, [1e-12] * 6, [-1e-12] * 6):
        cmp = non_inferiority(diffs, [1.0] * 6, "A", "B")
        assert "equal on average" in cmp.measured and "over 6 pairs" in cmp.measured
