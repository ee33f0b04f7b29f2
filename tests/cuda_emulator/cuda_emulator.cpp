// The CUDA emulator's scheduler and runtime (declared in cuda_emulator.h).
//
// A launch runs its blocks one after another on the calling thread. A block's threads
// are fibers: each has its own stack (kept and reused across blocks and launches) and
// runs until it blocks in __syncthreads or a warp operation, or returns; then the next
// ready fiber runs (a FIFO queue, so the order is deterministic). The switch is a few
// register pushes (x86-64 assembly below; ucontext elsewhere). A barrier completes when
// every live thread (block) or every live lane named in the mask (warp) has arrived;
// the thread that completes it marks the others ready and carries on. A thread that
// returns leaves every barrier, as on the GPU. When nothing is ready but threads still
// wait, no barrier can ever complete: the launch fails with a report of who waits where.
//
// Launches are serialised by a mutex (the built-in variables, the fibers and static
// __shared__ arrays are process-wide).
#define AXONIC_EMULATOR_IMPLEMENTATION  // defines the built-ins below, writable
#include "cuda_emulator.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <sstream>

// AXONIC_EMULATOR_UCONTEXT forces the portable switch (to test it on x86-64).
#if defined(__x86_64__) && !defined(AXONIC_EMULATOR_UCONTEXT)
#define AXONIC_EMULATOR_X86_64_SWITCH 1
#else
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace axonic_emulator {

namespace detail {
// threadIdx, blockIdx, blockDim and gridDim of the running fiber.
uint3 thread_idx __asm__("axonic_emulator_thread_idx");
uint3 block_idx __asm__("axonic_emulator_block_idx");
dim3 block_dim __asm__("axonic_emulator_block_dim");
dim3 grid_dim __asm__("axonic_emulator_grid_dim");
}  // namespace detail

namespace {

using detail::BlockOp;
using detail::WarpOp;

// --- context switch ------------------------------------------------------------------
extern "C" [[noreturn]] void axonic_emulator_fiber_main();

#if defined(AXONIC_EMULATOR_X86_64_SWITCH)
// switch_stack(&save_sp, next_sp): pushes the callee-saved registers, stores the stack
// pointer, loads the next one and pops its registers; `ret` resumes the other fiber.
extern "C" void axonic_emulator_switch_stack(void** save_sp, void* next_sp);
asm(R"(
  .text
  .p2align 4
  .globl axonic_emulator_switch_stack
  .hidden axonic_emulator_switch_stack
  .type axonic_emulator_switch_stack, @function
axonic_emulator_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size axonic_emulator_switch_stack, .-axonic_emulator_switch_stack
)");

struct Context {
  void* sp = nullptr;
};

// A fresh fiber's stack: six zero registers, then fiber_main as the return address and a
// null fake return address above it (fiber_main starts with the ABI's alignment).
void prepare_context(Context& c, unsigned char* stack, size_t size) {
  auto top = reinterpret_cast<uintptr_t>(stack + size) & ~uintptr_t{15};
  void** sp = reinterpret_cast<void**>(top);
  *--sp = nullptr;
  *--sp = reinterpret_cast<void*>(&axonic_emulator_fiber_main);
  for (int i = 0; i < 6; ++i) *--sp = nullptr;
  c.sp = sp;
}
inline void switch_context(Context& from, Context& to) {
  axonic_emulator_switch_stack(&from.sp, to.sp);
}
#else
struct Context {
  ucontext_t uc;
};
void prepare_context(Context& c, unsigned char* stack, size_t size) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = size;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, reinterpret_cast<void (*)()>(&axonic_emulator_fiber_main), 0);
}
inline void switch_context(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
#endif

// --- fibers ------------------------------------------------------------------------------
enum class State : uint8_t { ready, running, block_wait, warp_wait, done };

struct Fiber {
  Context context;
  unsigned char* stack = nullptr;  // usable part, above a guard page
  size_t stack_size = 0;
  uint3 idx{};
  int warp = 0, lane = 0;
  State state = State::ready;
  std::source_location site;  // where it waits
  // __syncthreads*
  BlockOp block_op = BlockOp::sync;
  int predicate = 0;
  int block_result = 0;
  // warp operations
  WarpOp warp_op = WarpOp::sync;
  unsigned mask = 0;
  uint64_t value = 0;
  int arg = 0, width = 32;
  bool is_signed = false;
  uint64_t warp_result = 0;
};

size_t stack_bytes() {
  static const size_t bytes = [] {
    const char* env = std::getenv("AXONIC_EMULATOR_STACK_KIB");
    size_t kib = env ? std::strtoul(env, nullptr, 10) : 0;
#if defined(__SANITIZE_ADDRESS__)
    if (kib == 0) kib = 1024;
#else
    if (kib == 0) kib = 256;
#endif
    return std::max<size_t>(kib, 64) * 1024;
  }();
  return bytes;
}

struct Scheduler {
  std::vector<Fiber> fibers;
  int count = 0;  // threads of the block
  int live = 0;   // threads that have not returned
  int current = -1;
  Context main_context;
  // FIFO of ready fibers (each is in it at most once).
  std::vector<int> queue;
  size_t head = 0, queued = 0;
  int block_arrived = 0;
  std::vector<unsigned> warp_live;     // lanes that exist and have not returned
  std::vector<unsigned> warp_waiting;  // lanes waiting in a warp operation
  std::exception_ptr error;
  const detail::Launch* launch = nullptr;
  // Dynamic shared memory: malloc'd to the launch's exact size (AddressSanitizer then
  // catches a kernel overrunning it), 16-byte aligned like glibc's malloc.
  unsigned char* shared = nullptr;
  size_t shared_size = 0;
#if defined(__SANITIZE_ADDRESS__)
  const void* main_stack_bottom = nullptr;
  size_t main_stack_size = 0;
  bool abandoned_stacks = false;  // a launch failed: fibers stopped mid-kernel
#endif
};

Scheduler S;
std::mutex launch_mutex;
thread_local cudaError_t last_error = cudaSuccess;
std::mutex limits_mutex;
std::map<const void*, size_t> dynamic_shared_limits;

void ensure_fibers(int n) {
  if (static_cast<int>(S.fibers.size()) >= n) return;
  const size_t page = 4096, size = stack_bytes();
  const size_t old = S.fibers.size();
  S.fibers.resize(n);
  for (size_t i = old; i < S.fibers.size(); ++i) {
    void* mem = mmap(nullptr, size + page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
      S.fibers.resize(i);
      throw std::runtime_error("CUDA emulator: cannot map a fiber stack");
    }
    mprotect(mem, page, PROT_NONE);  // overflow faults instead of corrupting a neighbour
    S.fibers[i].stack = static_cast<unsigned char*>(mem) + page;
    S.fibers[i].stack_size = size;
  }
}

// AXONIC_EMULATOR_REVERSE=1 queues the threads a barrier releases (and a block's
// threads at its start) from the highest index down: a kernel whose result changes
// with the order has a race (a missing __syncthreads or __syncwarp).
bool reverse_order() {
  static const bool reverse = [] {
    const char* env = std::getenv("AXONIC_EMULATOR_REVERSE");
    return env && *env && std::strcmp(env, "0") != 0;
  }();
  return reverse;
}

// The index of step k of a loop over n in the queueing order.
inline int ordered(int k, int n) { return reverse_order() ? n - 1 - k : k; }

void push_ready(int f) {
  S.fibers[f].state = State::ready;
  S.queue[(S.head + S.queued) % S.queue.size()] = f;
  ++S.queued;
}

int pop_ready() {
  if (S.queued == 0) return -1;
  const int f = S.queue[S.head];
  S.head = (S.head + 1) % S.queue.size();
  --S.queued;
  return f;
}

// Switches from the current fiber (or the launching thread when S.current < 0) to
// fiber `next`, or to the launching thread when next < 0. A fiber that has returned or
// failed passes dying = true: its stack is abandoned.
void transfer(int next, bool dying) {
  Context scratch;
  Context& from = S.current >= 0 && !dying ? S.fibers[S.current].context
                  : S.current < 0          ? S.main_context
                                           : scratch;
  Context& to = next >= 0 ? S.fibers[next].context : S.main_context;
  if (next >= 0) {
    Fiber& f = S.fibers[next];
    f.state = State::running;
    detail::thread_idx = f.idx;
  }
  S.current = next;
#if defined(__SANITIZE_ADDRESS__)
  void* fake_stack = nullptr;
  if (next >= 0)
    __sanitizer_start_switch_fiber(dying ? nullptr : &fake_stack, S.fibers[next].stack,
                                   S.fibers[next].stack_size);
  else
    __sanitizer_start_switch_fiber(dying ? nullptr : &fake_stack, S.main_stack_bottom,
                                   S.main_stack_size);
  switch_context(from, to);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  switch_context(from, to);
#endif
}

// Ends the launch from inside a fiber: the launching thread rethrows `error`.
[[noreturn]] void fail(std::exception_ptr error) {
  if (!S.error) S.error = std::move(error);
  transfer(-1, true);
  __builtin_unreachable();
}

std::string where(const std::source_location& site) {
  return std::string(site.file_name()) + ":" + std::to_string(site.line());
}

std::string coords(const uint3& v) {
  return "(" + std::to_string(v.x) + ", " + std::to_string(v.y) + ", " + std::to_string(v.z) +
         ")";
}

[[noreturn]] void fail_with(const std::string& what) {
  fail(std::make_exception_ptr(std::runtime_error(
      "CUDA emulator: " + what + " [block " + coords(detail::block_idx) + " of grid " +
      coords(detail::grid_dim) + ", block shape " + coords(detail::block_dim) + "]")));
}

const char* block_op_name(BlockOp op) {
  switch (op) {
    case BlockOp::sync: return "__syncthreads";
    case BlockOp::sync_or: return "__syncthreads_or";
    case BlockOp::sync_and: return "__syncthreads_and";
    case BlockOp::sync_count: return "__syncthreads_count";
  }
  return "?";
}

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync: return "__syncwarp";
    case WarpOp::shfl_idx: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync";
    case WarpOp::any: return "__any_sync";
    case WarpOp::all: return "__all_sync";
    case WarpOp::reduce_add: return "__reduce_add_sync";
    case WarpOp::reduce_min: return "__reduce_min_sync";
    case WarpOp::reduce_max: return "__reduce_max_sync";
    case WarpOp::reduce_and: return "__reduce_and_sync";
    case WarpOp::reduce_or: return "__reduce_or_sync";
    case WarpOp::reduce_xor: return "__reduce_xor_sync";
  }
  return "?";
}

std::string hex(unsigned v) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", v);
  return buffer;
}

// What a waiting fiber waits in, e.g. "__shfl_sync(mask 0xffffffff) at kernel.cu:42".
std::string waiting_in(const Fiber& f) {
  if (f.state == State::block_wait) return std::string(block_op_name(f.block_op)) + " at " +
                                           where(f.site);
  return std::string(warp_op_name(f.warp_op)) + "(mask " + hex(f.mask) + ") at " + where(f.site);
}

// No fiber is ready, yet some wait: report each distinct wait with its threads.
[[noreturn]] void fail_deadlock() {
  std::vector<std::pair<std::string, std::vector<int>>> groups;
  int exited = 0;
  for (int i = 0; i < S.count; ++i) {
    const Fiber& f = S.fibers[i];
    if (f.state == State::done) {
      ++exited;
      continue;
    }
    if (f.state != State::block_wait && f.state != State::warp_wait) continue;
    const std::string what = waiting_in(f);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == what; });
    if (it == groups.end()) groups.push_back({what, {i}});
    else it->second.push_back(i);
  }
  std::ostringstream os;
  os << "deadlock: no thread of the block can continue (a barrier or warp operation that "
        "not every thread it waits for reaches, e.g. in a divergent branch):";
  for (const auto& [what, threads] : groups) {
    os << "\n  " << threads.size() << " thread(s) wait in " << what << " (threads";
    for (size_t k = 0; k < threads.size() && k < 4; ++k)
      os << " " << coords(S.fibers[threads[k]].idx);
    if (threads.size() > 4) os << " ...";
    os << ")";
  }
  if (exited) os << "\n  " << exited << " thread(s) have returned";
  fail_with(os.str());
}

// The current fiber waits: run the next ready one (back here once this one is resumed).
void block_current() {
  const int next = pop_ready();
  if (next < 0) fail_deadlock();
  transfer(next, false);
}

// Every live thread has arrived at the block barrier: check they agree, hand out the
// result, and make the waiting ones ready.
void complete_block_barrier() {
  const Fiber* first = nullptr;
  int count = 0;
  for (int i = 0; i < S.count; ++i) {
    const Fiber& f = S.fibers[i];
    if (f.state != State::block_wait) continue;
    if (!first) first = &f;
    else if (f.block_op != first->block_op || f.site.line() != first->site.line() ||
             (f.site.file_name() != first->site.file_name() &&
              std::strcmp(f.site.file_name(), first->site.file_name()) != 0))
      fail_with("divergent barrier: thread " + coords(first->idx) + " waits in " +
                waiting_in(*first) + " while thread " + coords(f.idx) + " waits in " +
                waiting_in(f) + " (every thread of a block that has not returned must reach " +
                "the same __syncthreads)");
    count += f.predicate != 0;
  }
  int result = 0;
  switch (first->block_op) {
    case BlockOp::sync: break;
    case BlockOp::sync_or: result = count > 0; break;
    case BlockOp::sync_and: result = count == S.block_arrived; break;
    case BlockOp::sync_count: result = count; break;
  }
  S.block_arrived = 0;
  detail::cas_stalls = 0;
  for (int k = 0; k < S.count; ++k) {
    const int i = ordered(k, S.count);
    Fiber& f = S.fibers[i];
    if (f.state != State::block_wait) continue;
    f.block_result = result;
    if (i == S.current) f.state = State::running;
    else push_ready(i);
  }
}

bool lane_in(unsigned lanes, int lane) { return (lanes >> lane) & 1u; }

// The lane whose value `lane` receives from a shuffle (itself when out of its segment).
int shuffle_source(const Fiber& f) {
  const int w = f.width, lane = f.lane, segment = lane & ~(w - 1);
  switch (f.warp_op) {
    case WarpOp::shfl_idx: return segment + (f.arg & (w - 1));
    case WarpOp::shfl_up: return (lane & (w - 1)) >= f.arg ? lane - f.arg : lane;
    case WarpOp::shfl_down: return (lane & (w - 1)) + f.arg < w ? lane + f.arg : lane;
    case WarpOp::shfl_xor: {
      const int source = lane ^ (f.arg & 31);
      return (source & ~(w - 1)) > segment ? lane : source;
    }
    default: return lane;
  }
}

// The lanes `group` of warp `warp` have all arrived in one operation: compute each
// lane's result and make them ready (the current fiber carries on).
void complete_warp_group(int warp, unsigned group) {
  Fiber* lanes = &S.fibers[warp * 32];
  const int leader = std::countr_zero(group);
  const Fiber& first = lanes[leader];
  for (int l = leader; l < 32; ++l) {
    if (!lane_in(group, l)) continue;
    const Fiber& f = lanes[l];
    if (f.warp_op != first.warp_op || f.mask != first.mask)
      fail_with("warp lanes disagree: lane " + std::to_string(leader) + " of warp " +
                std::to_string(warp) + " is in " + waiting_in(first) + " while lane " +
                std::to_string(l) + " is in " + waiting_in(f));
  }
  const WarpOp op = first.warp_op;
  uint64_t combined = 0;
  if (op == WarpOp::ballot || op == WarpOp::any || op == WarpOp::all) {
    unsigned votes = 0;
    for (int l = 0; l < 32; ++l)
      if (lane_in(group, l) && lanes[l].value) votes |= 1u << l;
    combined = op == WarpOp::ballot ? votes : op == WarpOp::any ? votes != 0 : votes == group;
  } else if (op >= WarpOp::reduce_add) {
    bool started = false;
    for (int l = 0; l < 32; ++l) {
      if (!lane_in(group, l)) continue;
      const auto u = static_cast<uint32_t>(lanes[l].value);
      const auto s = static_cast<int32_t>(u);
      auto acc_u = static_cast<uint32_t>(combined);
      auto acc_s = static_cast<int32_t>(acc_u);
      if (!started) acc_u = u;
      else if (op == WarpOp::reduce_add) acc_u += u;
      else if (op == WarpOp::reduce_and) acc_u &= u;
      else if (op == WarpOp::reduce_or) acc_u |= u;
      else if (op == WarpOp::reduce_xor) acc_u ^= u;
      else if (first.is_signed)
        acc_u = static_cast<uint32_t>(op == WarpOp::reduce_min ? std::min(acc_s, s)
                                                               : std::max(acc_s, s));
      else acc_u = op == WarpOp::reduce_min ? std::min(acc_u, u) : std::max(acc_u, u);
      combined = acc_u;
      started = true;
    }
  }
  for (int l = 0; l < 32; ++l) {
    if (!lane_in(group, l)) continue;
    Fiber& f = lanes[l];
    if (op >= WarpOp::shfl_idx && op <= WarpOp::shfl_xor) {
      const int source = shuffle_source(f);
      if (!lane_in(group, source))
        fail_with("lane " + std::to_string(l) + " of warp " + std::to_string(warp) +
                  " reads lane " + std::to_string(source) + " in " + waiting_in(f) +
                  ", but that lane " +
                  (lane_in(S.warp_live[warp], source) ? "is not in the mask"
                                                      : "has returned or does not exist") +
                  " (the GPU gives an undefined value)");
      f.warp_result = lanes[source].value;
    } else {
      f.warp_result = combined;
    }
  }
  S.warp_waiting[warp] &= ~group;
  detail::cas_stalls = 0;
  for (int k = 0; k < 32; ++k) {
    const int l = ordered(k, 32);
    if (!lane_in(group, l)) continue;
    const int index = warp * 32 + l;
    if (index == S.current) S.fibers[index].state = State::running;
    else push_ready(index);
  }
}

// Completes the operation lane `lane` waits in, if all its lanes have arrived.
bool try_complete_warp(int warp, int lane) {
  const unsigned group = S.fibers[warp * 32 + lane].mask & S.warp_live[warp];
  if ((S.warp_waiting[warp] & group) != group) return false;
  complete_warp_group(warp, group);
  return true;
}

// A thread returned: it leaves the block barrier and its warp's operations, which may
// now complete; then the next ready fiber runs (or the launching thread, when the block
// is done).
[[noreturn]] void thread_exit() {
  Fiber& f = S.fibers[S.current];
  f.state = State::done;
  --S.live;
  detail::cas_stalls = 0;
  S.warp_live[f.warp] &= ~(1u << f.lane);
  if (S.live == 0) {
    transfer(-1, true);
    __builtin_unreachable();
  }
  if (S.block_arrived > 0 && S.block_arrived == S.live) complete_block_barrier();
  for (int l = 0; l < 32; ++l)
    if (lane_in(S.warp_waiting[f.warp], l)) try_complete_warp(f.warp, l);
  const int next = pop_ready();
  if (next < 0) fail_deadlock();
  transfer(next, true);
  __builtin_unreachable();
}

void check_width(int width) {
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    fail_with("shuffle width " + std::to_string(width) + " is not a power of two in [1, 32]");
}

}  // namespace

extern "C" [[noreturn]] void axonic_emulator_fiber_main() {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  std::exception_ptr error;
  try {
    S.launch->run_thread(S.launch->context);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) fail(std::move(error));
  thread_exit();
}

namespace detail {

// Barriers, warp operations and the like outside a kernel (host code): a usage bug.
void require_kernel(const char* what) {
  if (S.current < 0)
    throw std::logic_error(std::string("CUDA emulator: ") + what + " called outside a kernel");
}

int block_barrier(BlockOp op, int predicate, const std::source_location& site) {
  require_kernel(block_op_name(op));
  Fiber& f = S.fibers[S.current];
  f.block_op = op;
  f.predicate = predicate;
  f.site = site;
  f.state = State::block_wait;
  if (++S.block_arrived == S.live) complete_block_barrier();
  else block_current();
  return f.block_result;
}

uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width, bool is_signed,
                 const std::source_location& site) {
  require_kernel(warp_op_name(op));
  Fiber& f = S.fibers[S.current];
  f.warp_op = op;
  f.mask = mask;
  f.value = value;
  f.arg = arg;
  f.width = width;
  f.is_signed = is_signed;
  f.site = site;
  if (!lane_in(mask, f.lane))
    fail_with("thread " + coords(f.idx) + " (lane " + std::to_string(f.lane) + ") calls " +
              waiting_in(f) + " with a mask that does not name its own lane");
  if (op >= WarpOp::shfl_idx && op <= WarpOp::shfl_xor) check_width(width);
  f.state = State::warp_wait;
  S.warp_waiting[f.warp] |= 1u << f.lane;
  if (!try_complete_warp(f.warp, f.lane)) block_current();
  return f.warp_result;
}

unsigned live_lanes() {
  require_kernel("__activemask");
  return S.warp_live[S.fibers[S.current].warp];
}

unsigned cas_stalls = 0;

void cas_failed() {
  if (S.current < 0) return;  // host code: nothing to wait for
  if (++cas_stalls > (1u << 22))
    throw std::runtime_error(
        "CUDA emulator: threads spin on atomicCAS and no thread of the block makes progress "
        "(blocks run one after another, so waiting on another block never ends)");
  if (S.queued > 0) {
    const int self = S.current;
    push_ready(self);
    transfer(pop_ready(), false);
  }
}

void device_trap(const char* what) {
  throw std::runtime_error(std::string("CUDA emulator: the kernel called ") + what);
}

void set_last_error(cudaError_t err) { last_error = err; }

void set_max_dynamic_shared(const void* kernel, int bytes) {
  std::lock_guard<std::mutex> lock(limits_mutex);
  dynamic_shared_limits[kernel] = static_cast<size_t>(bytes);
}

namespace {

// CUDA's launch checks; false (and the error recorded) when the launch must not run.
bool launch_is_valid(const Launch& l) {
  const dim3 b = l.block, g = l.grid;
  const uint64_t threads = uint64_t{b.x} * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 || b.z > 64 ||
      threads > 1024 || g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u ||
      g.y > 65535 || g.z > 65535) {
    last_error = cudaErrorInvalidConfiguration;
    return false;
  }
  size_t limit = kDefaultDynamicShared;
  {
    std::lock_guard<std::mutex> lock(limits_mutex);
    auto it = dynamic_shared_limits.find(l.kernel);
    if (it != dynamic_shared_limits.end()) limit = std::max(limit, it->second);
  }
  if (l.shared_bytes > limit) {
    last_error = cudaErrorInvalidValue;
    return false;
  }
  return true;
}

void prepare_block(const Launch& l) {
  const int n = S.count;
  S.live = n;
  S.block_arrived = 0;
  S.head = 0;
  S.queued = 0;
  const int warps = (n + 31) / 32;
  S.warp_live.assign(warps, 0);
  S.warp_waiting.assign(warps, 0);
  int i = 0;
  for (unsigned z = 0; z < l.block.z; ++z)
    for (unsigned y = 0; y < l.block.y; ++y)
      for (unsigned x = 0; x < l.block.x; ++x, ++i) {
        Fiber& f = S.fibers[i];
        f.idx = uint3{x, y, z};
        f.warp = i / 32;
        f.lane = i % 32;
        S.warp_live[f.warp] |= 1u << f.lane;
#if defined(__SANITIZE_ADDRESS__)
        // A fiber that returned left only its last frames (fiber_main, thread_exit,
        // transfer: near the top) poisoned (run_launch clears abandoned stacks whole).
        const size_t top = std::min<size_t>(f.stack_size, 64 * 1024);
        __asan_unpoison_memory_region(f.stack + f.stack_size - top, top);
#endif
        prepare_context(f.context, f.stack, f.stack_size);
      }
  for (int k = 0; k < n; ++k) push_ready(ordered(k, n));
}

}  // namespace

void run_launch(const Launch& l) {
  if (!launch_is_valid(l)) return;
  std::lock_guard<std::mutex> lock(launch_mutex);
  S.count = static_cast<int>(l.block.x * l.block.y * l.block.z);
  ensure_fibers(S.count);
  if (S.queue.size() < static_cast<size_t>(S.count)) S.queue.resize(S.count);
#if defined(__SANITIZE_ADDRESS__)
  if (S.abandoned_stacks) {  // a failed launch left frames of any depth poisoned
    for (Fiber& f : S.fibers) __asan_unpoison_memory_region(f.stack, f.stack_size);
    S.abandoned_stacks = false;
  }
#endif
  // Dynamic shared memory starts as 0xff bytes (NaN as float or double): a kernel that
  // reads what it never wrote sees NaN.
  if (S.shared_size != l.shared_bytes || !S.shared) {
    std::free(S.shared);
    S.shared = static_cast<unsigned char*>(std::malloc(std::max<size_t>(l.shared_bytes, 1)));
    S.shared_size = l.shared_bytes;
    if (!S.shared) throw std::bad_alloc();
  }
  std::memset(S.shared, 0xff, l.shared_bytes);
#if defined(__SANITIZE_ADDRESS__)
  {
    pthread_attr_t attr;
    pthread_getattr_np(pthread_self(), &attr);
    void* bottom = nullptr;
    pthread_attr_getstack(&attr, &bottom, &S.main_stack_size);
    S.main_stack_bottom = bottom;
    pthread_attr_destroy(&attr);
  }
#endif
  S.launch = &l;
  S.error = nullptr;
  grid_dim = l.grid;
  block_dim = l.block;
  for (unsigned z = 0; z < l.grid.z && !S.error; ++z)
    for (unsigned y = 0; y < l.grid.y && !S.error; ++y)
      for (unsigned x = 0; x < l.grid.x && !S.error; ++x) {
        block_idx = uint3{x, y, z};
        prepare_block(l);
        S.current = -1;
        transfer(pop_ready(), false);
        if (S.error) break;
      }
  S.current = -1;
  S.launch = nullptr;
  if (S.error) {
    std::exception_ptr error = std::move(S.error);
    S.error = nullptr;
#if defined(__SANITIZE_ADDRESS__)
    S.abandoned_stacks = true;
#endif
    std::rethrow_exception(error);
  }
}

}  // namespace detail

unsigned char* dynamic_shared_memory() { return S.shared; }

}  // namespace axonic_emulator

// --- runtime API -------------------------------------------------------------------------
namespace {

struct ErrorText {
  cudaError_t code;
  const char* name;
  const char* text;
};

constexpr ErrorText kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
     "invalid configuration argument"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {cudaErrorInsufficientDriver, "cudaErrorInsufficientDriver",
     "CUDA driver version is insufficient for CUDA runtime version"},
    {cudaErrorInvalidDeviceFunction, "cudaErrorInvalidDeviceFunction",
     "invalid device function"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle",
     "invalid resource handle"},
    {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress",
     "an illegal memory access was encountered"},
    {cudaErrorLaunchOutOfResources, "cudaErrorLaunchOutOfResources",
     "too many resources requested for launch"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorNotSupported, "cudaErrorNotSupported", "operation not supported"},
    {cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};

const ErrorText* find_error(cudaError_t err) {
  for (const ErrorText& e : kErrors)
    if (e.code == err) return &e;
  return nullptr;
}

int emulated_sm_count() {
  static const int sms = [] {
    const char* env = std::getenv("AXONIC_EMULATOR_SMS");
    const int n = env ? std::atoi(env) : 0;
    return n > 0 ? n : 132;
  }();
  return sms;
}

cudaError_t fail_call(cudaError_t err) {
  axonic_emulator::detail::set_last_error(err);
  return err;
}

void* allocate(size_t bytes) {
  // 256-byte aligned like cudaMalloc, filled with 0xff bytes (NaN) like nothing written.
  void* p = std::aligned_alloc(256, ((bytes + 255) / 256) * 256 + 256);
  if (p) std::memset(p, 0xff, bytes);
  return p;
}

}  // namespace

cudaError_t cudaGetLastError() {
  const cudaError_t err = axonic_emulator::last_error;
  axonic_emulator::last_error = cudaSuccess;
  return err;
}

cudaError_t cudaPeekAtLastError() { return axonic_emulator::last_error; }

const char* cudaGetErrorString(cudaError_t err) {
  const ErrorText* e = find_error(err);
  return e ? e->text : "unrecognized error code";
}

const char* cudaGetErrorName(cudaError_t err) {
  const ErrorText* e = find_error(err);
  return e ? e->name : "cudaErrorUnknown";
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : fail_call(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return fail_call(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "axonic CUDA emulator (NVIDIA H200 limits)");
  prop->totalGlobalMem = size_t{143} << 30;
  prop->sharedMemPerBlock = axonic_emulator::kDefaultDynamicShared;
  prop->sharedMemPerBlockOptin = axonic_emulator::kMaxDynamicSharedOptin;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->multiProcessorCount = emulated_sm_count();
  prop->major = 9;
  prop->minor = 0;
  prop->l2CacheSize = 50 << 20;
  prop->clockRate = 1980000;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, device) != cudaSuccess) return cudaErrorInvalidDevice;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; break;
    case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = p.maxThreadsPerMultiProcessor; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
      *value = static_cast<int>(p.sharedMemPerMultiprocessor);
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(p.sharedMemPerBlockOptin);
      break;
    default: return fail_call(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  static char handles[64];  // distinct non-null handles; nothing is behind them
  static unsigned next = 0;
  *stream = reinterpret_cast<cudaStream_t>(&handles[next++ % 64]);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  *ptr = allocate(bytes);
  return *ptr ? cudaSuccess : fail_call(cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t) {
  return cudaMalloc(ptr, bytes);
}

cudaError_t cudaFreeAsync(void* ptr, cudaStream_t) { return cudaFree(ptr); }

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  if (bytes > 0 && !ptr) return fail_call(cudaErrorInvalidValue);
  if (bytes > 0) std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t) {
  return cudaMemset(ptr, value, bytes);
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
    return fail_call(cudaErrorInvalidMemcpyDirection);
  if (bytes > 0 && (!dst || !src)) return fail_call(cudaErrorInvalidValue);
  if (bytes > 0) std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind, cudaStream_t) {
  if (width > dpitch || width > spitch) return fail_call(cudaErrorInvalidValue);
  for (size_t row = 0; row < height; ++row) {
    const cudaError_t err = cudaMemcpy(static_cast<unsigned char*>(dst) + row * dpitch,
                                       static_cast<const unsigned char*>(src) + row * spitch,
                                       width, kind);
    if (err != cudaSuccess) return err;
  }
  return cudaSuccess;
}
