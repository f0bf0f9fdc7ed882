"""scikit-learn's own estimator checks, in full, for both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_projection import LSHProjection, ProjectionNetClassifier


def _estimators():
    # Small networks keep the ~70 checks fast; the checks exercise the API, not accuracy.
    return [
        LSHProjection(n_projections=8, n_bits=8),
        ProjectionNetClassifier(
            n_projections=16, n_bits=8, trainer_hidden_layer_sizes=(32,), max_iter=100
        ),
        # the ternary reading: int8 signs, and two planes of words when packed
        LSHProjection(n_projections=8, n_bits=8, reading="ternary"),
        LSHProjection(n_projections=8, n_bits=8, reading="ternary", packed=True),
        ProjectionNetClassifier(
            n_projections=16, n_bits=8, reading="ternary", trainer_hidden_layer_sizes=(32,), max_iter=100
        ),
        # the quinary reading: int8 levels and a threshold set at fit, four planes when packed
        LSHProjection(n_projections=8, n_bits=8, reading="quinary"),
        LSHProjection(n_projections=8, n_bits=8, reading="quinary", packed=True),
        ProjectionNetClassifier(
            n_projections=16, n_bits=8, reading="quinary", trainer_hidden_layer_sizes=(32,), max_iter=100
        ),
    ]


@parametrize_with_checks(_estimators())
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
