"""Classification, ranking and regression metrics: ``axonic.metrics``.

NumPy implementations with scikit-learn's names, argument names, orders and defaults, so
either can be swapped in. Inputs are NumPy arrays, lists or Tensors; scalars come back as
Python floats, per-label scores, curves and matrices as NumPy arrays. ``get_metric`` maps
Keras-style short names ("accuracy", "f1", "roc_auc", "mse", ...) to the functions.
"""

from ._checks import UndefinedMetricWarning
from .classification import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    log_loss,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from .ranking import roc_auc_score, roc_curve, top_k_accuracy_score
from .registry import METRICS, get_metric
from .regression import (
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

__all__ = [
    "accuracy_score", "confusion_matrix", "precision_score", "recall_score", "f1_score",
    "fbeta_score", "precision_recall_fscore_support", "log_loss", "roc_curve", "roc_auc_score",
    "top_k_accuracy_score", "mean_absolute_error", "mean_squared_error",
    "root_mean_squared_error", "r2_score", "get_metric", "METRICS", "UndefinedMetricWarning",
]
