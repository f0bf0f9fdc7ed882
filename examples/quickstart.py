"""Train a ProjectionNet on scikit-learn's digits and compare it with its trainer."""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_projection import ProjectionNetClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, stratify=y, random_state=0)
clf = ProjectionNetClassifier(n_projections=60, n_bits=10, random_state=0)
clf.fit(X_train, y_train)
print(f"projection network accuracy: {clf.score(X_test, y_test):.3f}")
print(f"trainer network accuracy:    {(clf.predict(X_test, network='trainer') == y_test).mean():.3f}")
print(f"projection network: {clf.projection_size_bytes_:,} bytes; trainer: {clf.trainer_size_bytes_:,} bytes")
