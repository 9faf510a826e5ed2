"""The report's figure: measured regret gap against the proofs' formulas, one marker per
lower-bound construction (the checks with a ``figure`` label)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from regretgap.experiments._render import pyplot, save_png
from regretgap.experiments.paper_checks._check import Results

#: File name of the figure, written next to the report.
FIGURE = "paper_checks_lower_bounds.png"


def plot(series: dict[str, Results], out: Path) -> str | None:
    """Scatter each series' ``predicted_gap`` (x) against its ``regret_gap`` (y), log-log,
    with the diagonal; writes :data:`FIGURE` to ``out`` and returns its name (``None`` when
    every series is empty: no file)."""
    pts = {k: v for k, v in series.items() if v}
    if not pts:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    lo, hi = np.inf, 0.0
    for (label, rs), marker in zip(pts.items(), ("o", "s"), strict=False):
        x = np.array([m["predicted_gap"] for _, m in rs])
        y = np.array([max(m["regret_gap"], 1e-12) for _, m in rs])
        ax.scatter(x, y, marker=marker, label=label, alpha=0.8)
        lo, hi = min(lo, x.min(), y.min()), max(hi, x.max(), y.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="measured = formula")
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import LogLocator, NullFormatter

    for axis in (ax.xaxis, ax.yaxis):  # plain numbers, no crowded minor-tick labels
        # 1-2-5 ticks: a range shorter than a decade still gets labels
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_minor_formatter(NullFormatter())
        axis.set_major_formatter(lambda v, _pos: f"{v:g}")
    ax.set_xlabel("the proof's regret gap (formula)")
    ax.set_ylabel("measured regret gap (exact)")
    ax.set_title("Lower-bound constructions: measured vs proof")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, Path(out) / FIGURE)
    return FIGURE
