// Class labels of softmax-cross-entropy, checked alike by the CPU kernels (before
// they write anything) and the CUDA kernels (in the kernel, reported after it): a
// label is a class index in [0, classes) or ignore_index (the row adds no loss).
#pragma once

#include <cstdint>

#include "common/host_device.h"

namespace axonic {

AXONIC_HOST_DEVICE bool is_class_label(int64_t label, int64_t classes, int64_t ignore_index) {
  return label == ignore_index || (label >= 0 && label < classes);
}

// Throws std::invalid_argument (ValueError) "label <label> at row <row> is out of
// range: expected 0 <= label < <classes> (or ignore_index=<ignore_index>)", the
// reference backend's message.
[[noreturn]] void throw_class_label_out_of_range(int64_t label, int64_t row, int64_t classes,
                                                 int64_t ignore_index);

}  // namespace axonic
