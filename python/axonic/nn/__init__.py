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
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
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
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "Module", "Parameter", "Linear", "Identity", "Sequential", "Sigmoid", "Tanh", "ReLU",
    "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Softmax", "LogSoftmax", "MSELoss", "L1Loss",
    "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
    "HingeEmbeddingLoss", "HingeLoss", "KLDivLoss", "TripletMarginLoss", "ContrastiveLoss",
    "functional", "init", "utils",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "Conv2d",
    "Dropout", "Flatten",
    "BatchNorm1d", "BatchNorm2d",
]
