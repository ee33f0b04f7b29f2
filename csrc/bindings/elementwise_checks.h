// The checks of kernels whose outputs have the shape of their inputs (activations,
// softmax, dropout), over either module's arrays (FloatArray, DeviceArray): one dtype,
// one shape, and no output sharing memory with an input. require_same_dtype /
// require_same_shape / require_no_overlap are found by argument-dependent lookup.
#pragma once

namespace axonic::bind {

// `out` has `in`'s dtype and shape and shares no memory with it.
template <typename Array>
void require_output_like(const Array& in, const char* in_name, const Array& out,
                         const char* out_name) {
  require_same_dtype(in, in_name, out, out_name);
  require_same_shape(in, in_name, out, out_name);
  require_no_overlap(out, out_name, in, in_name);
}

// A backward's arrays: `grad_in` has `saved`'s dtype and shape, as has `grad_out`, and
// `grad_in` shares memory with neither.
template <typename Array>
void require_gradient_like(const Array& saved, const char* saved_name, const Array& grad_out,
                           const Array& grad_in) {
  require_same_dtype(saved, saved_name, grad_out, "grad_out");
  require_same_dtype(saved, saved_name, grad_in, "grad_in");
  require_same_shape(saved, saved_name, grad_out, "grad_out");
  require_same_shape(saved, saved_name, grad_in, "grad_in");
  require_no_overlap(grad_in, "grad_in", saved, saved_name);
  require_no_overlap(grad_in, "grad_in", grad_out, "grad_out");
}

}  // namespace axonic::bind
