import logging

import pytest


@pytest.fixture(scope="session")
def dask_client():
    """A Client on a LocalCluster of two one-thread worker processes, for the whole session."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as cluster, distributed.Client(cluster) as client:
        yield client
