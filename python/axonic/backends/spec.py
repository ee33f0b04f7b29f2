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

    sgd_update(params, grads, momentum_buffers, coefficients, lr, momentum, weight_decay,
               nesterov, maximize)
    adagrad_update(params, grads, sums, coefficients, weight_decay, eps, maximize)
    rmsprop_update(params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize)
    adadelta_update(params, grads, square_avgs, acc_deltas, lr, rho, eps, weight_decay, maximize)
    adam_update(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, coefficients, lr, beta1,
                beta2, eps, weight_decay, decoupled_weight_decay, amsgrad, maximize)
    adamax_update(params, grads, exp_avgs, exp_infs, coefficients, beta1, beta2, eps,
                  weight_decay, maximize)
    nadam_update(params, grads, exp_avgs, exp_avg_sqs, coefficients, lr, beta1, beta2, eps,
                 weight_decay, decoupled_weight_decay, maximize)
        Fused optimizer steps, in place, over lists of arrays (one entry per parameter);
        an optional state list is [] when its option is off; coefficients is a float64
        (len(params), k) array of per-tensor step scalars. reference_optimizers.py
        gives each formula and coefficient.
    parallel_copy(src, dst)                        dst[...] = src on all threads
    accumulate(src, dst)                           dst += src on all threads (backward's sums)
    batch_norm_forward_train(x, weight, bias, running_mean, running_var, out, save_mean,
                             save_invstd, momentum=0.1, eps=1e-5)
    batch_norm_forward_eval(x, weight, bias, running_mean, running_var, out, eps=1e-5)
    batch_norm_backward(grad_out, x, weight, save_mean, save_invstd, grad_in, grad_weight,
                        grad_bias)
        Per-channel batch norm of x (N, C, *spatial); (C,) per-channel arrays, any of
        weight/bias (and running buffers in training) None. Training updates the running
        buffers in place (unbiased variance); reference_batch_norm.py gives the formulas.
    dropout_forward(x, out, mask, p, seed, offset=0)
    dropout_backward(grad_out, mask, grad_in, p)
        Inverted dropout; mask is uint8 of x's shape (1 kept, 0 dropped), drawn from
        (seed, offset + element index) by reference_dropout.py's counter-based generator.
    max_pool2d_forward(x, out, argmax, kernel_size, stride, padding, dilation, ceil_mode)
    max_pool2d_backward(grad_out, argmax, grad_in)
    avg_pool2d_forward(x, out, kernel_size, stride, padding, ceil_mode, count_include_pad)
    avg_pool2d_backward(grad_out, grad_in, kernel_size, stride, padding, ceil_mode,
                        count_include_pad)
        2-D pooling of x (N, C, H, W) into (N, C, Ho, Wo) as PyTorch's; kernel_size, stride,
        padding, dilation are (h, w) pairs; argmax is int64, the flat index of each maximum
        in its input plane. reference_pooling.py gives the output size and the rules.
    conv2d_forward(x, weight, bias, out, stride, padding, dilation, groups)
    conv2d_backward_input(grad_out, weight, grad_in, stride, padding, dilation, groups)
    conv2d_backward_weight(grad_out, x, grad_weight, stride, padding, dilation, groups)
    conv2d_backward_bias(grad_out, grad_bias)
    conv2d_backward(grad_out, x, weight, grad_in, grad_weight, grad_bias, stride, padding,
                    dilation, groups)
        2-D convolution of x (N, C_in, H, W) with weight (C_out, C_in / groups, kH, kW)
        and bias (C_out) or None into (N, C_out, Ho, Wo), as PyTorch's conv2d; stride,
        padding, dilation are (h, w) pairs. reference_conv2d.py gives the mathematics.
        conv2d_backward computes the gradients that are not None in one call (the CPU
        backend in one pass over the images).

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
    "sgd_update",
    "adagrad_update",
    "rmsprop_update",
    "adadelta_update",
    "adam_update",
    "adamax_update",
    "nadam_update",
    "parallel_copy",
    "accumulate",
    "batch_norm_forward_train",
    "batch_norm_forward_eval",
    "batch_norm_backward",
    "dropout_forward",
    "dropout_backward",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "conv2d_forward",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "conv2d_backward_bias",
    "conv2d_backward",
)
