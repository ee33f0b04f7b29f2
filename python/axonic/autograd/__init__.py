"""Reverse-mode autodiff: ``Function`` subclasses compute forward and backward on
raw arrays through the tensor's backend; ``engine.run_backward`` walks the graph."""

from .function import Context, Function

__all__ = ["Context", "Function"]
