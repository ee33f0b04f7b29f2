// Fused optimizer updates on CUDA: every tensor of a list in one launch (multi-tensor
// apply). Formulas and state layout: common/optimizer_options.h; the NumPy twin is
// backends/reference_optimizers.py, the CPU loops cpu/optimizer_updates_arch.cpp.
//
// Work: each tensor is cut into chunks of kChunkElements (its last chunk shorter),
// numbered across the list. The host builds a table with one SlotRow per non-empty
// tensor (its device pointers, its coefficients rounded to T, its length and the
// number of its first chunk) in pageable memory and cudaMemcpyAsync's it into
// stream-ordered scratch (stream_scratch.cuh). A copy from pageable memory has
// consumed the host buffer when cudaMemcpyAsync returns, and the scratch is freed on
// the stream after the kernel, so nothing waits. A device table rather than kernel
// parameters: any number of tensors in one launch, through one code path.
// Block b takes chunks b, b + gridDim.x, ... (at most kMaxBlocks blocks of kThreads,
// a few waves of a large GPU) and finds each chunk's tensor by a binary search over
// the first-chunk column (a few cached loads per 16K elements).
//
// Inside a chunk the threads step through 16-byte packs (a float4 or double2 worth),
// kUnroll packs in flight per thread: param, grad and each state the tensor has load
// one pack each, the rule runs per lane, param and the states are stored back. Every
// access is a full-width coalesced vector (Adam float32: 4 loads and 3 stores, 28
// bytes per element), which is what a bandwidth-bound update needs. A tensor any of
// whose buffers is not 16-byte aligned (a view into a flat buffer) goes element by
// element; so do the last n % lanes elements of a chunk.
//
// Options that change the formula (weight decay, momentum, nesterov, centered,
// amsgrad, maximize) are runtime fields of the rule: the branches are uniform over
// the grid and free next to the memory traffic, and each optimizer keeps one kernel.
// Arithmetic is in T in the CPU loops' order of operations; sqrt and division are
// IEEE-rounded (no fast math).
#include "cuda/optimizer_updates.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cuda/runtime.cuh"
#include "cuda/stream_scratch.cuh"

namespace axonic::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kUnroll = 2;
constexpr int64_t kChunkElements = int64_t{1} << 14;
constexpr int64_t kMaxBlocks = 2048;

// One tensor of a launch.
template <typename T>
struct SlotRow {
  T* param;
  const T* grad;
  T* state[3];  // nullptr where the optimizer's options leave that state out
  T coef[3];
  int64_t n;
  int64_t first_chunk;
  bool packed;  // every buffer 16-byte aligned: the vector path applies
};

// 16 bytes of T (float4, double2): one 128-bit load or store.
template <typename T>
struct PackOf;
template <>
struct PackOf<float> {
  using type = float4;
};
template <>
struct PackOf<double> {
  using type = double2;
};
template <typename T>
constexpr int kLanes = 16 / static_cast<int>(sizeof(T));

template <typename T, typename Pack>
__device__ __forceinline__ T& lane(Pack& pack, int i) {
  return reinterpret_cast<T*>(&pack)[i];
}

// torch.lerp(a, b, w), exact at both ends.
template <typename T>
__device__ __forceinline__ T lerp(T a, T b, T w) {
  return w < T(0.5) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

// torch.maximum: NaN when either is.
template <typename T>
__device__ __forceinline__ T nan_max(T a, T b) {
  return (a > b || a != a) ? a : b;
}

// Where every update starts: p scaled by 1 - lr * weight_decay under decoupled
// decay, then g = (maximize ? -grad : grad) + weight_decay * p under coupled decay.
template <typename T>
struct GradientStart {
  T sign, weight_decay, param_scale;
  bool coupled, decoupled;

  GradientStart(bool maximize, double decay, bool decoupled_decay = false, double lr = 0)
      : sign(maximize ? T(-1) : T(1)),
        weight_decay(T(decay)),
        param_scale(T(1 - lr * decay)),
        coupled(decay != 0 && !decoupled_decay),
        decoupled(decay != 0 && decoupled_decay) {}

  __device__ T decayed(T p) const { return decoupled ? p * param_scale : p; }
  __device__ T operator()(T grad, T p) const {
    const T g = sign * grad;
    return coupled ? g + weight_decay * p : g;
  }
};

// Rule<T, XOptions> updates one element of optimizer X: p and the states s (in the
// order of the options struct) in place, from its gradient and its tensor's
// coefficients.
template <typename T, typename Options>
struct Rule;

template <typename T>
struct Rule<T, SgdOptions> {
  static constexpr int kStates = 1;  // state buffers it may use
  GradientStart<T> start;
  T lr, momentum;
  bool with_momentum, nesterov;

  explicit Rule(const SgdOptions& o)
      : start(o.maximize, o.weight_decay), lr(T(o.lr)), momentum(T(o.momentum)),
        with_momentum(o.momentum != 0), nesterov(o.nesterov) {}

  __device__ void operator()(T& p, T grad, T (&s)[kStates], const T (&coef)[3]) const {
    T g = start(grad, p);
    if (with_momentum) {
      const T b = coef[0] * s[0] + coef[1] * g;
      s[0] = b;
      g = nesterov ? g + momentum * b : b;
    }
    p = p - lr * g;
  }
};

template <typename T>
struct Rule<T, AdagradOptions> {
  static constexpr int kStates = 1;  // state buffers it may use
  GradientStart<T> start;
  T eps;

  explicit Rule(const AdagradOptions& o) : start(o.maximize, o.weight_decay), eps(T(o.eps)) {}

  __device__ void operator()(T& p, T grad, T (&s)[kStates], const T (&coef)[3]) const {
    const T g = start(grad, p);
    const T accumulated = s[0] + g * g;
    s[0] = accumulated;
    p = p - coef[0] * (g / (std::sqrt(accumulated) + eps));
  }
};

template <typename T>
struct Rule<T, RmspropOptions> {
  static constexpr int kStates = 3;  // state buffers it may use
  GradientStart<T> start;
  T lr, alpha, eps, momentum, one_minus_alpha;
  bool centered, with_momentum;

  explicit Rule(const RmspropOptions& o)
      : start(o.maximize, o.weight_decay), lr(T(o.lr)), alpha(T(o.alpha)), eps(T(o.eps)),
        momentum(T(o.momentum)), one_minus_alpha(T(1 - o.alpha)), centered(o.centered),
        with_momentum(o.momentum > 0) {}

  __device__ void operator()(T& p, T grad, T (&s)[kStates], const T (&coef)[3]) const {
    const T g = start(grad, p);
    const T v = s[0] * alpha + one_minus_alpha * (g * g);
    s[0] = v;
    T variance = v;
    if (centered) {
      const T a = lerp(s[1], g, one_minus_alpha);
      s[1] = a;
      variance = v - a * a;
    }
    const T denom = std::sqrt(variance) + eps;
    if (with_momentum) {
      const T b = s[2] * momentum + g / denom;
      s[2] = b;
      p = p - lr * b;
    } else {
      p = p - lr * (g / denom);
    }
  }
};

template <typename T>
struct Rule<T, AdadeltaOptions> {
  static constexpr int kStates = 2;  // state buffers it may use
  GradientStart<T> start;
  T lr, rho, eps, one_minus_rho;

  explicit Rule(const AdadeltaOptions& o)
      : start(o.maximize, o.weight_decay), lr(T(o.lr)), rho(T(o.rho)), eps(T(o.eps)),
        one_minus_rho(T(1 - o.rho)) {}

  __device__ void operator()(T& p, T grad, T (&s)[kStates], const T (&coef)[3]) const {
    const T g = start(grad, p);
    const T v = s[0] * rho + one_minus_rho * (g * g);
    s[0] = v;
    // One root of the quotient, as the CPU loop takes it.
    const T delta = std::sqrt((s[1] + eps) / (v + eps)) * g;
    s[1] = s[1] * rho + one_minus_rho * (delta * delta);
    p = p - lr * delta;
  }
};

template <typename T>
struct Rule<T, AdamOptions> {
  static constexpr int kStates = 3;  // state buffers it may use
  GradientStart<T> start;
  T beta2, eps, one_minus_beta1, one_minus_beta2;
  bool amsgrad;

  explicit Rule(const AdamOptions& o)
      : start(o.maximize, o.weight_decay, o.decoupled_weight_decay, o.lr), beta2(T(o.beta2)),
        eps(T(o.eps)), one_minus_beta1(T(1 - o.beta1)), one_minus_beta2(T(1 - o.beta2)),
        amsgrad(o.amsgrad) {}

  // coef: step_size, sqrt(bias_correction2).
  __device__ void operator()(T& p, T grad, T (&s)[kStates], const T (&coef)[3]) const {
    const T param = start.decayed(p);
    const T g = start(grad, param);
    const T m = lerp(s[0], g, one_minus_beta1);
    s[0] = m;
    T v = s[1] * beta2 + one_minus_beta2 * (g * g);
    s[1] = v;
    if (amsgrad) {
      v = nan_max(s[2], v);
      s[2] = v;
    }
    const T denom = std::sqrt(v) / coef[1] + eps;
    p = param - coef[0] * (m / denom);
  }
};

template <typename T>
struct Rule<T, AdamaxOptions> {
  static constexpr int kStates = 2;  // state buffers it may use
  GradientStart<T> start;
  T beta2, eps, one_minus_beta1;

  explicit Rule(const AdamaxOptions& o)
      : start(o.maximize, o.weight_decay), beta2(T(o.beta2)), eps(T(o.eps)),
        one_minus_beta1(T(1 - o.beta1)) {}

  // coef: clr.
  __device__ void operator()(T& p, T grad, T (&s)[kStates], const T (&coef)[3]) const {
    const T g = start(grad, p);
    const T m = lerp(s[0], g, one_minus_beta1);
    s[0] = m;
    const T u = nan_max(s[1] * beta2, std::abs(g) + eps);
    s[1] = u;
    p = p - coef[0] * (m / u);
  }
};

template <typename T>
struct Rule<T, NadamOptions> {
  static constexpr int kStates = 2;  // state buffers it may use
  GradientStart<T> start;
  T beta2, eps, one_minus_beta1, one_minus_beta2;

  explicit Rule(const NadamOptions& o)
      : start(o.maximize, o.weight_decay, o.decoupled_weight_decay, o.lr), beta2(T(o.beta2)),
        eps(T(o.eps)), one_minus_beta1(T(1 - o.beta1)), one_minus_beta2(T(1 - o.beta2)) {}

  // coef: grad_step, avg_step, bias_correction2.
  __device__ void operator()(T& p, T grad, T (&s)[kStates], const T (&coef)[3]) const {
    T param = start.decayed(p);
    const T g = start(grad, param);
    const T m = lerp(s[0], g, one_minus_beta1);
    s[0] = m;
    const T v = s[1] * beta2 + one_minus_beta2 * (g * g);
    s[1] = v;
    const T denom = std::sqrt(v / coef[2]) + eps;
    param = param - coef[0] * (g / denom);
    p = param - coef[1] * (m / denom);
  }
};

// Elements [begin, end) of one tensor, one element per thread and step.
template <typename T, typename Update>
__device__ void update_elements(const Update& rule, const SlotRow<T>& row, int64_t begin,
                                int64_t end) {
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T s[Update::kStates];
    for (int k = 0; k < Update::kStates; ++k)
      s[k] = row.state[k] != nullptr ? row.state[k][i] : T(0);
    T p = row.param[i];
    rule(p, row.grad[i], s, row.coef);
    row.param[i] = p;
    for (int k = 0; k < Update::kStates; ++k)
      if (row.state[k] != nullptr) row.state[k][i] = s[k];
  }
}

// Packs [0, packs) of the 16-byte aligned elements from `begin` on, kUnroll packs per
// thread and step, all loads issued before any arithmetic. __ldcg / __stcg: global
// accesses cached in L2 only (each element is touched once), which also tells the
// compiler the table's pointers are global ones.
template <typename T, typename Update>
__device__ void update_packs(const Update& rule, const SlotRow<T>& row, int64_t begin,
                             int64_t packs) {
  using P = typename PackOf<T>::type;
  P* param = reinterpret_cast<P*>(row.param + begin);
  const P* grad = reinterpret_cast<const P*>(row.grad + begin);
  constexpr int kStates = Update::kStates;
  P* state[kStates];
  for (int k = 0; k < kStates; ++k)
    state[k] = row.state[k] != nullptr ? reinterpret_cast<P*>(row.state[k] + begin) : nullptr;
  const int64_t stride = blockDim.x;
  for (int64_t first = threadIdx.x; first < packs; first += stride * kUnroll) {
    P p[kUnroll], g[kUnroll], s[kUnroll][kStates] = {};
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = first + u * stride;
      if (i >= packs) break;
      p[u] = __ldcg(param + i);
      g[u] = __ldcg(grad + i);
      for (int k = 0; k < kStates; ++k)
        if (state[k] != nullptr) s[u][k] = __ldcg(state[k] + i);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = first + u * stride;
      if (i >= packs) break;
#pragma unroll
      for (int l = 0; l < kLanes<T>; ++l) {
        T lane_state[kStates];
        for (int k = 0; k < kStates; ++k) lane_state[k] = lane<T>(s[u][k], l);
        rule(lane<T>(p[u], l), lane<T>(g[u], l), lane_state, row.coef);
        for (int k = 0; k < kStates; ++k) lane<T>(s[u][k], l) = lane_state[k];
      }
      __stcg(param + i, p[u]);
      for (int k = 0; k < kStates; ++k)
        if (state[k] != nullptr) __stcg(state[k] + i, s[u][k]);
    }
  }
}

// Grid-stride over the launch's chunks; see the file comment.
template <typename T, typename Update>
__global__ void fused_update_kernel(const SlotRow<T>* rows, int count, int64_t chunks,
                                    Update rule) {
  for (int64_t chunk = blockIdx.x; chunk < chunks; chunk += gridDim.x) {
    int lo = 0, hi = count - 1;  // the last row whose first chunk is <= chunk
    while (lo < hi) {
      const int mid = (lo + hi + 1) / 2;
      if (rows[mid].first_chunk <= chunk) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    const SlotRow<T> row = rows[lo];
    const int64_t begin = (chunk - row.first_chunk) * kChunkElements;
    const int64_t end = row.n - begin < kChunkElements ? row.n : begin + kChunkElements;
    int64_t tail = begin;
    if (row.packed) {
      const int64_t packs = (end - begin) / kLanes<T>;
      update_packs(rule, row, begin, packs);
      tail = begin + packs * kLanes<T>;
    }
    update_elements(rule, row, tail, end);
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <typename T, typename Update>
void launch_update(const Update& rule, const std::vector<ParamSlot<T>>& slots,
                   cudaStream_t stream) {
  std::vector<SlotRow<T>> rows;
  int64_t chunks = 0;
  for (const ParamSlot<T>& slot : slots) {
    if (slot.n == 0) continue;
    bool packed = aligned16(slot.param) && aligned16(slot.grad);
    for (T* state : slot.state) packed = packed && aligned16(state);  // nullptr is aligned
    rows.push_back({slot.param, slot.grad, {slot.state[0], slot.state[1], slot.state[2]},
                    {T(slot.coef[0]), T(slot.coef[1]), T(slot.coef[2])}, slot.n, chunks,
                    packed});
    chunks += (slot.n + kChunkElements - 1) / kChunkElements;
  }
  if (rows.empty()) return;
  const size_t bytes = rows.size() * sizeof(SlotRow<T>);
  StreamScratch table(bytes, stream);
  AXONIC_CUDA_CHECK(cudaMemcpyAsync(table.get<void>(), rows.data(), bytes,
                                    cudaMemcpyHostToDevice, stream));
  const auto blocks = static_cast<unsigned>(std::min(chunks, kMaxBlocks));
  AXONIC_LAUNCH((fused_update_kernel<T, Update>), dim3(blocks), dim3(kThreads), 0, stream,
                table.get<const SlotRow<T>>(), static_cast<int>(rows.size()), chunks, rule);
}

}  // namespace

template <typename T, typename Options>
void fused_update(const Options& options, const std::vector<ParamSlot<T>>& slots,
                  cudaStream_t stream) {
  launch_update(Rule<T, Options>(options), slots, stream);
}

#define AXONIC_INSTANTIATE_FUSED_UPDATE(Options)                                            \
  template void fused_update<float, Options>(const Options&,                               \
                                             const std::vector<ParamSlot<float>>&,          \
                                             cudaStream_t);                                 \
  template void fused_update<double, Options>(const Options&,                              \
                                              const std::vector<ParamSlot<double>>&,        \
                                              cudaStream_t);

AXONIC_INSTANTIATE_FUSED_UPDATE(SgdOptions)
AXONIC_INSTANTIATE_FUSED_UPDATE(AdagradOptions)
AXONIC_INSTANTIATE_FUSED_UPDATE(RmspropOptions)
AXONIC_INSTANTIATE_FUSED_UPDATE(AdadeltaOptions)
AXONIC_INSTANTIATE_FUSED_UPDATE(AdamOptions)
AXONIC_INSTANTIATE_FUSED_UPDATE(AdamaxOptions)
AXONIC_INSTANTIATE_FUSED_UPDATE(NadamOptions)

#undef AXONIC_INSTANTIATE_FUSED_UPDATE

void device_copy(const void* src, void* dst, int64_t bytes, cudaStream_t stream) {
  if (bytes > 0)
    AXONIC_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes),
                                      cudaMemcpyDeviceToDevice, stream));
}

}  // namespace axonic::cuda
