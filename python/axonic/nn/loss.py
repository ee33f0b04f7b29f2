"""TEMPORARY: being written by a helper."""
from .module import Module
from . import loss_functions as L


class MSELoss(Module):
    def forward(self, a, b):
        return L.mse_loss(a, b)


class CrossEntropyLoss(Module):
    def forward(self, a, b):
        return L.cross_entropy(a, b)


BCELoss = BCEWithLogitsLoss = ContrastiveLoss = HingeEmbeddingLoss = HuberLoss = MSELoss
KLDivLoss = L1Loss = NLLLoss = TripletMarginLoss = MSELoss
