"""Time against size for the scaling runs in ``benchmarks/results/`` (log-log, fitted exponents).

Run by the user guide's ``.. plot::`` directive at doc build time: it reads the
tables of the dated result files (rows ``| setting | n | seconds | ...``), so
the figure always shows the recorded runs and never numbers copied by hand.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# The plot directive runs this file from its own folder (doc/scaling), without __file__.
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
RESULTS = HERE.parents[1] / "benchmarks" / "results"

# (title, result file, settings to draw, what the reference slope means)
PANELS = [
    ("sinkhorn_newton, 2-D clouds, reg = 1e-3",
     "2026-12-05_sinkhorn_newton_scaling_after_cg_policy.md", ["auto", "cg"],
     (2.0, "n^2: linear in the plan's entries")),
]


def read_rows(path, setting):
    """``(size, seconds)`` pairs of one setting's rows in a result file's table."""
    sizes, seconds = [], []
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] == setting and cells[1].isdigit():
            sizes.append(int(cells[1]))
            seconds.append(float(cells[2]))
    return np.array(sizes), np.array(seconds)


def main():
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5.5 * len(PANELS), 4), squeeze=False)
    for ax, (title, name, settings, (slope, meaning)) in zip(axes[0], PANELS):
        path = RESULTS / name
        for setting in settings:
            n, t = read_rows(path, setting)
            exponent = np.polyfit(np.log(n), np.log(t), 1)[0]
            ax.loglog(n, t, "o-", label=f"{setting}: exponent {exponent:.2f}")
        n0, t0 = n[0], t[0]
        grid = np.array([n.min(), n.max()])
        ax.loglog(grid, t0 * (grid / n0) ** slope, "k--", lw=1, label=f"slope {slope:g} ({meaning})")
        ax.set(title=title, xlabel="n", ylabel="seconds (2 cores)")
        ax.legend(fontsize=8)
        ax.text(0.01, -0.22, f"data: benchmarks/results/{name}", transform=ax.transAxes,
                fontsize=7, color="0.4")
    fig.tight_layout()


main()
