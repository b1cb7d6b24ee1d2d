import io
import math
import subprocess
import sys

import numpy as np
import pytest

from sklr import _tour
from sklr._testing import all_estimators
from sklr._tour import TOUR, TourRow, main, run_tour


def test_tour_covers_every_estimator_and_reports_sane_numbers():
    out = io.StringIO()
    rows = run_tour(quick=True, file=out)
    assert not [row.error for row in rows if row.error]
    names = {row.estimator.split("(")[0] for row in rows}
    assert names == {name for name, _ in all_estimators()}
    assert len(TOUR) == len(names)
    assert {entry.estimator for entry in TOUR} == names
    table = out.getvalue().splitlines()
    assert table[0].startswith("estimator ") and "LinearRegression" in out.getvalue()
    # No header twice (the old table had "peer | peer").
    header = [cell for cell in table[0].split("  ") if cell.strip()]
    assert len(header) == len(set(header))
    for row in rows:
        assert row.seconds > 0
    sketch = next(r for r in rows if "'sketch'" in r.estimator)
    exact = next(r for r in rows if "'precondition'" in r.estimator)
    assert 1.0 <= sketch.value <= 1.05
    assert abs(exact.value - 1.0) < 1e-10
    assert sketch.peer_seconds != exact.peer_seconds  # the peer is timed for each row
    lad = [r for r in rows if r.metric == "l1 loss/optimum"]
    assert len(lad) == 3
    # One exact peer fit for the three LAD rows: the first times it, the others say so.
    assert [r.peer_shared for r in lad] == [False, True, True]
    assert len({r.peer_seconds for r in lad}) == 1
    assert any(line.startswith("* the peer's fit") for line in table)
    for row in lad:
        assert 1.0 - 1e-6 <= row.value <= 1.1
    completion = next(r for r in rows if r.estimator == "MatrixCompleter")
    assert completion.value < 0.05 < completion.peer_value
    transport = next(r for r in rows if r.estimator.startswith("SinkhornNewtonOT"))
    assert transport.value <= 1e-9
    pytest.importorskip("ot")
    # POT is run to the same marginal error, not for a fixed number of iterations.
    assert transport.peer_value <= 1e-9 and "to tol" in transport.peer
    kronecker = next(r for r in rows if r.estimator == "SparseBayesKronecker")
    assert kronecker.value < 1e-3 and kronecker.value < kronecker.peer_value
    tucker = next(r for r in rows if r.estimator == "FunctionalTucker")
    assert tucker.value < 0.03 and tucker.value < 2 * tucker.peer_value
    clusterer = next(r for r in rows if r.estimator == "SDPClusterer")
    assert clusterer.value < 0.05 and clusterer.peer_value > 0.3  # measured 0.030 and 0.343


class _Recorder(io.StringIO):
    """A file that records what had been written when each entry started."""

    def __init__(self):
        super().__init__()
        self.seen_at_start = []


def _tiny_tour(recorder=None, fail_in="second"):
    def entry(name, value, fail=False):
        def rows(quick):
            if recorder is not None:
                recorder.seen_at_start.append(recorder.getvalue())
            yield TourRow(name, "tiny", "error", value, 0.5, "Peer", 2 * value, 1.0)
            if fail:
                raise RuntimeError("boom\nsecond line")
            yield TourRow(name + "(2)", "tiny", "error", value, 0.25, "Peer", 2 * value, 1.0)
        rows.estimator = name
        return rows

    return [entry("First", 0.1), entry("Second", 0.2, fail=fail_in == "second"),
            entry("Third", 0.3)]


def test_rows_stream_and_a_failing_entry_does_not_stop_the_tour(monkeypatch):
    out = _Recorder()
    monkeypatch.setattr(_tour, "TOUR", _tiny_tour(out))
    rows = run_tour(file=out)
    # Each entry starts after the rows of the entries before it were printed.
    assert "First(2)" in out.seen_at_start[1]
    assert "Second " in out.seen_at_start[2] and "FAILED" in out.seen_at_start[2]
    assert [r.estimator for r in rows] == ["First", "First(2)", "Second", "Second", "Third",
                                          "Third(2)"]
    failed = rows[3]
    assert failed.error.startswith("RuntimeError: boom (") and "second line" not in failed.error
    assert math.isnan(failed.value)
    lines = out.getvalue().splitlines()
    assert lines[5].startswith("Second") and "FAILED: RuntimeError: boom" in lines[5]
    # Aligned: every cell of the complete rows starts in the same column as its header.
    full = [line for line in lines[2:] if "FAILED" not in line]
    peer_column = lines[0].index("peer estimator")
    assert all(line[peer_column:].startswith("Peer") for line in full)
    assert all(line.index("tiny") == lines[0].index("problem") for line in full)


def test_markdown_table(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(_tour, "TOUR", _tiny_tour(fail_in=None))
    run_tour(file=out, markdown=True)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("| estimator | problem | metric | sklr | peer |")
    assert set(lines[1]) == {"|", "-"} and lines[1].count("|") == lines[0].count("|")
    assert lines[2] == "| First | tiny | error | 0.1 | 0.2 | 0.500 | 1.000 | 2.0x | Peer |"
    assert all(line.count("|") == lines[0].count("|") for line in lines[2:])


def test_main_exit_status_and_help(monkeypatch, capsys):
    monkeypatch.setattr(_tour, "TOUR", _tiny_tour())
    assert main(["--markdown"]) == 1
    out = capsys.readouterr().out
    assert "| Third(2) |" in out and "1 tour entry failed: Second (exit status 1)" in out
    monkeypatch.setattr(_tour, "TOUR", _tiny_tour(fail_in=None))
    assert main([]) == 0
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert "--quick" in help_text and "--markdown" in help_text and "exit status" in help_text


def test_missing_pot_is_said_in_the_row(monkeypatch):
    monkeypatch.setitem(sys.modules, "ot", None)  # import ot raises ImportError
    (row,) = _tour._tour_sinkhorn_newton(quick=True)
    assert row.peer.startswith("POT not installed") and math.isnan(row.peer_seconds)
    assert row.value <= 1e-9
    assert "POT not installed" in _tour._format(_tour._cells(row), markdown=False)


def test_pot_peer_stops_on_the_same_error_and_falls_back_to_the_log_domain():
    ot = pytest.importorskip("ot")
    n = 30
    M = np.random.RandomState(0).uniform(size=(n, n))

    def error(P):
        return float(np.abs(P.sum(1) - 1 / n).sum() + np.abs(P.sum(0) - 1 / n).sum())

    P, seconds, method, n_iter = _tour._pot_sinkhorn_to_tol(M, 0.05, 1e-9, error, 5000)
    assert method == "sinkhorn" and error(P) <= 1e-9 and seconds > 0
    assert n_iter > 10 and n_iter % 10 == 0
    # Ten iterations fewer would not have reached the error: POT is not run for longer.
    fewer = ot.sinkhorn([], [], M, 0.05, numItermax=n_iter - 10, stopThr=0.0, warn=False)
    assert error(fewer) > 1e-9
    # Every kernel entry of a row underflows: the kernel method fails, the log-domain one runs.
    _, _, method, n_iter = _tour._pot_sinkhorn_to_tol(M + 1.0, 1e-3, 1e-9, error, 20)
    assert (method, n_iter) == ("sinkhorn_log", 20)


def test_python_m_sklr_runs():
    # The quick tour itself runs in-process above; this checks the entry point.
    proc = subprocess.run([sys.executable, "-m", "sklr", "--help"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout and "--markdown" in proc.stdout
