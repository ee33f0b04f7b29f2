"""The training loop: ``axonic.train``.

``Trainer`` (fit / evaluate / predict, Keras-style, over axonic modules), the one-call
``fit``, callbacks (``EarlyStopping``, ``ModelCheckpoint``, ``LearningRateScheduler``,
``CSVLogger``, ``TerminateOnNaN``, or your own ``Callback``), and the ``History`` of a fit
with ``to_csv`` and ``plot``.
"""

from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
)
from .history import History
from .progress import ProgressBar
from .trainer import Trainer, fit

__all__ = ["Trainer", "fit", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
           "LearningRateScheduler", "CSVLogger", "TerminateOnNaN", "ProgressBar"]
