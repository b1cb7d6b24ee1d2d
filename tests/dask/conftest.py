"""The Dask cluster the tests in this folder run on, and the time limit of each of them.

The test extra installs Dask (``sklr[dask]``) and pytest-timeout, so CI runs these tests; where
Dask is absent they skip (``pytest.importorskip``).
"""

import logging
import pathlib
import signal

import pytest

HERE = pathlib.Path(__file__).resolve().parent

# Seconds a test may take, its share of starting and closing the cluster included. A cluster
# whose worker processes have gone fails the test then, instead of hanging the run. "signal"
# raises in the test's own process (the main thread of an xdist worker), so the report shows
# where the client waited and the cluster is still closed; "thread" (where there is no
# SIGALRM) ends the process.
TIMEOUT = 120
TIMEOUT_METHOD = "signal" if hasattr(signal, "SIGALRM") else "thread"


def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if HERE in item.path.parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TIMEOUT, method=TIMEOUT_METHOD))


@pytest.fixture(scope="session")
def _dask_cluster_client():
    """A Client on a LocalCluster of two one-thread worker processes, one per pytest process.

    Started on first use, closed at the end of the session. Tasks fail after 60 s without a
    worker instead of waiting for one forever.
    """
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.scheduler.no-workers-timeout": "60s"}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True,
            dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
        )
        try:
            client = distributed.Client(cluster)
            try:
                client.wait_for_workers(2, timeout=60)
                yield client
            finally:
                client.close(timeout=30)
        finally:
            cluster.close(timeout=30)


@pytest.fixture
def dask_client(_dask_cluster_client):
    """The session's Client, once both workers are up (a worker that died is restarted by its
    nanny; one that does not come back within 30 s fails the test here, not in a task)."""
    _dask_cluster_client.wait_for_workers(2, timeout=30)
    return _dask_cluster_client
