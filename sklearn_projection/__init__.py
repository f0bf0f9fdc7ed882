"""sklearn-projection: ProjectionNet (Ravi, 2017) as scikit-learn estimators."""

from ._classifier import ProjectionNetClassifier
from ._compact import CompactProjectionClassifier, compact_pipeline
from ._projection import LSHProjection
from ._text import NgramHasher

__all__ = [
    "CompactProjectionClassifier",
    "LSHProjection",
    "NgramHasher",
    "ProjectionNetClassifier",
    "compact_pipeline",
]
__version__ = "0.2.0"
