import logging

import pytest


@pytest.fixture(scope="session")
def dask_client():
    """A Client on a LocalCluster of two one-thread worker processes, for the whole session.

    Tasks fail after 60 s without a worker, instead of waiting forever (a worker process that
    dies must fail the tests, not hang the suite).
    """
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.scheduler.no-workers-timeout": "60s"}), \
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=logging.ERROR,
            ) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield client
