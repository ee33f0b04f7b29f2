"""The function set every backend implements, and the constants that go with it.

A backend is a module (``reference``, ``cpu``, later ``cuda``) with ``name``,
``device``, ``xp`` (numpy or cupy, for cheap glue) and these kernels. Kernel
contract: the caller allocates every output (``xp.empty``) and passes it in;
inputs are C-contiguous float32/float64 arrays of one dtype (int64 for labels);
kernels validate shapes and write into ``out``; they return nothing.

    gemm(a, b, out, trans_a=False, trans_b=False, alpha=1.0, beta=0.0)
        out = alpha * op(a) @ op(b) + beta * out; (M,K)@(K,N)->(M,N) or 3-D stacks.
    activation_forward(kind, x, out, alpha=None)
    activation_backward(kind, saved, grad_out, grad_in, alpha=None)
        saved is the forward output y for kinds in BACKWARD_FROM_OUTPUT, else x;
        alpha=None means the kind's DEFAULT_ALPHA.
    softmax_forward(x, out, log=False)              over the last axis
    softmax_backward(y, grad_out, grad_in, log=False)
    softmax_cross_entropy_forward(logits, target, loss_out, probs_out, ignore_index=-100)
    softmax_cross_entropy_backward(probs, target, grad_loss, grad_logits, ignore_index=-100)
        logits (N,C); target int64 labels (N,) or probabilities (N,C); loss (N,).

``reference.py`` documents each function's mathematics.
"""

ACTIVATIONS = (
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh", "silu",
)
#: Kinds whose backward reads the forward *output* y; every other kind reads the input x.
BACKWARD_FROM_OUTPUT = frozenset({"sigmoid", "tanh"})
#: Default ``alpha`` per kind: leaky_relu's negative slope, elu's alpha; unused elsewhere.
DEFAULT_ALPHA = {"leaky_relu": 0.01, "elu": 1.0}

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

KERNELS = (
    "gemm",
    "activation_forward",
    "activation_backward",
    "softmax_forward",
    "softmax_backward",
    "softmax_cross_entropy_forward",
    "softmax_cross_entropy_backward",
)
