"""SDPClusterer's fit time against GaussianMixture(full, n_init=10) on the real data sets alone.

For before/after comparisons of solver changes (run it with ``PYTHONPATH`` at each checkout, in
turn): per data set of ``bench_sdp_real_data.py`` (iris, wine, breast_cancer, digits, prepared as
there), the median of ``--repeats`` fits of ``SDPClusterer(n_clusters=K, random_state=0)`` and of
``GaussianMixture(K, covariance_type="full", n_init=10, random_state=0)``, alternated in one
process, and their ratio. No peers' accuracy (``bench_sdp_real_data.py`` has it)::

    SCIPY_ARRAY_API=1 python benchmarks/sdp_fit_times.py --repeats 3

``--n-init 2`` times ``SDPClusterer(n_init=2)`` instead, ``--n-jobs 2`` with its runs in two
processes (the first fit, which starts the workers, is in the median's sample).
"""

import argparse
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_sdp_real_data import REAL, real_data  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402

from sklr.cluster import SDPClusterer  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-init", type=int, default=1, help="SDPClusterer's n_init")
    parser.add_argument("--n-jobs", type=int, default=None, help="SDPClusterer's n_jobs")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    for name in REAL:
        X, _, K = real_data(name)
        sdp, gmm = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            SDPClusterer(n_clusters=K, n_init=args.n_init, n_jobs=args.n_jobs,
                         random_state=0).fit(X)
            sdp.append(time.perf_counter() - start)
            start = time.perf_counter()
            GaussianMixture(K, covariance_type="full", n_init=10, random_state=0).fit(X)
            gmm.append(time.perf_counter() - start)
        s, g = statistics.median(sdp), statistics.median(gmm)
        print(f"{name} SDP {s:.3f} GMM {g:.3f} ratio {s / g:.1f}", flush=True)


if __name__ == "__main__":
    main()
