"""Reference (NumPy) fused optimizer updates: the oracle for csrc/cpu/optimizer_updates.

Each function updates lists of arrays in place, one entry per parameter tensor,
with the signature every backend shares (see ``spec``): params are written, grads
read, state lists written; an optional state list (SGD's momentum buffers,
RMSprop's centered average, Adam's amsgrad maximum) is empty when its option is
off. ``coefficients`` is a float64 (len(params), k) array of the per-tensor
scalars that depend on the step count, computed by the Python optimizer; each
docstring names its columns. Arithmetic is in float64, cast back into the arrays.

Every update starts from ``g = (-grad if maximize else grad) + weight_decay * p``
(coupled L2), except that decoupled weight decay (AdamW, NAdam's option) scales
``p`` by ``1 - lr * weight_decay`` instead. The formulas are PyTorch's documented
algorithms (torch.optim).
"""

from __future__ import annotations

import numpy as np


def _check_update(kernel: str, params, grads, states: dict[str, tuple[list, bool]],
                  coefficients=None, width: int = 0) -> None:
    """The checks of the native bindings: list lengths (a state list is [] exactly when
    its option is off), each array's shape and dtype against its parameter's, and the
    coefficients' (len(params), width) float64 shape."""
    lists = {"grads": grads}
    for name, (arrays, used) in states.items():
        if not used and len(arrays):
            raise ValueError(f"{kernel}: {name} must be empty when its option is off, got "
                             f"{len(arrays)} arrays")
        if used:
            lists[name] = arrays
    for name, arrays in lists.items():
        if len(arrays) != len(params):
            raise ValueError(f"{kernel}: got {len(params)} params but {len(arrays)} {name}")
    for i, p in enumerate(params):
        for name, arrays in lists.items():
            if arrays[i].shape != p.shape or arrays[i].dtype != p.dtype:
                raise ValueError(f"{kernel}: {name}[{i}] is {arrays[i].dtype}{arrays[i].shape} "
                                 f"but params[{i}] is {p.dtype}{p.shape}")
    if width:
        rows = np.asarray(coefficients)
        if rows.dtype != np.float64:
            raise TypeError(f"{kernel}: coefficients must be float64, got {rows.dtype}")
        if rows.shape != (len(params), width):
            raise ValueError(f"{kernel}: coefficients must have shape ({len(params)}, {width}) "
                             "(one row per parameter)")


def _gradient(p: np.ndarray, g: np.ndarray, maximize: bool, coupled_decay: float) -> np.ndarray:
    g = -g.astype(np.float64) if maximize else g.astype(np.float64)
    return g + coupled_decay * p if coupled_decay else g


def _decayed(p: np.ndarray, lr: float, weight_decay: float, decoupled: bool) -> np.ndarray:
    p = p.astype(np.float64)
    return p * (1 - lr * weight_decay) if decoupled and weight_decay else p


def _moments(exp_avg, exp_avg_sq, g, beta1, beta2) -> tuple[np.ndarray, np.ndarray]:
    """Adam's first and second moment updates, stored back; returns both (float64)."""
    m = beta1 * exp_avg + (1 - beta1) * g
    v = beta2 * exp_avg_sq + (1 - beta2) * g * g
    exp_avg[...], exp_avg_sq[...] = m, v
    return m, v


def sgd_update(params, grads, momentum_buffers, coefficients, lr, momentum, weight_decay,
               nesterov, maximize) -> None:
    """coefficients (n, 2): buffer_decay, grad_weight (momentum, 1 - dampening; 0, 1 first)."""
    _check_update("sgd_update", params, grads,
                  {"momentum_buffers": (momentum_buffers, momentum != 0)}, coefficients, 2)
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = _gradient(p, grad, maximize, weight_decay)
        if momentum != 0:
            buffer_decay, grad_weight = coefficients[i]
            b = buffer_decay * momentum_buffers[i] + grad_weight * g
            momentum_buffers[i][...] = b
            g = g + momentum * b if nesterov else b
        p[...] = p - lr * g


def adagrad_update(params, grads, sums, coefficients, weight_decay, eps, maximize) -> None:
    """coefficients (n, 1): clr = lr / (1 + (step - 1) * lr_decay)."""
    _check_update("adagrad_update", params, grads, {"sums": (sums, True)}, coefficients, 1)
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = _gradient(p, grad, maximize, weight_decay)
        total = sums[i] + g * g
        sums[i][...] = total
        p[...] = p - coefficients[i, 0] * g / (np.sqrt(total) + eps)


def rmsprop_update(params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize) -> None:
    """No coefficients; grad_avgs only when centered, momentum_buffers when momentum > 0."""
    _check_update("rmsprop_update", params, grads,
                  {"square_avgs": (square_avgs, True), "grad_avgs": (grad_avgs, centered),
                   "momentum_buffers": (momentum_buffers, momentum > 0)})
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = _gradient(p, grad, maximize, weight_decay)
        v = alpha * square_avgs[i] + (1 - alpha) * g * g
        square_avgs[i][...] = v
        if centered:
            a = grad_avgs[i] + (1 - alpha) * (g - grad_avgs[i])
            grad_avgs[i][...] = a
            v = v - a * a
        denom = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * momentum_buffers[i] + g / denom
            momentum_buffers[i][...] = b
            p[...] = p - lr * b
        else:
            p[...] = p - lr * g / denom


def adadelta_update(params, grads, square_avgs, acc_deltas, lr, rho, eps, weight_decay,
                    maximize) -> None:
    """No coefficients."""
    _check_update("adadelta_update", params, grads,
                  {"square_avgs": (square_avgs, True), "acc_deltas": (acc_deltas, True)})
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = _gradient(p, grad, maximize, weight_decay)
        v = rho * square_avgs[i] + (1 - rho) * g * g
        square_avgs[i][...] = v
        delta = np.sqrt(acc_deltas[i] + eps) / np.sqrt(v + eps) * g
        acc_deltas[i][...] = rho * acc_deltas[i] + (1 - rho) * delta * delta
        p[...] = p - lr * delta


def adam_update(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, coefficients, lr, beta1,
                beta2, eps, weight_decay, decoupled_weight_decay, amsgrad, maximize) -> None:
    """coefficients (n, 2): step_size = lr / (1 - beta1^t), sqrt(1 - beta2^t)."""
    _check_update("adam_update", params, grads,
                  {"exp_avgs": (exp_avgs, True), "exp_avg_sqs": (exp_avg_sqs, True),
                   "max_exp_avg_sqs": (max_exp_avg_sqs, amsgrad)}, coefficients, 2)
    coupled = 0.0 if decoupled_weight_decay else weight_decay
    for i, (p, grad) in enumerate(zip(params, grads)):
        param = _decayed(p, lr, weight_decay, decoupled_weight_decay)
        g = _gradient(param, grad, maximize, coupled)
        m, v = _moments(exp_avgs[i], exp_avg_sqs[i], g, beta1, beta2)
        if amsgrad:
            v = np.maximum(max_exp_avg_sqs[i], v)
            max_exp_avg_sqs[i][...] = v
        step_size, bias_correction2_sqrt = coefficients[i]
        p[...] = param - step_size * m / (np.sqrt(v) / bias_correction2_sqrt + eps)


def adamax_update(params, grads, exp_avgs, exp_infs, coefficients, beta1, beta2, eps,
                  weight_decay, maximize) -> None:
    """coefficients (n, 1): clr = lr / (1 - beta1^t)."""
    _check_update("adamax_update", params, grads,
                  {"exp_avgs": (exp_avgs, True), "exp_infs": (exp_infs, True)}, coefficients, 1)
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = _gradient(p, grad, maximize, weight_decay)
        m = beta1 * exp_avgs[i] + (1 - beta1) * g
        u = np.maximum(beta2 * exp_infs[i], np.abs(g) + eps)
        exp_avgs[i][...], exp_infs[i][...] = m, u
        p[...] = p - coefficients[i, 0] * m / u


def nadam_update(params, grads, exp_avgs, exp_avg_sqs, coefficients, lr, beta1, beta2, eps,
                 weight_decay, decoupled_weight_decay, maximize) -> None:
    """coefficients (n, 3): grad_step, avg_step, bias_correction2 (see optim.NAdam)."""
    _check_update("nadam_update", params, grads,
                  {"exp_avgs": (exp_avgs, True), "exp_avg_sqs": (exp_avg_sqs, True)},
                  coefficients, 3)
    coupled = 0.0 if decoupled_weight_decay else weight_decay
    for i, (p, grad) in enumerate(zip(params, grads)):
        param = _decayed(p, lr, weight_decay, decoupled_weight_decay)
        g = _gradient(param, grad, maximize, coupled)
        m, v = _moments(exp_avgs[i], exp_avg_sqs[i], g, beta1, beta2)
        grad_step, avg_step, bias_correction2 = coefficients[i]
        denom = np.sqrt(v / bias_correction2) + eps
        p[...] = param - grad_step * g / denom - avg_step * m / denom


def _check_same_array_kind(kernel: str, src, dst) -> None:
    if src.shape != dst.shape or src.dtype != dst.dtype:
        raise ValueError(f"{kernel}: src {src.dtype}{src.shape} and dst "
                         f"{dst.dtype}{dst.shape} differ")


def parallel_copy(src, dst) -> None:
    """dst[...] = src."""
    _check_same_array_kind("parallel_copy", src, dst)
    dst[...] = src


def accumulate(src, dst) -> None:
    """dst += src: SGD's step with lr = -1 in the native backends."""
    _check_same_array_kind("accumulate", src, dst)
    dst += src
