"""Back-propagation: reverse topological order, gradients accumulated with +=."""

from __future__ import annotations

from ..grad_mode import no_grad
from ..memory import cached_arrays


def _topological_order(root) -> list:
    """Tensors reachable from root through recorded nodes, inputs before outputs."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:  # iterative DFS: deep graphs (long RNN unrolls) must not hit the recursion limit
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor._node is not None:
            for parent in tensor._node.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def run_backward(root, grad) -> None:
    """Accumulates d(root)/d(leaf) * grad into every leaf's ``.grad`` that requires grad."""
    from ..tensor import Tensor

    grads = {id(root): grad}
    # Gradients nothing else references: sums made here, and the outputs of a Function
    # that declares fresh_grads. A leaf adopts such an array as its .grad; any other
    # (the caller's root gradient, an array one backward hands to several inputs)
    # is copied, so that a later += cannot write through to it.
    owned: set[int] = set()
    with no_grad(), cached_arrays():
        for tensor in reversed(_topological_order(root)):
            key = id(tensor)
            g = grads.pop(key, None)
            if g is None:
                continue
            node = tensor._node
            if node is None:  # a leaf: accumulate across backward calls, as PyTorch does
                if tensor.grad is None:
                    adopt = key in owned and g.dtype == tensor._data.dtype
                    tensor.grad = Tensor._wrap(g if adopt else g.astype(tensor._data.dtype))
                else:
                    tensor.grad._data += g
                continue
            input_grads = node.function.backward(node.ctx, g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            fresh = node.function.fresh_grads
            for parent, parent_grad in zip(node.inputs, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.shape:
                    raise RuntimeError(
                        f"internal error: {node.function.__name__}.backward returned a gradient "
                        f"of shape {parent_grad.shape} for an input of shape {parent.shape}"
                    )
                key = id(parent)
                if key in grads:
                    grads[key] = grads[key] + parent_grad
                    owned.add(key)
                else:
                    grads[key] = parent_grad
                    if fresh and sum(other is parent_grad for other in input_grads) == 1:
                        owned.add(key)
                    else:
                        owned.discard(key)
