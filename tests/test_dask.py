"""GridSearchCV over bit budgets on a dask.distributed cluster equals the serial search.

Needs the ``[distributed]`` extra (``dask[distributed]``); skipped without it. The
cluster is a LocalCluster of 2 worker processes on the loopback interface; the same code
runs on a multi-node cluster by passing its scheduler address to ``Client`` (see
docs/distributed.md).
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_projection import ProjectionNetClassifier

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def dask_client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=40,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _search():
    return GridSearchCV(
        ProjectionNetClassifier(
            trainer_hidden_layer_sizes=(16,), max_iter=8, random_state=0, n_iter_no_change=100
        ),
        param_grid={"n_projections": [4, 16], "n_bits": [4, 10]},
        cv=StratifiedKFold(3),
        n_jobs=-1,
    )


def test_grid_search_over_bit_budgets_on_dask_equals_serial(dask_client, digits_split):
    X_train, X_test, y_train, _ = digits_split
    X_train, y_train = X_train[:600], y_train[:600]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial = _search().set_params(n_jobs=1).fit(X_train, y_train)
        with distributed.get_task_stream(client=dask_client) as tasks:
            with joblib.parallel_backend("dask", wait_for_workers_timeout=60):
                on_dask = _search().fit(X_train, y_train)
    # the 4 x 3 fits really ran on the cluster's 2 workers
    assert len(dask_client.scheduler_info()["workers"]) == 2
    assert len(tasks.data) >= 1
    assert {t["worker"] for t in tasks.data} <= set(dask_client.scheduler_info()["workers"])
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(on_dask.cv_results_["split0_test_score"], serial.cv_results_["split0_test_score"])
    assert on_dask.best_params_ == serial.best_params_
    # the larger bit budgets must win on digits: the scores are not all equal by accident
    assert len(set(serial.cv_results_["mean_test_score"])) > 1
    for a, b in zip(on_dask.best_estimator_.coefs_, serial.best_estimator_.coefs_, strict=True):
        assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(on_dask.predict_proba(X_test), serial.predict_proba(X_test))
