// The Python bindings of softmax / log-softmax over the last axis and of the fused
// softmax-cross-entropy, written once for axonic._cpu (cpu_softmax.cpp) and axonic._cuda
// (cuda_softmax.cpp): the names, argument order and defaults of backends/reference.py,
// and one set of checks over the module's arrays. A cross-entropy target is int64 class
// labels (N,) or probabilities (N, C) of the logits' dtype, told apart by its dtype:
// any integer or bool array is taken for labels, so int32 labels are refused as labels
// ("must be int64") rather than as floats.
//
// A module describes itself by a Device type (cpu_policy.h / cuda_policy.h):
//   using Array; static Array array(py::handle obj, const char* name, bool writable);
//   static std::optional<char> dtype_kind(py::handle obj): the NumPy dtype kind of one
//       of the module's arrays, nullopt for anything else;
//   static LabelArray labels(py::handle obj, const char* name): int64 class labels;
//   template <typename T, typename... A> static void forward(A...), backward(A...),
//       cross_entropy_forward_labels, cross_entropy_forward_probabilities,
//       cross_entropy_backward_labels, cross_entropy_backward_probabilities: the kernels
//       of cpu/softmax.h, called with its arguments and then the module's Stream
//       arguments converted by static auto stream(Stream).
// define_softmax<Device, Stream...>(m, extra...) adds one trailing Python argument per
// Stream type, declared by extra (py::arg("stream") = 0).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "bindings/array_checks.h"
#include "bindings/elementwise_checks.h"
#include "common/checks.h"

namespace axonic::bind {

// Class labels as a module holds them: int64, C-contiguous, in the module's memory.
struct LabelArray {
  py::object owner;  // keeps the array alive while the binding runs
  Dims shape;
  const int64_t* data;
};

namespace softmax_checks {

// Softmax's rows x cols view of an array: cols is the last axis.
struct RowsCols {
  int64_t rows, cols;
};

// ndim >= 1 and a non-empty last axis.
template <typename Array>
RowsCols rows_cols(const Array& x, const char* name) {
  AXONIC_CHECK(x.ndim() >= 1, "softmax runs over the last axis, so ", name,
               " needs ndim >= 1, got shape ", x.shape_string());
  const int64_t cols = x.shape.back();
  AXONIC_CHECK(cols >= 1, "softmax needs a non-empty last axis, got ", name, " of shape ",
               x.shape_string());
  return {x.size() / cols, cols};
}

// A checked (N, C) array of class scores: logits in the forward, probs in the backward.
template <typename Device, typename Array = typename Device::Array>
Array class_scores(py::handle obj, const char* name) {
  Array a = Device::array(obj, name, false);
  AXONIC_CHECK(a.ndim() == 2 && a.shape[1] >= 1, name, " must be 2-D (N, C) with C >= 1, got ",
               a.shape_string());
  return a;
}

// `a` is (N,), the per-row vector of an (N, C) problem.
template <typename Array>
void require_row_vector(const Array& a, const char* name, const Array& scores,
                        const char* scores_name) {
  AXONIC_CHECK(a.ndim() == 1 && a.shape[0] == scores.shape[0], name, " must have shape (",
               scores.shape[0], ",), one value per row of ", scores_name, " ",
               scores.shape_string(), ", got ", a.shape_string());
}

template <typename Array>
struct ClassTarget {
  std::optional<LabelArray> labels;
  std::optional<Array> probabilities;
};

// A cross-entropy target checked against scores (N, C): labels (N,) or probabilities
// (N, C) of the scores' dtype.
template <typename Device, typename Array = typename Device::Array>
ClassTarget<Array> class_target(py::handle obj, const Array& scores, const char* scores_name) {
  const int64_t n = scores.shape[0];
  ClassTarget<Array> target;
  const std::optional<char> kind = Device::dtype_kind(obj);
  if (kind && (*kind == 'i' || *kind == 'u' || *kind == 'b')) {
    LabelArray labels = Device::labels(obj, "target");
    AXONIC_CHECK(labels.shape.size() == 1 && labels.shape[0] == n,
                 "target labels must have shape (", n, ",) to match ", scores_name, " ",
                 scores.shape_string(), ", got ", shape_string(labels.shape));
    target.labels = std::move(labels);
  } else {
    Array probabilities = Device::array(obj, "target", false);
    require_same_dtype(scores, scores_name, probabilities, "target");
    AXONIC_CHECK(probabilities.shape == scores.shape, "target must be int64 labels of shape (",
                 n, ",) or probabilities of the shape of ", scores_name, " ",
                 scores.shape_string(), ", got floating-point target of shape ",
                 probabilities.shape_string());
    target.probabilities = std::move(probabilities);
  }
  return target;
}

}  // namespace softmax_checks

template <typename Device, typename... Stream, typename... Extra>
void define_softmax(py::module_& m, const Extra&... extra) {
  using namespace softmax_checks;
  using Array = typename Device::Array;

  m.def(
      "softmax_forward",
      [](py::handle x_obj, py::handle out_obj, bool log, Stream... stream) {
        const Array x = Device::array(x_obj, "x", false);
        const Array out = Device::array(out_obj, "out", /*writable=*/true);
        require_output_like(x, "x", out, "out");
        const RowsCols rc = rows_cols(x, "x");
        if (rc.rows == 0) return;
        dispatch_float(x.dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* px = x.template ptr<T>();
          T* pout = out.template ptr<T>();
          py::gil_scoped_release release;
          Device::template forward<T>(px, pout, rc.rows, rc.cols, log,
                                      Device::stream(stream)...);
        });
      },
      py::arg("x"), py::arg("out"), py::arg("log") = false, extra...,
      "out = softmax(x) over the last axis, or log-softmax with log=True. x and out:\n"
      "C-contiguous float32/float64 arrays of one shape (ndim >= 1, last axis non-empty)\n"
      "and dtype, not sharing memory. Stable for logits of any magnitude.");

  m.def(
      "softmax_backward",
      [](py::handle y_obj, py::handle grad_out_obj, py::handle grad_in_obj, bool log,
         Stream... stream) {
        const Array y = Device::array(y_obj, "y", false);
        const Array grad_out = Device::array(grad_out_obj, "grad_out", false);
        const Array grad_in = Device::array(grad_in_obj, "grad_in", /*writable=*/true);
        require_gradient_like(y, "y", grad_out, grad_in);
        const RowsCols rc = rows_cols(y, "y");
        if (rc.rows == 0) return;
        dispatch_float(y.dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* py_ = y.template ptr<T>();
          const T* pgrad_out = grad_out.template ptr<T>();
          T* pgrad_in = grad_in.template ptr<T>();
          py::gil_scoped_release release;
          Device::template backward<T>(py_, pgrad_out, pgrad_in, rc.rows, rc.cols, log,
                                       Device::stream(stream)...);
        });
      },
      py::arg("y"), py::arg("grad_out"), py::arg("grad_in"), py::arg("log") = false, extra...,
      "grad_in = the gradient through softmax over the last axis, from its output y\n"
      "(from the log-softmax output with log=True). y, grad_out and grad_in: C-contiguous\n"
      "float32/float64 arrays of one shape and dtype; grad_in shares memory with neither.");

  m.def(
      "softmax_cross_entropy_forward",
      [](py::handle logits_obj, py::handle target_obj, py::handle loss_out_obj,
         py::handle probs_out_obj, int64_t ignore_index, Stream... stream) {
        const Array logits = class_scores<Device>(logits_obj, "logits");
        const ClassTarget<Array> target = class_target<Device>(target_obj, logits, "logits");
        const Array loss_out = Device::array(loss_out_obj, "loss_out", /*writable=*/true);
        const Array probs_out = Device::array(probs_out_obj, "probs_out", /*writable=*/true);
        require_same_dtype(logits, "logits", loss_out, "loss_out");
        require_same_dtype(logits, "logits", probs_out, "probs_out");
        require_row_vector(loss_out, "loss_out", logits, "logits");
        require_same_shape(logits, "logits", probs_out, "probs_out");
        require_no_overlap(probs_out, "probs_out", logits, "logits");
        require_no_overlap(loss_out, "loss_out", logits, "logits");
        require_no_overlap(loss_out, "loss_out", probs_out, "probs_out");
        if (target.probabilities) {
          require_no_overlap(probs_out, "probs_out", *target.probabilities, "target");
          require_no_overlap(loss_out, "loss_out", *target.probabilities, "target");
        }
        const int64_t rows = logits.shape[0], classes = logits.shape[1];
        if (rows == 0) return;
        dispatch_float(logits.dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* pz = logits.template ptr<T>();
          T* ploss = loss_out.template ptr<T>();
          T* pprobs = probs_out.template ptr<T>();
          py::gil_scoped_release release;
          if (target.labels)
            Device::template cross_entropy_forward_labels<T>(
                pz, target.labels->data, ploss, pprobs, rows, classes, ignore_index,
                Device::stream(stream)...);
          else
            Device::template cross_entropy_forward_probabilities<T>(
                pz, target.probabilities->template ptr<T>(), ploss, pprobs, rows, classes,
                Device::stream(stream)...);
        });
      },
      py::arg("logits"), py::arg("target"), py::arg("loss_out"), py::arg("probs_out"),
      py::arg("ignore_index") = -100, extra...,
      "Per-row cross-entropy of softmax(logits). logits: (N, C), C >= 1. target: int64\n"
      "labels (N,) with 0 <= label < C or label == ignore_index (loss 0), or probabilities\n"
      "(N, C) of logits' dtype (loss -sum_j t_ij log p_ij over t_ij != 0). Writes\n"
      "loss_out (N,) and probs_out (N, C) = softmax(logits), kept for the backward.\n"
      "Out-of-range labels raise ValueError: axonic._cpu checks them before writing\n"
      "anything; axonic._cuda in the kernel, waiting for the stream, having written the\n"
      "rows whose labels are valid.");

  m.def(
      "softmax_cross_entropy_backward",
      [](py::handle probs_obj, py::handle target_obj, py::handle grad_loss_obj,
         py::handle grad_logits_obj, int64_t ignore_index, Stream... stream) {
        const Array probs = class_scores<Device>(probs_obj, "probs");
        const ClassTarget<Array> target = class_target<Device>(target_obj, probs, "probs");
        const Array grad_loss = Device::array(grad_loss_obj, "grad_loss", false);
        const Array grad_logits =
            Device::array(grad_logits_obj, "grad_logits", /*writable=*/true);
        require_same_dtype(probs, "probs", grad_loss, "grad_loss");
        require_same_dtype(probs, "probs", grad_logits, "grad_logits");
        require_row_vector(grad_loss, "grad_loss", probs, "probs");
        require_same_shape(probs, "probs", grad_logits, "grad_logits");
        require_no_overlap(grad_logits, "grad_logits", probs, "probs");
        require_no_overlap(grad_logits, "grad_logits", grad_loss, "grad_loss");
        if (target.probabilities)
          require_no_overlap(grad_logits, "grad_logits", *target.probabilities, "target");
        const int64_t rows = probs.shape[0], classes = probs.shape[1];
        if (rows == 0) return;
        dispatch_float(probs.dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* pp = probs.template ptr<T>();
          const T* pg = grad_loss.template ptr<T>();
          T* pgz = grad_logits.template ptr<T>();
          py::gil_scoped_release release;
          if (target.labels)
            Device::template cross_entropy_backward_labels<T>(
                pp, target.labels->data, pg, pgz, rows, classes, ignore_index,
                Device::stream(stream)...);
          else
            Device::template cross_entropy_backward_probabilities<T>(
                pp, target.probabilities->template ptr<T>(), pg, pgz, rows, classes,
                Device::stream(stream)...);
        });
      },
      py::arg("probs"), py::arg("target"), py::arg("grad_loss"), py::arg("grad_logits"),
      py::arg("ignore_index") = -100, extra...,
      "Gradient of the per-row cross-entropy with respect to the logits. probs: (N, C)\n"
      "from the forward; target as in the forward; grad_loss: (N,). Writes grad_logits\n"
      "(N, C) = g_i (p_ij - [j == y_i]) for labels (0 on ignore_index rows), or\n"
      "g_i (p_ij sum_k t_ik - t_ij) for probabilities.");
}

}  // namespace axonic::bind
