"""Redraw the paper's Figures 1 and 2 for the documentation (``python docs/figures.py``).

Figure 2 is drawn from the transitions of ``regretgap.games.theorem_4_5`` itself, so the
picture is the game the library builds. Writes ``docs/figure_1.png`` and
``docs/figure_2.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

from regretgap.games import theorem_4_5


def figure_1(path: Path) -> None:
    """Figure 1: regret equivalence implies value equivalence, not the other way round
    (under complete reward and deviation classes, Theorem 4.3 vs 4.5)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.add_patch(Ellipse((0.5, 0.5), 0.95, 0.9, fc="#dbe9f6", ec="#1f77b4", lw=1.5))
    ax.add_patch(Ellipse((0.42, 0.45), 0.5, 0.45, fc="#fde0c5", ec="#d95f02", lw=1.5))
    ax.text(0.5, 0.86, "value equivalence\n(value gap 0)", ha="center", va="center")
    ax.text(0.42, 0.45, "regret equivalence\n(regret gap 0)", ha="center", va="center")
    ax.text(0.83, 0.45, "Theorem 4.5's\nlearner", ha="center", va="center", fontsize=8)
    ax.plot([0.83], [0.33], "k*", ms=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.set_title("Figure 1: regret equivalence is the stronger objective", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def figure_2(path: Path, horizon: int = 5) -> None:
    """Figure 2: the Theorem 4.5 game. The expert's play stays on the lower path; agent 1's
    deviation ``a1 -> a2`` at ``s_0`` (with agent 2 told ``a1``) reaches ``s_1`` and, with
    another, the rewarded upper path that only the counterfactual recommendation at ``s_1``
    can close."""
    game = theorem_4_5(horizon).game
    t = game.transitions.tocsr()
    a_count = game.num_joint_actions
    deviation = int(np.ravel_multi_index((1, 0), game.num_actions))  # (a2, a1)
    pos = {0: (0.0, 0.5)}
    for s in range(1, game.num_states):
        step = (s + 1) // 2
        pos[s] = (float(step), 1.0 if s % 2 else 0.0)
    fig, ax = plt.subplots(figsize=(1.6 * horizon + 1, 2.8))
    for s in range(game.num_states):
        for a in range(a_count):
            row = t.getrow(s * a_count + a)
            nxt = int(row.indices[np.argmax(row.data)])
            if nxt == s:
                continue
            special = a == deviation and s in (0, 1)
            (x0, y0), (x1, y1) = pos[s], pos[nxt]
            ax.annotate(
                "",
                (x1, y1),
                (x0, y0),
                arrowprops={
                    "arrowstyle": "->",
                    "color": "#d95f02" if special else "#555555",
                    "lw": 2 if special else 1,
                    "shrinkA": 14,
                    "shrinkB": 14,
                },
            )
    for s, (x, y) in pos.items():
        rewarded = s % 2 == 1 and s >= 3
        ax.plot(x, y, "o", ms=26, mfc="#fde0c5" if rewarded else "white", mec="k")
        ax.text(x, y, f"$s_{{{s}}}$", ha="center", va="center")
    ax.text(0.5, 0.93, "(a2, a1)", color="#d95f02", fontsize=8, ha="center")
    ax.text(0.5, 0.05, "everything else", color="#555555", fontsize=8, ha="center")
    ax.set_xlim(-0.5, max(x for x, _ in pos.values()) + 0.5)
    ax.set_ylim(-0.4, 1.4)
    ax.axis("off")
    ax.set_title(
        "Figure 2 (Theorem 4.5, H = 5): the expert plays (a1, a1) and stays below; a "
        "deviation reaches s_1\nand the rewarded upper path (shaded)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(out: Path) -> None:
    figure_1(out / "figure_1.png")
    figure_2(out / "figure_2.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
