// Softmax, log-softmax and fused softmax-cross-entropy over the last axis of
// C-contiguous arrays, each viewed as rows x cols (row-major; cols is the last
// axis, the classes for cross-entropy, rows the product of the other axes).
// Every function needs cols >= 1 (rows may be 0); the binding checks shapes. Outputs
// must not overlap inputs. The mathematics is that of
// python/axonic/backends/reference.py; the algorithm is described in softmax.cpp.
#pragma once

#include <cstdint>

namespace axonic::cpu {

// out (rows x cols) = softmax(x) per row, or log-softmax with log = true.
template <typename T>
void softmax_forward(const T* x, T* out, int64_t rows, int64_t cols, bool log);

// grad_in (rows x cols) from the forward output y (softmax, or log-softmax with log).
template <typename T>
void softmax_backward(const T* y, const T* grad_out, T* grad_in, int64_t rows, int64_t cols,
                      bool log);

// Throws std::invalid_argument naming the first label (in row order) that is
// neither ignore_index nor in [0, classes).
void check_class_labels(const int64_t* labels, int64_t rows, int64_t classes,
                        int64_t ignore_index);

// logits (rows x classes), labels (rows) -> loss (rows), probs (rows x classes).
// Rows labelled ignore_index get loss 0. Checks the labels before writing anything.
template <typename T>
void softmax_cross_entropy_forward_labels(const T* logits, const int64_t* labels, T* loss,
                                          T* probs, int64_t rows, int64_t classes,
                                          int64_t ignore_index);

// logits, target (rows x classes) -> loss (rows), probs (rows x classes). The target
// rows are probabilities (or one-hot); they need not sum to 1.
template <typename T>
void softmax_cross_entropy_forward_probabilities(const T* logits, const T* target, T* loss,
                                                 T* probs, int64_t rows, int64_t classes);

// probs (rows x classes), labels (rows), grad_loss (rows) -> grad_logits (rows x classes).
// Rows labelled ignore_index get a zero gradient.
template <typename T>
void softmax_cross_entropy_backward_labels(const T* probs, const int64_t* labels,
                                           const T* grad_loss, T* grad_logits, int64_t rows,
                                           int64_t classes, int64_t ignore_index);

// probs, target (rows x classes), grad_loss (rows) -> grad_logits (rows x classes).
template <typename T>
void softmax_cross_entropy_backward_probabilities(const T* probs, const T* target,
                                                  const T* grad_loss, T* grad_logits,
                                                  int64_t rows, int64_t classes);

}  // namespace axonic::cpu
