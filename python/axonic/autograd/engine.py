"""Back-propagation: reverse topological order, gradients accumulated with +=.

The sums run on all threads (the backend's ``accumulate``), and a Function that
``adds_into_grads`` (Linear, MatMul) adds its gradient by the GEMM itself (beta = 1)
into a leaf's existing ``.grad`` or into the sum this pass is building: gradient
accumulation over several batches, and a weight shared by many steps of a graph, then
cost no extra pass over the weights."""

from __future__ import annotations

# axonic.tensor imports this module, so it is partly initialised here; run_backward reads
# _tensor.Tensor at call time.
from .. import tensor as _tensor
from ..backends import get_backend
from ..grad_mode import no_grad
from ..memory import cached_arrays


def _appears_once(item, items) -> bool:
    """Whether ``item`` is in ``items`` exactly once, by identity (arrays compare
    elementwise). A plain loop: a generator cost a microsecond per call, several per node."""
    count = 0
    for other in items:
        if other is item:
            count += 1
    return count == 1


def _accumulate(dst, src, device: str) -> None:
    """dst += src: by the backend's accumulate (all threads) when both are C-contiguous
    arrays of one shape and dtype in separate memory, else by NumPy/CuPy (views, mixed
    dtypes, a root gradient that is the leaf's own .grad)."""
    backend = get_backend(device)
    if (src.dtype == dst.dtype and src.shape == dst.shape and src.flags.c_contiguous
            and dst.flags.c_contiguous and not backend.xp.may_share_memory(dst, src)):
        backend.accumulate(src, dst)
    else:
        dst += src


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


def _accumulation_targets(inputs: list, grads: dict, owned: set) -> tuple:
    """Per input, the array a Function that ``adds_into_grads`` may add that input's
    gradient into, or None: for an input that appears once among them, the .grad of a
    leaf, else the sum of its gradients so far when this pass made it (``owned``); either
    C-contiguous, of the input's shape and dtype."""
    targets = []
    for parent in inputs:
        array = None
        if parent.requires_grad:
            if parent._node is None and parent.grad is not None:
                array = parent.grad._data
            elif id(parent) in owned:
                array = grads.get(id(parent))
        if array is not None:
            data = parent._data
            if (array.dtype != data.dtype or array.shape != data.shape
                    or not array.flags.c_contiguous or not _appears_once(parent, inputs)):
                array = None
        targets.append(array)
    return tuple(targets)


def run_backward(root, grad) -> None:
    """Accumulates d(root)/d(leaf) * grad into every leaf's ``.grad`` that requires grad."""
    wrap = _tensor.Tensor._wrap
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
                    tensor.grad = wrap(g if adopt else g.astype(tensor._data.dtype))
                else:
                    _accumulate(tensor.grad._data, g, tensor.device)
                continue
            function, ctx = node.function, node.ctx
            if function.adds_into_grads:
                ctx.grad_into = _accumulation_targets(node.inputs, grads, owned)
            input_grads = function.backward(ctx, g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            targets, ctx.grad_into = ctx.grad_into, None
            fresh = function.fresh_grads
            for i, (parent, parent_grad) in enumerate(zip(node.inputs, input_grads)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if targets is not None and parent_grad is targets[i]:
                    continue  # backward added it into the leaf's .grad or the sum itself
                if parent_grad.shape != parent._data.shape:
                    raise RuntimeError(
                        f"internal error: {node.function.__name__}.backward returned a gradient "
                        f"of shape {parent_grad.shape} for an input of shape {parent.shape}"
                    )
                key = id(parent)
                if key in grads:
                    total = grads[key]
                    if key in owned and total.dtype == parent_grad.dtype:
                        _accumulate(total, parent_grad, parent.device)  # nothing else holds it
                    else:
                        grads[key] = total + parent_grad
                        owned.add(key)
                else:
                    grads[key] = parent_grad
                    if fresh and _appears_once(parent_grad, input_grads):
                        owned.add(key)
                    else:
                        owned.discard(key)
