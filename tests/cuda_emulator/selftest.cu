// Kernels that test the CUDA emulator itself (tests/test_cuda_emulator.py), built by
// build.py's build_selftest_module as the extension `_emulator_selftest`. Written as
// CUDA (launched through AXONIC_LAUNCH, like csrc/cuda), compiled only for the emulator:
// host memory is device memory there, so the functions take NumPy arrays directly.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <chrono>
#include <stdexcept>

#include "cuda/runtime.cuh"

namespace py = pybind11;
using axonic::cuda::blocks_for;

namespace {

template <class T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T>
T* data(Array<T>& a) {
  return a.mutable_data();
}

// --- block reduction: static shared memory and a tree of __syncthreads -------------------
constexpr int kReduceThreads = 256;

__global__ void block_sum_kernel(const float* x, int64_t n, float* sums) {
  __shared__ float partial[kReduceThreads];
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  partial[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[blockIdx.x] = partial[0];
}

Array<float> block_sums(Array<float> x) {
  const int64_t n = x.size();
  const unsigned blocks = blocks_for(n, kReduceThreads);
  Array<float> sums(blocks);
  AXONIC_LAUNCH(block_sum_kernel, blocks, kReduceThreads, 0, nullptr, x.data(), n, data(sums));
  return sums;
}

// --- warp shuffles: a sum by __shfl_down_sync, a max by __shfl_xor_sync (widths) --------
template <class T>
__global__ void warp_reduce_kernel(const T* x, T* sums, T* maxima, int width) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  T sum = x[i], best = x[i];
  for (int offset = width / 2; offset > 0; offset /= 2) {
    sum += __shfl_down_sync(0xffffffffu, sum, offset, width);
    const T other = __shfl_xor_sync(0xffffffffu, best, offset, width);
    best = other > best ? other : best;
  }
  if (threadIdx.x % width == 0) sums[i / width] = sum;
  maxima[i] = best;  // every lane of a segment holds the segment's max
}

template <class T>
py::tuple warp_reduce(Array<T> x, int width) {
  const int64_t n = x.size();
  if (n % 64 != 0) throw std::invalid_argument("warp_reduce: size must be a multiple of 64");
  Array<T> sums(n / width), maxima(n);
  AXONIC_LAUNCH((warp_reduce_kernel<T>), static_cast<unsigned>(n / 64), 64, 0, nullptr,
                x.data(), data(sums), data(maxima), width);
  return py::make_tuple(sums, maxima);
}

// __shfl_sync (broadcast and rotate) and __shfl_up_sync: out[i] = {lane 3's value,
// value of lane (lane + 1) % 32, up-shifted value}.
__global__ void shuffle_kernel(const int* x, int* broadcast, int* rotate, int* up) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int lane = threadIdx.x % 32;
  broadcast[i] = __shfl_sync(0xffffffffu, x[i], 3);
  rotate[i] = __shfl_sync(0xffffffffu, x[i], lane + 1);
  up[i] = __shfl_up_sync(0xffffffffu, x[i], 2);
}

py::tuple shuffles(Array<int> x) {
  const int64_t n = x.size();
  Array<int> broadcast(n), rotate(n), up(n);
  AXONIC_LAUNCH(shuffle_kernel, static_cast<unsigned>(n / 32), 32, 0, nullptr, x.data(),
                data(broadcast), data(rotate), data(up));
  return py::make_tuple(broadcast, rotate, up);
}

// --- votes: __ballot_sync / __any_sync / __all_sync per warp, __syncthreads_* per block ----
__global__ void vote_kernel(const int* predicate, unsigned* ballot, int* any, int* all,
                            int* block_count, int* block_or, int* block_and) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int p = predicate[i];
  const unsigned b = __ballot_sync(0xffffffffu, p);
  const int a = __any_sync(0xffffffffu, p);
  const int l = __all_sync(0xffffffffu, p);
  const int count = __syncthreads_count(p);
  const int some = __syncthreads_or(p);
  const int every = __syncthreads_and(p);
  if (threadIdx.x % 32 == 0) {
    ballot[i / 32] = b;
    any[i / 32] = a;
    all[i / 32] = l;
  }
  if (threadIdx.x == 0) {
    block_count[blockIdx.x] = count;
    block_or[blockIdx.x] = some;
    block_and[blockIdx.x] = every;
  }
}

py::tuple votes(Array<int> predicate, int threads) {
  const int64_t n = predicate.size();
  const int64_t blocks = n / threads;
  Array<unsigned> ballot(n / 32);
  Array<int> any(n / 32), all(n / 32), count(blocks), some(blocks), every(blocks);
  AXONIC_LAUNCH(vote_kernel, static_cast<unsigned>(blocks), threads, 0, nullptr,
                predicate.data(), data(ballot), data(any), data(all), data(count), data(some),
                data(every));
  return py::make_tuple(ballot, any, all, count, some, every);
}

// --- atomics: a histogram by atomicAdd, a max by atomicMax, a float total ------------------
__global__ void histogram_kernel(const int* values, int64_t n, int bins, unsigned* counts,
                                 int* maximum, float* total) {
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i >= n) return;
  atomicAdd(&counts[values[i] % bins], 1u);
  atomicMax(maximum, values[i]);
  atomicAdd(total, 1.0f);
}

py::tuple histogram(Array<int> values, int bins) {
  const int64_t n = values.size();
  Array<unsigned> counts(bins);
  Array<int> maximum(1);
  Array<float> total(1);
  std::fill_n(data(counts), bins, 0u);
  data(maximum)[0] = -1;
  data(total)[0] = 0.0f;
  AXONIC_LAUNCH(histogram_kernel, blocks_for(n, 128), 128, 0, nullptr, values.data(), n, bins,
                data(counts), data(maximum), data(total));
  return py::make_tuple(counts, maximum[py::int_(0)], total[py::int_(0)]);
}

// Threads of one block take turns in reverse order, each spinning with atomicCAS until
// the turn is its own: only works if a failed atomicCAS lets the other threads run.
__global__ void reverse_turns_kernel(int* turn, int* order) {
  const int me = static_cast<int>(blockDim.x - 1 - threadIdx.x);
  while (atomicCAS(turn, me, me) != me) {
  }
  order[me] = static_cast<int>(threadIdx.x);
  atomicExch(turn, me + 1);
}

Array<int> reverse_turns(int threads) {
  Array<int> order(threads);
  int turn = 0;
  AXONIC_LAUNCH(reverse_turns_kernel, 1, threads, 0, nullptr, &turn, data(order));
  return order;
}

// Two threads spinning on a value no thread of their block will ever write.
__global__ void spin_forever_kernel(int* flag) {
  if (threadIdx.x < 2)
    while (atomicCAS(flag, 1, 0) != 1) {
    }
}

// --- dynamic shared memory: each block reverses its slice through it ------------------------
template <class T>
__global__ void reverse_kernel(const T* x, T* out) {
  T* buffer = axonic::cuda::dynamic_shared<T>();
  const unsigned base = blockIdx.x * blockDim.x;
  buffer[threadIdx.x] = x[base + threadIdx.x];
  __syncthreads();
  out[base + threadIdx.x] = buffer[blockDim.x - 1 - threadIdx.x];
}

Array<double> reverse_blocks(Array<double> x, int threads, int64_t shared_bytes,
                             int64_t raise_limit_to) {
  const int64_t n = x.size();
  Array<double> out(n);
  if (raise_limit_to > 0)
    AXONIC_CUDA_CHECK(cudaFuncSetAttribute(reverse_kernel<double>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(raise_limit_to)));
  AXONIC_LAUNCH((reverse_kernel<double>), static_cast<unsigned>(n / threads), threads,
                static_cast<size_t>(shared_bytes), nullptr, x.data(), data(out));
  return out;
}

// Dynamic shared memory a kernel reads without writing: NaN (0xff bytes), as documented.
__global__ void read_unwritten_shared_kernel(float* out) {
  out[threadIdx.x] = axonic::cuda::dynamic_shared<float>()[threadIdx.x];
}

Array<float> read_unwritten_shared(int threads) {
  Array<float> out(threads);
  AXONIC_LAUNCH(read_unwritten_shared_kernel, 1, threads, threads * sizeof(float), nullptr,
                data(out));
  return out;
}

// --- threads that return early leave the barriers -----------------------------------------------
__global__ void early_return_kernel(const float* x, int live, float* sums) {
  __shared__ float partial[256];
  if (static_cast<int>(threadIdx.x) >= live) return;
  partial[threadIdx.x] = x[blockIdx.x * blockDim.x + threadIdx.x];
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.0f;
    for (int t = 0; t < live; ++t) s += partial[t];
    sums[blockIdx.x] = s;
  }
  __syncthreads();
  if (threadIdx.x < 32) {
    // Warp 0's live lanes: the lanes that returned are neither active nor waited for.
    const unsigned mask = __ballot_sync(__activemask(), 1);
    if (__popc(mask) != (live < 32 ? live : 32)) __trap();
  }
}

Array<float> early_return(Array<float> x, int threads, int live) {
  const int64_t blocks = x.size() / threads;
  Array<float> sums(blocks);
  AXONIC_LAUNCH(early_return_kernel, static_cast<unsigned>(blocks), threads, 0, nullptr,
                x.data(), live, data(sums));
  return sums;
}

// A race: the last thread sums what the others wrote, with no __syncthreads between.
// In the default order every other thread has written by then; AXONIC_EMULATOR_REVERSE=1
// runs the last thread first and shows the bug.
__global__ void racy_sum_kernel(float* sum) {
  __shared__ float values[64];
  values[threadIdx.x] = 1.0f;
  if (threadIdx.x == blockDim.x - 1) {
    float s = 0.0f;
    for (unsigned t = 0; t < blockDim.x; ++t) s += values[t];
    *sum = s;
  }
}

float racy_sum() {
  float sum = 0.0f;
  AXONIC_LAUNCH(racy_sum_kernel, 1, 64, 0, nullptr, &sum);
  return sum;
}

// --- built-in variables over 3-D grids and blocks; by-value parameters per thread ------------
__global__ void coordinates_kernel(int* out, int offset) {
  const int block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const int thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const int threads = blockDim.x * blockDim.y * blockDim.z;
  offset += block * threads + thread;  // each thread has its own copy of `offset`
  out[offset] = (block << 16) | thread;
}

Array<int> coordinates(py::tuple grid, py::tuple block) {
  const dim3 g(grid[0].cast<unsigned>(), grid[1].cast<unsigned>(), grid[2].cast<unsigned>());
  const dim3 b(block[0].cast<unsigned>(), block[1].cast<unsigned>(), block[2].cast<unsigned>());
  Array<int> out(int64_t{g.x} * g.y * g.z * b.x * b.y * b.z);
  AXONIC_LAUNCH(coordinates_kernel, g, b, 0, nullptr, data(out), 0);
  return out;
}

// --- what must fail ---------------------------------------------------------------------------
// A launch the GPU refuses: the error comes back through AXONIC_LAUNCH's check.
__global__ void empty_kernel(int*) {}

void bad_launch(py::tuple block) {
  const dim3 b(block[0].cast<unsigned>(), block[1].cast<unsigned>(), block[2].cast<unsigned>());
  AXONIC_LAUNCH(empty_kernel, 1, b, 0, nullptr, nullptr);
}

// Threads of one block in two different __syncthreads.
__global__ void divergent_sync_kernel(int* out) {
  if (threadIdx.x < 32) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

// Half a warp in __syncwarp, the other half at __syncthreads: nobody can continue.
__global__ void deadlock_kernel(int* out) {
  if (threadIdx.x % 32 < 16) __syncwarp();
  else __syncthreads();
  out[threadIdx.x] = 1;
}

// A full-mask shuffle reading a lane that has returned.
__global__ void shuffle_exited_lane_kernel(float* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.0f, 8);
}

__global__ void trap_kernel(int*) {
  if (threadIdx.x == 3) __trap();
}

// A kernel throwing (as a device-side check would) comes out as the same exception.
__global__ void throwing_kernel(int* out) {
  if (blockIdx.x == 1 && threadIdx.x == 5) throw std::invalid_argument("thrown by a kernel");
  __syncthreads();
  out[threadIdx.x] = 1;
}

// Reads one element past the end of its input: only AddressSanitizer can tell
// (AXONIC_EMULATOR_ASAN=1; the test runs it in a subprocess).
__global__ void out_of_bounds_kernel(const float* x, float* out) {
  out[threadIdx.x] = x[threadIdx.x + 1];  // the last thread reads x[n]
}

float out_of_bounds_read(Array<float> x) {
  const int n = static_cast<int>(x.size());
  std::vector<float> out(n);
  AXONIC_LAUNCH(out_of_bounds_kernel, 1, n, 0, nullptr, x.data(), out.data());
  return out[n - 1];
}

void run_failing(const std::string& which) {
  std::vector<int> out(1024);
  std::vector<float> fout(64);
  if (which == "divergent_sync")
    AXONIC_LAUNCH(divergent_sync_kernel, 1, 64, 0, nullptr, out.data());
  else if (which == "deadlock") AXONIC_LAUNCH(deadlock_kernel, 1, 64, 0, nullptr, out.data());
  else if (which == "shuffle_exited_lane")
    AXONIC_LAUNCH(shuffle_exited_lane_kernel, 1, 32, 0, nullptr, fout.data());
  else if (which == "throw") AXONIC_LAUNCH(throwing_kernel, 2, 64, 0, nullptr, out.data());
  else if (which == "trap") AXONIC_LAUNCH(trap_kernel, 1, 64, 0, nullptr, out.data());
  else if (which == "spin_forever") AXONIC_LAUNCH(spin_forever_kernel, 1, 64, 0, nullptr,
                                                  out.data());
  else throw std::invalid_argument("unknown failing kernel " + which);
}

// --- cost of a switch between fibers ------------------------------------------------------------
__global__ void barrier_loop_kernel(int iterations, int* out) {
  __shared__ int slots[1024];
  int acc = 0;
  for (int i = 0; i < iterations; ++i) {
    slots[threadIdx.x] = i;
    __syncthreads();
    acc += slots[(threadIdx.x + 1) % blockDim.x];
    __syncthreads();  // before the next iteration overwrites what a neighbour reads
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = acc;
}

// Nanoseconds per fiber switch (one per thread per __syncthreads), over a launch of
// `blocks` x `threads` threads looping over two barriers.
double barrier_cost_ns(int blocks, int threads, int iterations) {
  std::vector<int> out(static_cast<size_t>(blocks) * threads);
  const auto start = std::chrono::steady_clock::now();
  AXONIC_LAUNCH(barrier_loop_kernel, blocks, threads, 0, nullptr, iterations, out.data());
  const std::chrono::duration<double, std::nano> elapsed =
      std::chrono::steady_clock::now() - start;
  const int expected = iterations * (iterations - 1) / 2;
  for (int v : out)
    if (v != expected) throw std::runtime_error("barrier_loop_kernel computed a wrong sum");
  return elapsed.count() / (2.0 * blocks * threads * iterations);
}

}  // namespace

PYBIND11_MODULE(_emulator_selftest, m) {
  m.doc() = "Kernels that test the CUDA emulator (tests/test_cuda_emulator.py)";
  m.def("block_sums", &block_sums, py::arg("x"));
  m.def("warp_reduce_f32", &warp_reduce<float>, py::arg("x"), py::arg("width") = 32);
  m.def("warp_reduce_f64", &warp_reduce<double>, py::arg("x"), py::arg("width") = 32);
  m.def("warp_reduce_i32", &warp_reduce<int>, py::arg("x"), py::arg("width") = 32);
  m.def("warp_reduce_u32", &warp_reduce<unsigned>, py::arg("x"), py::arg("width") = 32);
  m.def("warp_reduce_i64", &warp_reduce<int64_t>, py::arg("x"), py::arg("width") = 32);
  m.def("shuffles", &shuffles, py::arg("x"));
  m.def("votes", &votes, py::arg("predicate"), py::arg("threads"));
  m.def("histogram", &histogram, py::arg("values"), py::arg("bins"));
  m.def("reverse_turns", &reverse_turns, py::arg("threads"));
  m.def("reverse_blocks", &reverse_blocks, py::arg("x"), py::arg("threads"),
        py::arg("shared_bytes"), py::arg("raise_limit_to") = 0);
  m.def("read_unwritten_shared", &read_unwritten_shared, py::arg("threads"));
  m.def("early_return", &early_return, py::arg("x"), py::arg("threads"), py::arg("live"));
  m.def("racy_sum", &racy_sum);
  m.def("coordinates", &coordinates, py::arg("grid"), py::arg("block"));
  m.def("bad_launch", &bad_launch, py::arg("block"));
  m.def("run_failing", &run_failing, py::arg("which"));
  m.def("out_of_bounds_read", &out_of_bounds_read, py::arg("x"));
  m.def("barrier_cost_ns", &barrier_cost_ns, py::arg("blocks"), py::arg("threads"),
        py::arg("iterations"));
  m.def("take_last_error", [] { return std::string(cudaGetErrorName(cudaGetLastError())); });
}
