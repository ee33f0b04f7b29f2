// Host launchers of softmax, log-softmax and fused softmax-cross-entropy on the GPU
// (softmax.cu), the contract of cpu/softmax.h on device buffers: rows x cols row-major
// (cols the last axis, the classes for cross-entropy), cols >= 1, rows >= 0, outputs
// not overlapping inputs. Asynchronous on `stream`, except the cross-entropy functions
// with labels: they wait for the stream to check the labels, and throw
// std::invalid_argument (ValueError) naming the first label, in row order, that is
// neither ignore_index nor in [0, classes). The kernel has then written every row
// with a valid label; rows with a bad one are left untouched.
#pragma once

#include <cstdint>

#include "cuda/stream.h"

namespace axonic::cuda {

// out (rows x cols) = softmax(x) per row, or log-softmax with log = true.
template <typename T>
void softmax_forward(const T* x, T* out, int64_t rows, int64_t cols, bool log,
                     cudaStream_t stream);

// grad_in (rows x cols) from the forward output y (softmax, or log-softmax with log).
template <typename T>
void softmax_backward(const T* y, const T* grad_out, T* grad_in, int64_t rows, int64_t cols,
                      bool log, cudaStream_t stream);

// logits (rows x classes), labels (rows, device) -> loss (rows), probs (rows x classes).
// Rows labelled ignore_index get loss 0.
template <typename T>
void softmax_cross_entropy_forward_labels(const T* logits, const int64_t* labels, T* loss,
                                          T* probs, int64_t rows, int64_t classes,
                                          int64_t ignore_index, cudaStream_t stream);

// logits, target (rows x classes) -> loss (rows), probs (rows x classes).
template <typename T>
void softmax_cross_entropy_forward_probabilities(const T* logits, const T* target, T* loss,
                                                 T* probs, int64_t rows, int64_t classes,
                                                 cudaStream_t stream);

// probs (rows x classes), labels (rows), grad_loss (rows) -> grad_logits (rows x classes).
// Rows labelled ignore_index get a zero gradient.
template <typename T>
void softmax_cross_entropy_backward_labels(const T* probs, const int64_t* labels,
                                           const T* grad_loss, T* grad_logits, int64_t rows,
                                           int64_t classes, int64_t ignore_index,
                                           cudaStream_t stream);

// probs, target (rows x classes), grad_loss (rows) -> grad_logits (rows x classes).
template <typename T>
void softmax_cross_entropy_backward_probabilities(const T* probs, const T* target,
                                                  const T* grad_loss, T* grad_logits,
                                                  int64_t rows, int64_t classes,
                                                  cudaStream_t stream);

}  // namespace axonic::cuda
