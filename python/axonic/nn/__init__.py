"""Layers, activations, losses and initialization: ``axonic.nn``."""

from . import functional, init, utils
from .activation import (
    ELU,
    GELU,
    SELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from .container import Sequential
from .linear import Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    ContrastiveLoss,
    CrossEntropyLoss,
    HingeEmbeddingLoss,
    HingeLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    TripletMarginLoss,
)
from .module import Module
from .parameter import Parameter

__all__ = [
    "Module", "Parameter", "Linear", "Identity", "Sequential", "Sigmoid", "Tanh", "ReLU",
    "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Softmax", "LogSoftmax", "MSELoss", "L1Loss",
    "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "HingeEmbeddingLoss", "HingeLoss", "KLDivLoss", "TripletMarginLoss", "ContrastiveLoss",
    "functional", "init", "utils",
]
