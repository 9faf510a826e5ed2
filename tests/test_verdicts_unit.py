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
