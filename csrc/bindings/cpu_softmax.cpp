// Python bindings of softmax / log-softmax over the last axis and of the fused
// softmax-cross-entropy, with the names, argument order and defaults of
// backends/reference.py. A cross-entropy target is either int64 class labels (N,)
// or probabilities (N, C) of the logits' dtype; which one is read from its dtype.
#include <optional>
#include <string>
#include <vector>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/softmax.h"

namespace axonic::bind {

namespace {

// Softmax's rows x cols view of x: ndim >= 1, non-empty last axis.
struct RowsCols {
  int64_t rows, cols;
};

RowsCols softmax_rows_cols(const FloatArray& x, const char* name) {
  AXONIC_CHECK(x.ndim() >= 1, "softmax runs over the last axis, so ", name,
               " needs ndim >= 1, got shape ", x.shape_string());
  const int64_t cols = x.shape.back();
  AXONIC_CHECK(cols >= 1, "softmax needs a non-empty last axis, got ", name, " of shape ",
               x.shape_string());
  return {x.size() / cols, cols};
}

void softmax_forward_binding(py::handle x_obj, py::handle out_obj, bool log) {
  FloatArray x = float_array(x_obj, "x");
  FloatArray out = float_array(out_obj, "out", /*writable=*/true);
  require_same_dtype(x, "x", out, "out");
  require_same_shape(x, "x", out, "out");
  const RowsCols rc = softmax_rows_cols(x, "x");
  require_no_overlap(out, "out", x, "x");

  dispatch_float(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.ptr<T>();
    T* pout = out.ptr<T>();
    py::gil_scoped_release release;
    cpu::softmax_forward<T>(px, pout, rc.rows, rc.cols, log);
  });
}

void softmax_backward_binding(py::handle y_obj, py::handle grad_out_obj, py::handle grad_in_obj,
                              bool log) {
  FloatArray y = float_array(y_obj, "y");
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  FloatArray grad_in = float_array(grad_in_obj, "grad_in", /*writable=*/true);
  require_same_dtype(y, "y", grad_out, "grad_out");
  require_same_dtype(y, "y", grad_in, "grad_in");
  require_same_shape(y, "y", grad_out, "grad_out");
  require_same_shape(y, "y", grad_in, "grad_in");
  const RowsCols rc = softmax_rows_cols(y, "y");
  require_no_overlap(grad_in, "grad_in", y, "y");
  require_no_overlap(grad_in, "grad_in", grad_out, "grad_out");

  dispatch_float(y.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* py_ = y.ptr<T>();
    const T* pgrad_out = grad_out.ptr<T>();
    T* pgrad_in = grad_in.ptr<T>();
    py::gil_scoped_release release;
    cpu::softmax_backward<T>(py_, pgrad_out, pgrad_in, rc.rows, rc.cols, log);
  });
}

// A checked (N, C) array of class scores: logits in the forward, probs in the backward.
FloatArray class_scores(py::handle obj, const char* name) {
  FloatArray a = float_array(obj, name);
  AXONIC_CHECK(a.ndim() == 2 && a.shape[1] >= 1, name, " must be 2-D (N, C) with C >= 1, got ",
               a.shape_string());
  return a;
}

// A cross-entropy target checked against scores (N, C): int64 labels (N,) or float
// probabilities (N, C). Any integer or bool array is taken for labels, so int32
// labels are refused as labels ("must be int64") rather than as floats.
struct ClassTarget {
  std::optional<py::array_t<int64_t>> labels;
  std::optional<FloatArray> probabilities;
};

ClassTarget class_target(py::handle obj, const FloatArray& scores, const char* scores_name) {
  const int64_t n = scores.shape[0];
  ClassTarget target;
  const bool integer_array =
      py::isinstance<py::array>(obj) &&
      std::string("iub").find(py::reinterpret_borrow<py::array>(obj).dtype().kind()) !=
          std::string::npos;
  if (integer_array) {
    py::array_t<int64_t> labels = int64_array(obj, "target");
    std::vector<int64_t> shape(labels.shape(), labels.shape() + labels.ndim());
    AXONIC_CHECK(labels.ndim() == 1 && shape[0] == n, "target labels must have shape (", n,
                 ",) to match ", scores_name, " ", scores.shape_string(), ", got ",
                 shape_string(shape));
    target.labels = std::move(labels);
  } else {
    FloatArray probabilities = float_array(obj, "target");
    require_same_dtype(scores, scores_name, probabilities, "target");
    AXONIC_CHECK(probabilities.shape == scores.shape, "target must be int64 labels of shape (",
                 n, ",) or probabilities of the shape of ", scores_name, " ",
                 scores.shape_string(), ", got floating-point target of shape ",
                 probabilities.shape_string());
    target.probabilities = std::move(probabilities);
  }
  return target;
}

// Checks `a` is (n,), the per-row vector of an (N, C) problem.
void require_row_vector(const FloatArray& a, const char* name, const FloatArray& scores,
                        const char* scores_name) {
  AXONIC_CHECK(a.ndim() == 1 && a.shape[0] == scores.shape[0], name, " must have shape (",
               scores.shape[0], ",), one value per row of ", scores_name, " ",
               scores.shape_string(), ", got ", a.shape_string());
}

void softmax_cross_entropy_forward_binding(py::handle logits_obj, py::handle target_obj,
                                           py::handle loss_out_obj, py::handle probs_out_obj,
                                           int64_t ignore_index) {
  FloatArray logits = class_scores(logits_obj, "logits");
  ClassTarget target = class_target(target_obj, logits, "logits");
  FloatArray loss_out = float_array(loss_out_obj, "loss_out", /*writable=*/true);
  FloatArray probs_out = float_array(probs_out_obj, "probs_out", /*writable=*/true);
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
  dispatch_float(logits.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pz = logits.ptr<T>();
    T* ploss = loss_out.ptr<T>();
    T* pprobs = probs_out.ptr<T>();
    if (target.labels) {
      const int64_t* plabels = target.labels->data();
      py::gil_scoped_release release;
      cpu::softmax_cross_entropy_forward_labels<T>(pz, plabels, ploss, pprobs, rows, classes,
                                                   ignore_index);
    } else {
      const T* pt = target.probabilities->template ptr<T>();
      py::gil_scoped_release release;
      cpu::softmax_cross_entropy_forward_probabilities<T>(pz, pt, ploss, pprobs, rows, classes);
    }
  });
}

void softmax_cross_entropy_backward_binding(py::handle probs_obj, py::handle target_obj,
                                            py::handle grad_loss_obj, py::handle grad_logits_obj,
                                            int64_t ignore_index) {
  FloatArray probs = class_scores(probs_obj, "probs");
  ClassTarget target = class_target(target_obj, probs, "probs");
  FloatArray grad_loss = float_array(grad_loss_obj, "grad_loss");
  FloatArray grad_logits = float_array(grad_logits_obj, "grad_logits", /*writable=*/true);
  require_same_dtype(probs, "probs", grad_loss, "grad_loss");
  require_same_dtype(probs, "probs", grad_logits, "grad_logits");
  require_row_vector(grad_loss, "grad_loss", probs, "probs");
  require_same_shape(probs, "probs", grad_logits, "grad_logits");
  require_no_overlap(grad_logits, "grad_logits", probs, "probs");
  require_no_overlap(grad_logits, "grad_logits", grad_loss, "grad_loss");
  if (target.probabilities)
    require_no_overlap(grad_logits, "grad_logits", *target.probabilities, "target");

  const int64_t rows = probs.shape[0], classes = probs.shape[1];
  dispatch_float(probs.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pp = probs.ptr<T>();
    const T* pg = grad_loss.ptr<T>();
    T* pgz = grad_logits.ptr<T>();
    if (target.labels) {
      const int64_t* plabels = target.labels->data();
      py::gil_scoped_release release;
      cpu::softmax_cross_entropy_backward_labels<T>(pp, plabels, pg, pgz, rows, classes,
                                                    ignore_index);
    } else {
      const T* pt = target.probabilities->template ptr<T>();
      py::gil_scoped_release release;
      cpu::softmax_cross_entropy_backward_probabilities<T>(pp, pt, pg, pgz, rows, classes);
    }
  });
}

}  // namespace

void register_softmax(py::module_& m) {
  m.def("softmax_forward", &softmax_forward_binding, py::arg("x"), py::arg("out"),
        py::arg("log") = false,
        "out = softmax(x) over the last axis, or log-softmax with log=True. x and out:\n"
        "C-contiguous float32/float64 arrays of one shape (ndim >= 1, last axis non-empty)\n"
        "and dtype, not sharing memory. Stable for logits of any magnitude.");
  m.def("softmax_backward", &softmax_backward_binding, py::arg("y"), py::arg("grad_out"),
        py::arg("grad_in"), py::arg("log") = false,
        "grad_in = the gradient through softmax over the last axis, from its output y\n"
        "(from the log-softmax output with log=True). y, grad_out and grad_in: C-contiguous\n"
        "float32/float64 arrays of one shape and dtype; grad_in shares memory with neither.");
  m.def("softmax_cross_entropy_forward", &softmax_cross_entropy_forward_binding,
        py::arg("logits"), py::arg("target"), py::arg("loss_out"), py::arg("probs_out"),
        py::arg("ignore_index") = -100,
        "Per-row cross-entropy of softmax(logits). logits: (N, C), C >= 1. target: int64\n"
        "labels (N,) with 0 <= label < C or label == ignore_index (loss 0), or probabilities\n"
        "(N, C) of logits' dtype (loss -sum_j t_ij log p_ij over t_ij != 0). Writes\n"
        "loss_out (N,) and probs_out (N, C) = softmax(logits), kept for the backward.\n"
        "Out-of-range labels raise ValueError before anything is written.");
  m.def("softmax_cross_entropy_backward", &softmax_cross_entropy_backward_binding,
        py::arg("probs"), py::arg("target"), py::arg("grad_loss"), py::arg("grad_logits"),
        py::arg("ignore_index") = -100,
        "Gradient of the per-row cross-entropy with respect to the logits. probs: (N, C)\n"
        "from the forward; target as in the forward; grad_loss: (N,). Writes grad_logits\n"
        "(N, C) = g_i (p_ij - [j == y_i]) for labels (0 on ignore_index rows), or\n"
        "g_i (p_ij sum_k t_ik - t_ij) for probabilities.");
}

}  // namespace axonic::bind
