"""Train a ProjectionNet on scikit-learn's digits and compare it with its trainer."""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_projection import ProjectionNetClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, stratify=y, random_state=0)
# learning_rate_init=3e-3 converges here in about 60 epochs (the training loss stops
# improving by tol); the default 1e-3 takes about 140 epochs to the same accuracy.
clf = ProjectionNetClassifier(n_projections=60, n_bits=10, learning_rate_init=3e-3, random_state=0)
clf.fit(X_train, y_train)
print(f"converged after {clf.n_iter_} epochs")
print(f"projection network (ships): accuracy {clf.score(X_test, y_test):.3f}, "
      f"{clf.size_bytes:,} bytes")
print(f"trainer network:            accuracy {clf.trainer_.score(X_test, y_test):.3f}, "
      f"{clf.trainer_size_bytes_:,} bytes")
