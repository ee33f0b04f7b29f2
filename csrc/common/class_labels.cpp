#include "common/class_labels.h"

#include "common/checks.h"

namespace axonic {

void throw_class_label_out_of_range(int64_t label, int64_t row, int64_t classes,
                                    int64_t ignore_index) {
  throw std::invalid_argument(concat("label ", label, " at row ", row,
                                     " is out of range: expected 0 <= label < ", classes,
                                     " (or ignore_index=", ignore_index, ")"));
}

}  // namespace axonic
