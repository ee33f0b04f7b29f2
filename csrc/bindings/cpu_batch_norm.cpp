// Python bindings of batch normalization, with the names, argument order and
// defaults of backends/reference_batch_norm.py. x is (N, C, *spatial) viewed as
// (N, C, S); every per-channel array is (C,) of x's dtype; weight, bias and the
// running buffers may be None where batch_norm.h allows null.
#include <optional>
#include <utility>
#include <vector>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/batch_norm.h"

namespace axonic::bind {

namespace {

struct ChannelView {
  int64_t n, c, s;
};

ChannelView channel_view(const FloatArray& x, const char* name) {
  AXONIC_CHECK(x.ndim() >= 2, "batch_norm expects ", name,
               " of shape (N, C) or (N, C, *spatial) (ndim >= 2), got shape ", x.shape_string());
  int64_t s = 1;
  for (int64_t i = 2; i < x.ndim(); ++i) s *= x.shape[i];
  return {x.shape[0], x.shape[1], s};
}

// A (C,) array of x's dtype, or nullopt for None when allowed.
std::optional<FloatArray> channel_array(py::handle obj, const char* name, const FloatArray& x,
                                        int64_t channels, bool writable, bool optional) {
  if (obj.is_none()) {
    AXONIC_CHECK(optional, name, " must be an array of shape (", channels, ",), got None");
    return std::nullopt;
  }
  FloatArray a = float_array(obj, name, writable);
  require_same_dtype(x, "x", a, name);
  AXONIC_CHECK(a.ndim() == 1 && a.shape[0] == channels, name, " must have shape (", channels,
               ",) (one value per channel of x, shape ", x.shape_string(), "), got shape ",
               a.shape_string());
  return a;
}

template <typename T>
T* ptr_or_null(const std::optional<FloatArray>& a) {
  return a ? a->ptr<T>() : nullptr;
}

// Required arrays are held in std::optional too, so that one list can name every
// array of a call, present or None.
using Named = std::pair<const std::optional<FloatArray>*, const char*>;

// Every output is disjoint from every input and from every other output.
void require_disjoint(const std::vector<Named>& outputs, const std::vector<Named>& inputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [out, out_name] = outputs[i];
    if (!*out) continue;
    for (const auto& [in, in_name] : inputs)
      if (*in) require_no_overlap(**out, out_name, **in, in_name);
    for (size_t j = i + 1; j < outputs.size(); ++j) {
      const auto& [other, other_name] = outputs[j];
      if (*other) require_no_overlap(**out, out_name, **other, other_name);
    }
  }
}

void require_eps(double eps) {
  AXONIC_CHECK(eps >= 0.0, "batch_norm expects eps >= 0, got ", eps);
}

void batch_norm_forward_train_binding(py::handle x_obj, py::handle weight_obj,
                                      py::handle bias_obj, py::handle running_mean_obj,
                                      py::handle running_var_obj, py::handle out_obj,
                                      py::handle save_mean_obj, py::handle save_invstd_obj,
                                      double momentum, double eps) {
  const std::optional<FloatArray> x = float_array(x_obj, "x");
  const ChannelView v = channel_view(*x, "x");
  const std::optional<FloatArray> out = float_array(out_obj, "out", /*writable=*/true);
  require_same_dtype(*x, "x", *out, "out");
  require_same_shape(*x, "x", *out, "out");
  const int64_t m = v.n * v.s;
  AXONIC_CHECK(m > 1, "Expected more than 1 value per channel when training, got input size ",
               x->shape_string());
  require_eps(eps);
  const auto weight = channel_array(weight_obj, "weight", *x, v.c, false, true);
  const auto bias = channel_array(bias_obj, "bias", *x, v.c, false, true);
  const auto running_mean = channel_array(running_mean_obj, "running_mean", *x, v.c, true, true);
  const auto running_var = channel_array(running_var_obj, "running_var", *x, v.c, true, true);
  const auto save_mean = channel_array(save_mean_obj, "save_mean", *x, v.c, true, false);
  const auto save_invstd = channel_array(save_invstd_obj, "save_invstd", *x, v.c, true, false);
  require_disjoint({{&out, "out"}, {&running_mean, "running_mean"}, {&running_var, "running_var"},
                    {&save_mean, "save_mean"}, {&save_invstd, "save_invstd"}},
                   {{&x, "x"}, {&weight, "weight"}, {&bias, "bias"}});

  dispatch_float(x->dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x->ptr<T>();
    const T* pw = ptr_or_null<T>(weight);
    const T* pb = ptr_or_null<T>(bias);
    T* prm = ptr_or_null<T>(running_mean);
    T* prv = ptr_or_null<T>(running_var);
    T* pout = out->ptr<T>();
    T* psm = save_mean->ptr<T>();
    T* psi = save_invstd->ptr<T>();
    py::gil_scoped_release release;
    cpu::batch_norm_forward_train<T>(px, pw, pb, prm, prv, pout, psm, psi, v.n, v.c, v.s,
                                     momentum, eps);
  });
}

void batch_norm_forward_eval_binding(py::handle x_obj, py::handle weight_obj, py::handle bias_obj,
                                     py::handle running_mean_obj, py::handle running_var_obj,
                                     py::handle out_obj, double eps) {
  const std::optional<FloatArray> x = float_array(x_obj, "x");
  const ChannelView v = channel_view(*x, "x");
  const std::optional<FloatArray> out = float_array(out_obj, "out", /*writable=*/true);
  require_same_dtype(*x, "x", *out, "out");
  require_same_shape(*x, "x", *out, "out");
  require_eps(eps);
  const auto weight = channel_array(weight_obj, "weight", *x, v.c, false, true);
  const auto bias = channel_array(bias_obj, "bias", *x, v.c, false, true);
  const auto running_mean = channel_array(running_mean_obj, "running_mean", *x, v.c, false, false);
  const auto running_var = channel_array(running_var_obj, "running_var", *x, v.c, false, false);
  require_disjoint({{&out, "out"}}, {{&x, "x"}, {&weight, "weight"}, {&bias, "bias"},
                                     {&running_mean, "running_mean"},
                                     {&running_var, "running_var"}});

  dispatch_float(x->dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x->ptr<T>();
    const T* pw = ptr_or_null<T>(weight);
    const T* pb = ptr_or_null<T>(bias);
    const T* prm = running_mean->ptr<T>();
    const T* prv = running_var->ptr<T>();
    T* pout = out->ptr<T>();
    py::gil_scoped_release release;
    cpu::batch_norm_forward_eval<T>(px, pw, pb, prm, prv, pout, v.n, v.c, v.s, eps);
  });
}

void batch_norm_backward_binding(py::handle grad_out_obj, py::handle x_obj, py::handle weight_obj,
                                 py::handle save_mean_obj, py::handle save_invstd_obj,
                                 py::handle grad_in_obj, py::handle grad_weight_obj,
                                 py::handle grad_bias_obj) {
  const std::optional<FloatArray> x = float_array(x_obj, "x");
  const ChannelView v = channel_view(*x, "x");
  const std::optional<FloatArray> grad_out = float_array(grad_out_obj, "grad_out");
  require_same_dtype(*x, "x", *grad_out, "grad_out");
  require_same_shape(*x, "x", *grad_out, "grad_out");
  AXONIC_CHECK(v.n * v.s > 1,
               "Expected more than 1 value per channel when training, got input size ",
               x->shape_string());
  const auto weight = channel_array(weight_obj, "weight", *x, v.c, false, true);
  const auto save_mean = channel_array(save_mean_obj, "save_mean", *x, v.c, false, false);
  const auto save_invstd = channel_array(save_invstd_obj, "save_invstd", *x, v.c, false, false);
  std::optional<FloatArray> grad_in;
  if (!grad_in_obj.is_none()) {
    grad_in = float_array(grad_in_obj, "grad_in", /*writable=*/true);
    require_same_dtype(*x, "x", *grad_in, "grad_in");
    require_same_shape(*x, "x", *grad_in, "grad_in");
  }
  const auto grad_weight = channel_array(grad_weight_obj, "grad_weight", *x, v.c, true, true);
  const auto grad_bias = channel_array(grad_bias_obj, "grad_bias", *x, v.c, true, true);
  require_disjoint({{&grad_in, "grad_in"}, {&grad_weight, "grad_weight"},
                    {&grad_bias, "grad_bias"}},
                   {{&grad_out, "grad_out"}, {&x, "x"}, {&weight, "weight"},
                    {&save_mean, "save_mean"}, {&save_invstd, "save_invstd"}});

  dispatch_float(x->dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pg = grad_out->ptr<T>();
    const T* px = x->ptr<T>();
    const T* pw = ptr_or_null<T>(weight);
    const T* psm = save_mean->ptr<T>();
    const T* psi = save_invstd->ptr<T>();
    T* pgi = ptr_or_null<T>(grad_in);
    T* pgw = ptr_or_null<T>(grad_weight);
    T* pgb = ptr_or_null<T>(grad_bias);
    py::gil_scoped_release release;
    cpu::batch_norm_backward<T>(pg, px, pw, psm, psi, pgi, pgw, pgb, v.n, v.c, v.s);
  });
}

}  // namespace

void register_batch_norm(py::module_& m) {
  m.def("batch_norm_forward_train", &batch_norm_forward_train_binding, py::arg("x"),
        py::arg("weight"), py::arg("bias"), py::arg("running_mean"), py::arg("running_var"),
        py::arg("out"), py::arg("save_mean"), py::arg("save_invstd"), py::arg("momentum") = 0.1,
        py::arg("eps") = 1e-5,
        "Training-mode batch norm of x (N, C, *spatial) with per-channel batch statistics\n"
        "over N and the spatial axes (N * prod(spatial) > 1). Writes out (x's shape),\n"
        "save_mean and save_invstd = 1/sqrt(biased var + eps) (C,), and updates running_mean /\n"
        "running_var (C,) in place: running = (1 - momentum) running + momentum stat, with the\n"
        "unbiased variance. weight, bias and the running buffers may be None.");
  m.def("batch_norm_forward_eval", &batch_norm_forward_eval_binding, py::arg("x"),
        py::arg("weight"), py::arg("bias"), py::arg("running_mean"), py::arg("running_var"),
        py::arg("out"), py::arg("eps") = 1e-5,
        "Evaluation-mode batch norm: out = (x - running_mean) / sqrt(running_var + eps)\n"
        "* weight + bias per channel. weight and bias may be None.");
  m.def("batch_norm_backward", &batch_norm_backward_binding, py::arg("grad_out"), py::arg("x"),
        py::arg("weight"), py::arg("save_mean"), py::arg("save_invstd"), py::arg("grad_in"),
        py::arg("grad_weight"), py::arg("grad_bias"),
        "Gradients of the training-mode forward from its saved mean and invstd. Writes\n"
        "grad_in (x's shape), grad_weight = sum(g xhat) and grad_bias = sum(g) (C,); any of\n"
        "the three may be None to skip it. weight may be None (affine=False).");
}

}  // namespace axonic::bind
