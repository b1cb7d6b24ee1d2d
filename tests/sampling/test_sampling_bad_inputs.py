"""The bad-input matrix (issue 17.9) on sklr.sampling's public functions."""

import numpy as np

from sklr.sampling import inclusion_probabilities, sampling_scores
from tests._bad_inputs import check_bad_inputs

RNG = np.random.RandomState(0)
A = RNG.standard_normal((40, 3))


def test_sampling_scores_bad_inputs():
    check_bad_inputs(sampling_scores, dict(A=A, p=1.0, method="lewis"), arrays=["A"],
                     positive=["p"], expect={("A", "too_short"): "ok"},
                     extra_cases=[("p:below_one", dict(p=0.5), "raise"),
                                  ("p:four_for_lewis", dict(p=4.0), "raise"),
                                  ("p:three_for_root_leverage",
                                   dict(p=3.0, method="root_leverage"), "raise"),
                                  ("method:unknown", dict(method="foo"), "raise"),
                                  ("leverage:unknown", dict(leverage="foo"), "raise"),
                                  ("A:wide_for_approx", dict(A=A[:2], leverage="approx"), "raise"),
                                  ("tol:negative", dict(tol=-1.0), "raise")])


def test_inclusion_probabilities_bad_inputs():
    scores = RNG.uniform(0.1, 1.0, 20)
    check_bad_inputs(inclusion_probabilities, dict(scores=scores, n_samples=5.0),
                     arrays=["scores"], weights=["scores"], positive=["n_samples"],
                     expect={("scores", "too_short"): "ok"},
                     extra_cases=[("n_samples:above_n", dict(n_samples=21), "raise")])
