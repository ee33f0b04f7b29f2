// The Python bindings of the fused optimizer updates, written once for axonic._cpu
// (cpu_optimizers.cpp) and axonic._cuda (cuda_optimizers.cpp), in multi-tensor form:
// each takes lists of arrays, one entry per parameter tensor, and updates them all
// in place in one call:
//   params     the parameters (written)
//   grads      their gradients (read)
//   states     the optimizer's state buffers, one list per kind of state (written);
//              an optional kind (SGD's momentum buffers, RMSprop's centered average,
//              Adam's amsgrad maximum) is an empty list when that option is off
//   coefficients  float64 NumPy array (len(params), k) on the host in both modules:
//              the per-tensor scalars of the update (bias corrections and the like),
//              computed by the Python optimizer
// Every array is C-contiguous, of the params' dtype (float32 or float64) and of its
// parameter's shape, and none shares memory with another of its tensor. Anything
// else raises TypeError/ValueError naming the argument and the index. Formulas:
// common/optimizer_options.h.
//
// A module describes itself by a Device type:
//   using Array = FloatArray / DeviceArray;
//   static Array array(py::handle obj, const char* name, bool writable);
//   template <typename T> static void update(const XOptions&,
//       const std::vector<ParamSlot<T>>&, ...)   for each options struct: the kernel,
//       called with the module's Stream arguments converted by
//   static auto stream(Stream)   (only where the module has a Stream argument).
// define_optimizer_updates<Device, Stream...>(m, extra...) then adds one trailing
// Python argument per Stream type, declared by extra (py::arg("stream") = 0).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/array_checks.h"
#include "common/checks.h"
#include "common/optimizer_options.h"

namespace axonic::bind {

namespace optimizer_checks {

// One list of state buffers: its argument name, and whether this call uses it.
struct StateList {
  const char* name;
  py::sequence arrays;
  bool used;
};

// The validated arrays of one call; slots point into them, and `arrays` keeps them
// alive while the GIL is released.
template <typename Array>
struct CheckedUpdate {
  FloatType dtype = FloatType::f32;
  std::vector<Array> arrays;
  std::vector<ParamSlot<void>> slots;

  template <typename T>
  std::vector<ParamSlot<T>> typed_slots() const {
    std::vector<ParamSlot<T>> typed;
    typed.reserve(slots.size());
    for (const ParamSlot<void>& s : slots) {
      ParamSlot<T> t{static_cast<T*>(s.param), static_cast<const T*>(s.grad), {}, s.coef, s.n};
      for (size_t k = 0; k < s.state.size(); ++k) t.state[k] = static_cast<T*>(s.state[k]);
      typed.push_back(t);
    }
    return typed;
  }
};

inline std::string indexed(const char* name, size_t i) { return concat(name, "[", i, "]"); }

// Checks a coefficients argument: float64, C-contiguous, shape (count, width).
inline py::array_t<double> coefficient_rows(py::handle obj, size_t count, size_t width) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error("coefficients must be a numpy.ndarray of float64");
  auto rows = py::reinterpret_borrow<py::array>(obj);
  if (!rows.dtype().is(py::dtype::of<double>()))
    throw py::type_error(concat("coefficients must be float64, got ",
                                std::string(py::str(rows.dtype()))));
  AXONIC_CHECK(rows.flags() & py::array::c_style, "coefficients must be C-contiguous");
  AXONIC_CHECK(rows.ndim() == 2 && static_cast<size_t>(rows.shape(0)) == count &&
                   static_cast<size_t>(rows.shape(1)) == width,
               "coefficients must have shape (", count, ", ", width, ") (one row per parameter)");
  return py::array_t<double>(rows);
}

template <typename Device, typename Array = typename Device::Array>
CheckedUpdate<Array> check_update(const char* kernel, const py::sequence& params,
                                  const py::sequence& grads, const std::vector<StateList>& states,
                                  std::optional<py::handle> coefficients, size_t coef_width) {
  const size_t count = py::len(params);
  AXONIC_CHECK(py::len(grads) == count, kernel, ": got ", count, " params but ", py::len(grads),
               " grads");
  for (const StateList& state : states) {
    const size_t n = py::len(state.arrays);
    if (state.used) {
      AXONIC_CHECK(n == count, kernel, ": got ", count, " params but ", n, " ", state.name);
    } else {
      AXONIC_CHECK(n == 0, kernel, ": ", state.name, " must be empty when its option is off, got ",
                   n, " arrays");
    }
  }
  py::array_t<double> rows;
  if (coef_width > 0) rows = coefficient_rows(*coefficients, count, coef_width);

  CheckedUpdate<Array> update;
  for (size_t i = 0; i < count; ++i) {
    const std::string param_name = indexed("params", i), grad_name = indexed("grads", i);
    Array param = Device::array(params[i], param_name.c_str(), /*writable=*/true);
    Array grad = Device::array(grads[i], grad_name.c_str(), /*writable=*/false);
    if (i == 0) update.dtype = param.dtype;
    require_same_dtype(update.arrays.empty() ? param : update.arrays.front(), "params[0]", param,
                       param_name.c_str());
    require_same_dtype(param, param_name.c_str(), grad, grad_name.c_str());
    require_same_shape(param, param_name.c_str(), grad, grad_name.c_str());
    require_no_overlap(param, param_name.c_str(), grad, grad_name.c_str());

    ParamSlot<void> slot{param.data, grad.data, {nullptr, nullptr, nullptr}, {0, 0, 0},
                         param.size()};
    std::vector<std::pair<Array, std::string>> written{{param, param_name}};
    for (size_t k = 0; k < states.size(); ++k) {
      if (!states[k].used) continue;
      const std::string name = indexed(states[k].name, i);
      Array state = Device::array(states[k].arrays[i], name.c_str(), /*writable=*/true);
      require_same_dtype(param, param_name.c_str(), state, name.c_str());
      require_same_shape(param, param_name.c_str(), state, name.c_str());
      require_no_overlap(state, name.c_str(), grad, grad_name.c_str());
      for (const auto& [other, other_name] : written)
        require_no_overlap(state, name.c_str(), other, other_name.c_str());
      slot.state[k] = state.data;
      written.emplace_back(state, name);
    }
    for (size_t j = 0; j < coef_width; ++j) slot.coef[j] = rows.at(i, j);
    for (auto& [array, name] : written) update.arrays.push_back(std::move(array));
    update.arrays.push_back(std::move(grad));
    update.slots.push_back(slot);
  }
  return update;
}

// Device::update(options, slots, streams...) without the GIL, on slots typed by the
// arrays' dtype.
template <typename Device, typename Array, typename Options, typename... Streams>
void run_update(const CheckedUpdate<Array>& update, const Options& options,
                Streams... streams) {
  if (update.slots.empty()) return;
  dispatch_float(update.dtype, [&](auto zero) {
    using T = decltype(zero);
    const std::vector<ParamSlot<T>> slots = update.template typed_slots<T>();
    py::gil_scoped_release release;
    Device::update(options, slots, streams...);
  });
}

}  // namespace optimizer_checks

// dst += src, the gradient accumulation of backward passes. It is SGD's step
// p = p - lr * g with lr = -1, which is exact (-(-1) * g == g), so it runs on that
// kernel's threads and per-ISA loops instead of a loop of its own.
template <typename Device, typename... Stream, typename... Extra>
void define_accumulate(py::module_& m, const char* doc, const Extra&... extra) {
  using namespace optimizer_checks;
  m.def(
      "accumulate",
      [](py::handle src_obj, py::handle dst_obj, Stream... stream) {
        using Array = typename Device::Array;
        Array src = Device::array(src_obj, "src", /*writable=*/false);
        Array dst = Device::array(dst_obj, "dst", /*writable=*/true);
        require_same_dtype(dst, "dst", src, "src");
        require_same_shape(dst, "dst", src, "src");
        require_no_overlap(dst, "dst", src, "src");
        CheckedUpdate<Array> update;
        update.dtype = dst.dtype;
        update.slots.push_back(
            ParamSlot<void>{dst.data, src.data, {nullptr, nullptr, nullptr}, {0, 0, 0}, dst.size()});
        update.arrays = {std::move(dst), std::move(src)};
        run_update<Device>(update, SgdOptions{-1.0, 0.0, 0.0, false, false},
                           Device::stream(stream)...);
      },
      py::arg("src"), py::arg("dst"), extra..., doc);
}

template <typename Device, typename... Stream, typename... Extra>
void define_optimizer_updates(py::module_& m, const Extra&... extra) {
  using namespace optimizer_checks;
  m.def(
      "sgd_update",
      [](py::sequence params, py::sequence grads, py::sequence momentum_buffers,
         py::object coefficients, double lr, double momentum, double weight_decay, bool nesterov,
         bool maximize, Stream... stream) {
        const auto update = check_update<Device>(
            "sgd_update", params, grads, {{"momentum_buffers", momentum_buffers, momentum != 0}},
            coefficients, 2);
        run_update<Device>(update, SgdOptions{lr, momentum, weight_decay, nesterov, maximize},
                           Device::stream(stream)...);
      },
      py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::arg("coefficients"),
      py::arg("lr"), py::arg("momentum"), py::arg("weight_decay"), py::arg("nesterov"),
      py::arg("maximize"), extra...,
      "SGD step in place. momentum_buffers: one per param when momentum != 0, else [].\n"
      "coefficients (n, 2): buffer_decay, grad_weight (momentum and 1 - dampening, or 0 and 1\n"
      "on a buffer's first step).");
  m.def(
      "adagrad_update",
      [](py::sequence params, py::sequence grads, py::sequence sums, py::object coefficients,
         double weight_decay, double eps, bool maximize, Stream... stream) {
        const auto update = check_update<Device>("adagrad_update", params, grads,
                                                 {{"sums", sums, true}}, coefficients, 1);
        run_update<Device>(update, AdagradOptions{weight_decay, eps, maximize},
                           Device::stream(stream)...);
      },
      py::arg("params"), py::arg("grads"), py::arg("sums"), py::arg("coefficients"),
      py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"), extra...,
      "Adagrad step in place. coefficients (n, 1): clr = lr / (1 + (step - 1) * lr_decay).");
  m.def(
      "rmsprop_update",
      [](py::sequence params, py::sequence grads, py::sequence square_avgs,
         py::sequence grad_avgs, py::sequence momentum_buffers, double lr, double alpha,
         double eps, double weight_decay, double momentum, bool centered, bool maximize,
         Stream... stream) {
        const auto update = check_update<Device>(
            "rmsprop_update", params, grads,
            {{"square_avgs", square_avgs, true}, {"grad_avgs", grad_avgs, centered},
             {"momentum_buffers", momentum_buffers, momentum > 0}},
            std::nullopt, 0);
        run_update<Device>(
            update, RmspropOptions{lr, alpha, eps, weight_decay, momentum, centered, maximize},
            Device::stream(stream)...);
      },
      py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("grad_avgs"),
      py::arg("momentum_buffers"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
      py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
      extra...,
      "RMSprop step in place. grad_avgs: [] unless centered; momentum_buffers: [] unless\n"
      "momentum > 0.");
  m.def(
      "adadelta_update",
      [](py::sequence params, py::sequence grads, py::sequence square_avgs,
         py::sequence acc_deltas, double lr, double rho, double eps, double weight_decay,
         bool maximize, Stream... stream) {
        const auto update = check_update<Device>(
            "adadelta_update", params, grads,
            {{"square_avgs", square_avgs, true}, {"acc_deltas", acc_deltas, true}},
            std::nullopt, 0);
        run_update<Device>(update, AdadeltaOptions{lr, rho, eps, weight_decay, maximize},
                           Device::stream(stream)...);
      },
      py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("acc_deltas"),
      py::arg("lr"), py::arg("rho"), py::arg("eps"), py::arg("weight_decay"),
      py::arg("maximize"), extra..., "Adadelta step in place.");
  m.def(
      "adam_update",
      [](py::sequence params, py::sequence grads, py::sequence exp_avgs,
         py::sequence exp_avg_sqs, py::sequence max_exp_avg_sqs, py::object coefficients,
         double lr, double beta1, double beta2, double eps, double weight_decay,
         bool decoupled_weight_decay, bool amsgrad, bool maximize, Stream... stream) {
        const auto update = check_update<Device>(
            "adam_update", params, grads,
            {{"exp_avgs", exp_avgs, true}, {"exp_avg_sqs", exp_avg_sqs, true},
             {"max_exp_avg_sqs", max_exp_avg_sqs, amsgrad}},
            coefficients, 2);
        run_update<Device>(update,
                           AdamOptions{lr, beta1, beta2, eps, weight_decay,
                                       decoupled_weight_decay, amsgrad, maximize},
                           Device::stream(stream)...);
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
      py::arg("max_exp_avg_sqs"), py::arg("coefficients"), py::arg("lr"), py::arg("beta1"),
      py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
      py::arg("decoupled_weight_decay"), py::arg("amsgrad"), py::arg("maximize"), extra...,
      "Adam (AdamW with decoupled_weight_decay) step in place. max_exp_avg_sqs: [] unless\n"
      "amsgrad. coefficients (n, 2): step_size = lr / (1 - beta1^t), sqrt(1 - beta2^t).");
  m.def(
      "adamax_update",
      [](py::sequence params, py::sequence grads, py::sequence exp_avgs, py::sequence exp_infs,
         py::object coefficients, double beta1, double beta2, double eps, double weight_decay,
         bool maximize, Stream... stream) {
        const auto update = check_update<Device>(
            "adamax_update", params, grads,
            {{"exp_avgs", exp_avgs, true}, {"exp_infs", exp_infs, true}}, coefficients, 1);
        run_update<Device>(update, AdamaxOptions{beta1, beta2, eps, weight_decay, maximize},
                           Device::stream(stream)...);
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_infs"),
      py::arg("coefficients"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
      py::arg("weight_decay"), py::arg("maximize"), extra...,
      "Adamax step in place. coefficients (n, 1): clr = lr / (1 - beta1^t).");
  m.def(
      "nadam_update",
      [](py::sequence params, py::sequence grads, py::sequence exp_avgs,
         py::sequence exp_avg_sqs, py::object coefficients, double lr, double beta1,
         double beta2, double eps, double weight_decay, bool decoupled_weight_decay,
         bool maximize, Stream... stream) {
        const auto update = check_update<Device>(
            "nadam_update", params, grads,
            {{"exp_avgs", exp_avgs, true}, {"exp_avg_sqs", exp_avg_sqs, true}}, coefficients, 3);
        run_update<Device>(update,
                           NadamOptions{lr, beta1, beta2, eps, weight_decay,
                                        decoupled_weight_decay, maximize},
                           Device::stream(stream)...);
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
      py::arg("coefficients"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
      py::arg("weight_decay"), py::arg("decoupled_weight_decay"), py::arg("maximize"), extra...,
      "NAdam step in place. coefficients (n, 3): lr (1 - mu_t) / (1 - prod mu_1..t),\n"
      "lr mu_t+1 / (1 - prod mu_1..t+1), 1 - beta2^t.");
}

}  // namespace axonic::bind
