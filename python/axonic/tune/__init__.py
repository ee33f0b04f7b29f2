"""Hyperparameter search: ``axonic.tune.grid_search`` and ``random_search`` over a space of
layers, widths, learning rates, batch sizes, epochs, optimizers..., scored on validation
data with ``axonic.train.Trainer``."""

from .search import SearchResult, Trial, grid_search, model_and_optimizer, random_search
from .space import choice, loguniform, randint, uniform

__all__ = ["grid_search", "random_search", "model_and_optimizer", "SearchResult", "Trial",
           "uniform", "loguniform", "randint", "choice"]
