#include "bindings/cpu_bindings.h"
namespace axonic::bind { void register_activations(py::module_&) {} }
