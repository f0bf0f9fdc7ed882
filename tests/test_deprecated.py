"""The API deprecated in 0.3 (_deprecated.py) keeps working with a FutureWarning."""



import numpy as np
import pytest

from sklearn_projection import ProjectionNetClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ALONE = dict(trainer_weight=0.0, distill_weight=0.0)


def test_deprecated_network_argument_still_works_with_a_future_warning(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(max_iter=5, random_state=0).fit(X_train, y_train)
    for network, model in (("projection", clf), ("trainer", clf.trainer_)):
        for method in ("predict", "predict_proba", "predict_log_proba"):
            with pytest.warns(FutureWarning, match="network= argument is deprecated"):
                got = getattr(clf, method)(X_test, network=network)
            np.testing.assert_array_equal(got, getattr(model, method)(X_test))
    with pytest.warns(FutureWarning, match="trainer_coefs_ is deprecated"):
        assert clf.trainer_coefs_ is clf.trainer_.coefs_
    with pytest.warns(FutureWarning, match="trainer_intercepts_ is deprecated"):
        assert clf.trainer_intercepts_ is clf.trainer_.intercepts_
    with pytest.raises(ValueError, match="network must be"):
        clf.predict(X_test, network="teacher")
