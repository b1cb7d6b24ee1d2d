import io
import subprocess
import sys

from sklr._tour import TOUR, run_tour
from sklr.utils.estimator_checks import all_estimators


def test_tour_covers_every_estimator_and_reports_sane_numbers():
    out = io.StringIO()
    rows = run_tour(quick=True, file=out)
    names = {row.estimator.split("(")[0] for row in rows}
    assert names == {name for name, _ in all_estimators()}
    assert len(TOUR) == len(names)
    table = out.getvalue()
    assert table.startswith("| estimator |") and "LinearRegression" in table
    for row in rows:
        assert row.seconds > 0 and row.peer_seconds > 0
    sketch = next(r for r in rows if "'sketch'" in r.estimator)
    exact = next(r for r in rows if "'precondition'" in r.estimator)
    assert 1.0 <= sketch.value <= 1.05
    assert abs(exact.value - 1.0) < 1e-10
    lad = [r for r in rows if r.metric == "l1 loss / optimum"]
    assert len(lad) == 3
    for row in lad:
        assert 1.0 - 1e-6 <= row.value <= 1.1
    completion = next(r for r in rows if r.estimator == "MatrixCompleter")
    assert completion.value < 0.05 < completion.peer_value
    transport = next(r for r in rows if r.estimator.startswith("SinkhornNewtonOT"))
    assert transport.value <= 1e-9 < transport.peer_value
    kronecker = next(r for r in rows if r.estimator == "SparseBayesKronecker")
    assert kronecker.value < 1e-3 and kronecker.value < kronecker.peer_value
    tucker = next(r for r in rows if r.estimator == "FunctionalTucker")
    assert tucker.value < 0.03 and tucker.value < 2 * tucker.peer_value
    clusterer = next(r for r in rows if r.estimator == "SDPClusterer")
    assert clusterer.value < 0.05 and clusterer.peer_value > 0.3  # measured 0.030 and 0.343


def test_python_m_sklr_runs():
    proc = subprocess.run([sys.executable, "-m", "sklr", "--quick"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "SketchedRegressor" in proc.stdout
