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

# (title, x label, [(result file, setting), ...] to draw, the reference slope and its
# meaning). A setting of None reads rows that start with the size.
_SNS = "2026-12-06_sinkhorn_newton_schur_cg.md"
PANELS = [
    ("sinkhorn_newton, 2-D clouds, reg = 1e-3", "n (points on each side)",
     [(_SNS, "auto"), (_SNS, "before (ce40731)"), ("2026-12-06_sinkhorn_streamed.md", "streamed")],
     (2.0, "n^2: linear in the plan's entries")),
    ("funbat, 3 modes, distinct coordinates, 5 sweeps", "N (observations)",
     [("2026-12-05_funbat_scaling_fast.md", None)], (1.0, "linear in N")),
    ("complete_matrix, rank 10, 12 sweeps", "observed entries",
     [("2026-12-06_matrix_completer_scaling.md", None)], (1.0, "linear in the entries")),
]


def read_rows(path, setting):
    """``(size, seconds)`` pairs of one setting's rows in a result file's table."""
    sizes, seconds = [], []
    for line in path.read_text().splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if setting is not None:
            if cells[0] != setting:
                continue
            cells = cells[1:]
        if len(cells) >= 2 and cells[0].isdigit():
            sizes.append(int(cells[0]))
            seconds.append(float(cells[1]))
    return np.array(sizes), np.array(seconds)


def main():
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5.5 * len(PANELS), 4), squeeze=False)
    for ax, (title, xlabel, sources, (slope, meaning)) in zip(axes[0], PANELS):
        for name, setting in sources:
            n, t = read_rows(RESULTS / name, setting)
            exponent = np.polyfit(np.log(n), np.log(t), 1)[0]
            label = f"{setting}: " if setting else ""
            ax.loglog(n, t, "o-", label=f"{label}exponent {exponent:.2f}")
        n0, t0 = n[0], t[0]
        grid = np.array([n.min(), n.max()])
        ax.loglog(grid, t0 * (grid / n0) ** slope, "k--", lw=1, label=f"slope {slope:g} ({meaning})")
        ax.set(title=title, xlabel=xlabel, ylabel="seconds (2 cores)")
        ax.legend(fontsize=8)
        names = ", ".join(sorted({name for name, _ in sources}))
        ax.text(0.01, -0.22, f"data: benchmarks/results/{names}", transform=ax.transAxes,
                fontsize=7, color="0.4")
    fig.tight_layout()


main()
