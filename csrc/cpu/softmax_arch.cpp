// Row kernels of softmax, log-softmax and softmax-cross-entropy, compiled once per ISA
// (see softmax_arch.h); softmax.cpp describes the algorithm they serve.
//
// Each walks one row in SIMD vectors (simd.h), the last partial vector loaded with a
// neutral fill (-inf for maxima and exp, whose exp is 0; 0 for sums), so no row length
// needs a scalar path. Exponentials come from vector_math.h's exp in T, not from libm
// in double: that is what made softmax slower than NumPy, since libm takes one element
// at a time.
//
// Accuracy. exp is good to about 1 ulp. z_j - max is formed in T, so for float32 its
// rounding adds a relative error of at most |z_j - max| * 2^-24 to exp(z_j - max):
// below 6e-6 for every term that does not underflow (|z_j - max| < 104), and tiny in
// absolute terms (those terms are below e^-20 once the error exceeds 1e-6). The
// float32 cases that need exactness, such as logits of +-3e38 whose difference
// overflows, still come out right: the difference is -inf and its exp is 0, the true
// value rounded. Sums accumulate in double, lane by lane: a float accumulator would
// round every small term added to the max's 1 to float's ulp of 1, and log s, which is
// tiny when one class dominates, would lose up to 1e-4 of its value.
#include "cpu/softmax_arch.h"

#include <limits>

#include "cpu/simd.h"
#include "cpu/vector_math.h"

#ifndef AXONIC_ISA
#error "softmax_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

namespace axonic::cpu::AXONIC_ISA {

namespace {

// body(i, count) for each vector of the row: count == lanes except for the last one,
// which may be partial. In the main loop count is the constant lanes, so the
// partial-load branches of load_row and store_row fold away.
template <typename T, typename Body>
void for_each_vector(int64_t cols, const Body& body) {
  constexpr int64_t lanes = Simd<T>::lanes;
  int64_t i = 0;
  for (; i + lanes <= cols; i += lanes) body(i, lanes);
  if (i < cols) body(i, cols - i);
}

template <typename T>
Vector<T> load_row(const T* p, int64_t count, T fill) {
  return count == Simd<T>::lanes ? load(p) : load_partial(p, count, fill);
}

template <typename T>
void store_row(T* p, Vector<T> v, int64_t count) {
  if (count == Simd<T>::lanes)
    store(p, v);
  else
    store_partial(p, v, count);
}

// A double vector with as many lanes as Vector<T>: for float twice the bytes, which
// GCC keeps in two registers.
template <typename T>
struct DoubleLanes;

template <>
struct DoubleLanes<float> {
  typedef double Vector __attribute__((vector_size(2 * kVectorBytes)));
};

template <>
struct DoubleLanes<double> {
  typedef double Vector __attribute__((vector_size(kVectorBytes)));
};

// Adds vectors lane by lane in double.
template <typename T>
class DoubleSum {
 public:
  void add(Vector<T> v) { lanes_ += __builtin_convertvector(v, typename DoubleLanes<T>::Vector); }
  double total() const {
    double total = 0.0;
    for (int i = 0; i < Simd<T>::lanes; ++i) total += lanes_[i];
    return total;
  }

 private:
  typename DoubleLanes<T>::Vector lanes_{};
};

template <typename T>
constexpr T kMinusInfinity = -std::numeric_limits<T>::infinity();

template <typename T>
T row_max(const T* z, int64_t cols) {
  Vector<T> m = broadcast(kMinusInfinity<T>);
  for_each_vector<T>(cols, [&](int64_t i, int64_t count) {
    const Vector<T> v = load_row(z + i, count, kMinusInfinity<T>);
    m = v > m ? v : m;
  });
  return max_lanes(m);
}

template <typename T, bool kStore>
double exp_and_sum(const T* z, T* e, int64_t cols, T shift) {
  DoubleSum<T> sum;
  for_each_vector<T>(cols, [&](int64_t i, int64_t count) {
    const Vector<T> value = exp_nonpositive(load_row(z + i, count, kMinusInfinity<T>) - shift);
    if constexpr (kStore) store_row(e + i, value, count);
    sum.add(value);
  });
  return sum.total();
}

template <typename T>
double store_exp_and_sum(const T* z, T* e, int64_t cols, T shift) {
  return exp_and_sum<T, true>(z, e, cols, shift);
}

template <typename T>
double sum_exp(const T* z, int64_t cols, T shift) {
  return exp_and_sum<T, false>(z, nullptr, cols, shift);
}

template <typename T>
void scale(T* values, int64_t cols, T factor) {
  for_each_vector<T>(cols, [&](int64_t i, int64_t count) {
    store_row(values + i, load_row(values + i, count, T(0)) * factor, count);
  });
}

template <typename T>
void log_softmax(const T* z, T* y, int64_t cols, T max, T log_sum) {
  for_each_vector<T>(cols, [&](int64_t i, int64_t count) {
    store_row(y + i, (load_row(z + i, count, T(0)) - max) - log_sum, count);
  });
}

template <typename T>
void softmax_backward(const T* y, const T* grad_out, T* grad_in, int64_t cols) {
  DoubleSum<T> sum;
  for_each_vector<T>(cols, [&](int64_t i, int64_t count) {
    sum.add(load_row(grad_out + i, count, T(0)) * load_row(y + i, count, T(0)));
  });
  const T dot = static_cast<T>(sum.total());
  for_each_vector<T>(cols, [&](int64_t i, int64_t count) {
    const Vector<T> g = load_row(grad_out + i, count, T(0));
    store_row(grad_in + i, load_row(y + i, count, T(0)) * (g - dot), count);
  });
}

template <typename T>
void log_softmax_backward(const T* y, const T* grad_out, T* grad_in, int64_t cols) {
  DoubleSum<T> sum;
  for_each_vector<T>(cols, [&](int64_t i, int64_t count) {
    sum.add(load_row(grad_out + i, count, T(0)));
  });
  const T grad_sum = static_cast<T>(sum.total());
  for_each_vector<T>(cols, [&](int64_t i, int64_t count) {
    const Vector<T> g = load_row(grad_out + i, count, T(0));
    store_row(grad_in + i, g - exp(load_row(y + i, count, T(0))) * grad_sum, count);
  });
}

}  // namespace

template <typename T>
SoftmaxRowKernels<T> softmax_row_kernels() {
  return {row_max<T>,     store_exp_and_sum<T>, sum_exp<T>,           scale<T>,
          log_softmax<T>, softmax_backward<T>,  log_softmax_backward<T>};
}

template SoftmaxRowKernels<float> softmax_row_kernels<float>();
template SoftmaxRowKernels<double> softmax_row_kernels<double>();

}  // namespace axonic::cpu::AXONIC_ISA
