// Function.apply (python/axonic/autograd/function.py) in C: the bookkeeping around
// every autograd operation, on every device.
//
//   apply(cls, *args):
//     tensors = the Tensor arguments, all on one device (else RuntimeError)
//     ctx     = Context(get_backend(device), tuple(t.requires_grad for t in tensors))
//     result  = call_with_cached_arrays(cls.forward, ctx, *args with each Tensor's array)
//               (a result that is not an array -- a NumPy scalar -- goes through ctx.xp.asarray)
//     out     = a new Tensor around result
//     when some input requires grad and grad mode is on:
//       out.requires_grad = True; out._node = Node(cls, ctx, tensors)
//
// The same steps in Python took about 1.8 us an operation, more than a whole 16^3
// product; here they take a fraction of that. The Python classes it builds (Tensor,
// Context, Node) and the functions it calls (get_backend, the grad-mode state) are
// handed over once by function.bind_tensor_type, so the Python side keeps defining
// them.
#include <Python.h>

#include <vector>

#include "bindings/cpu_bindings.h"

namespace axonic::bind {

namespace {

// A strong reference, released when it goes out of scope.
class Owned {
 public:
  Owned() = default;
  explicit Owned(PyObject* object) : object_(object) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned(Owned&& other) noexcept : object_(other.release()) {}
  Owned& operator=(Owned&& other) noexcept {
    PyObject* previous = object_;
    object_ = other.release();
    Py_XDECREF(previous);
    return *this;
  }
  ~Owned() { Py_XDECREF(object_); }
  PyObject* get() const { return object_; }
  PyObject* release() {
    PyObject* object = object_;
    object_ = nullptr;
    return object;
  }
  explicit operator bool() const { return object_ != nullptr; }

 private:
  PyObject* object_ = nullptr;
};

// What apply builds and calls, from bind_tensor_type; held for the life of the process.
struct ApplyObjects {
  PyTypeObject* tensor = nullptr;   // axonic.Tensor
  PyObject* context = nullptr;      // autograd.function.Context
  PyObject* node = nullptr;         // autograd.function.Node
  PyObject* get_backend = nullptr;  // backends.get_backend
  PyObject* grad_state = nullptr;   // grad_mode._state, whose .enabled is the grad mode
  PyTypeObject* ndarray = nullptr;  // numpy.ndarray
  // Interned names and values.
  PyObject *data_name, *requires_grad_name, *grad_name, *node_name, *device_name,
      *forward_name, *enabled_name, *xp_name, *asarray_name, *cuda_interface_name, *cpu,
      *empty_tuple;
};
ApplyObjects objects;

// Strong references to the arguments of one call, released together.
struct OwnedArguments {
  std::vector<PyObject*> items;
  ~OwnedArguments() {
    for (PyObject* item : items) Py_XDECREF(item);
  }
};
bool bound = false;

PyObject* intern(const char* text) { return PyUnicode_InternFromString(text); }

// Py_NewRef, which Python 3.9 lacks.
PyObject* new_reference(PyObject* object) {
  Py_INCREF(object);
  return object;
}

// bind_tensor_type(tensor, context, node, get_backend, grad_state, ndarray).
PyObject* configure(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 6 || !PyType_Check(args[0]) || !PyType_Check(args[5])) {
    PyErr_SetString(PyExc_TypeError,
                    "configure_function_apply(tensor_type, context_type, node_type, get_backend, "
                    "grad_state, ndarray_type) expects 6 arguments, the first and last types");
    return nullptr;
  }
  if (bound) Py_RETURN_NONE;  // a reloaded axonic.tensor keeps the first binding
  for (Py_ssize_t i = 0; i < nargs; ++i) Py_INCREF(args[i]);
  objects.tensor = reinterpret_cast<PyTypeObject*>(args[0]);
  objects.context = args[1];
  objects.node = args[2];
  objects.get_backend = args[3];
  objects.grad_state = args[4];
  objects.ndarray = reinterpret_cast<PyTypeObject*>(args[5]);
  objects.data_name = intern("_data");
  objects.requires_grad_name = intern("requires_grad");
  objects.grad_name = intern("grad");
  objects.node_name = intern("_node");
  objects.device_name = intern("device");
  objects.forward_name = intern("forward");
  objects.enabled_name = intern("enabled");
  objects.xp_name = intern("xp");
  objects.asarray_name = intern("asarray");
  objects.cuda_interface_name = intern("__cuda_array_interface__");
  objects.cpu = intern("cpu");
  objects.empty_tuple = PyTuple_New(0);
  if (PyErr_Occurred()) return nullptr;
  bound = true;
  Py_RETURN_NONE;
}

// hasattr(object, name): 1, 0, or -1 with an error other than AttributeError raised.
int has_attribute(PyObject* object, PyObject* name) {
  Owned value(PyObject_GetAttr(object, name));
  if (value) return 1;
  if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return -1;
  PyErr_Clear();
  return 0;
}

// tensor.device without the property call for the common case: a NumPy array is "cpu".
PyObject* device_of(PyObject* tensor, PyObject* data) {
  if (Py_IS_TYPE(data, objects.ndarray)) return new_reference(objects.cpu);
  return PyObject_GetAttr(tensor, objects.device_name);
}

// Sets the four attributes every Tensor has (its __slots__), as Tensor._wrap does.
PyObject* wrap_result(PyObject* array) {
  Owned out(objects.tensor->tp_new(objects.tensor, objects.empty_tuple, nullptr));
  if (!out || PyObject_SetAttr(out.get(), objects.data_name, array) < 0 ||
      PyObject_SetAttr(out.get(), objects.grad_name, Py_None) < 0 ||
      PyObject_SetAttr(out.get(), objects.node_name, Py_None) < 0 ||
      PyObject_SetAttr(out.get(), objects.requires_grad_name, Py_False) < 0)
    return nullptr;
  return out.release();
}

PyObject* device_mismatch(PyObject* cls, PyObject* first, PyObject* other) {
  return PyErr_Format(PyExc_RuntimeError,
                      "%s: expected all tensors on one device, found %U and %U; move them with "
                      ".to('%U')",
                      reinterpret_cast<PyTypeObject*>(cls)->tp_name, first, other, first);
}

// apply(cls, *args); see the top of this file.
PyObject* apply(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!bound) {
    PyErr_SetString(PyExc_RuntimeError,
                    "Function.apply ran before axonic.tensor bound the Tensor type");
    return nullptr;
  }
  if (nargs < 1 || !PyType_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError, "Function.apply is called on a Function class");
    return nullptr;
  }
  PyObject* cls = args[0];
  // call[0] = cls.forward, call[1] = ctx, then the arguments with arrays for Tensors.
  OwnedArguments call;
  call.items.reserve(static_cast<size_t>(nargs) + 1);
  call.items.assign(2, nullptr);
  Owned tensors(PyList_New(0));
  if (!tensors) return nullptr;
  Owned device;
  for (Py_ssize_t i = 1; i < nargs; ++i) {
    PyObject* arg = args[i];
    const int is_tensor = Py_IS_TYPE(arg, objects.tensor)
                              ? 1
                              : PyObject_IsInstance(arg, reinterpret_cast<PyObject*>(objects.tensor));
    if (is_tensor < 0) return nullptr;
    if (!is_tensor) {
      call.items.push_back(new_reference(arg));
      continue;
    }
    Owned data(PyObject_GetAttr(arg, objects.data_name));
    if (!data || PyList_Append(tensors.get(), arg) < 0) return nullptr;
    Owned here(device_of(arg, data.get()));
    if (!here) return nullptr;
    if (!device) {
      device = std::move(here);
    } else if (here.get() != device.get()) {
      const int same = PyObject_RichCompareBool(here.get(), device.get(), Py_EQ);
      if (same < 0) return nullptr;
      if (!same) return device_mismatch(cls, device.get(), here.get());
    }
    call.items.push_back(data.release());
  }
  const Py_ssize_t tensor_count = PyList_GET_SIZE(tensors.get());
  if (tensor_count == 0)
    return PyErr_Format(PyExc_TypeError, "%s.apply needs at least one Tensor argument",
                        reinterpret_cast<PyTypeObject*>(cls)->tp_name);

  Owned needs_grad(PyTuple_New(tensor_count));
  if (!needs_grad) return nullptr;
  bool any_needs_grad = false;
  for (Py_ssize_t i = 0; i < tensor_count; ++i) {
    PyObject* flag =
        PyObject_GetAttr(PyList_GET_ITEM(tensors.get(), i), objects.requires_grad_name);
    if (flag == nullptr) return nullptr;
    PyTuple_SET_ITEM(needs_grad.get(), i, flag);  // steals flag
    if (!any_needs_grad) {  // `True in needs_grad`, as the Python form tested it
      const int is_true = PyObject_RichCompareBool(flag, Py_True, Py_EQ);
      if (is_true < 0) return nullptr;
      any_needs_grad = is_true;
    }
  }

  Owned backend(PyObject_CallOneArg(objects.get_backend, device.get()));
  if (!backend) return nullptr;
  PyObject* context_args[] = {backend.get(), needs_grad.get()};
  Owned ctx(PyObject_Vectorcall(objects.context, context_args, 2, nullptr));
  if (!ctx) return nullptr;
  call.items[0] = PyObject_GetAttr(cls, objects.forward_name);
  if (call.items[0] == nullptr) return nullptr;
  call.items[1] = new_reference(ctx.get());

  Owned result(call_with_cached_arrays(nullptr, call.items.data(),
                                       static_cast<Py_ssize_t>(call.items.size())));
  if (!result) return nullptr;
  // NumPy reductions return scalars, and a Tensor always holds an array. A device move
  // (Tensor.to) returns an array of the other device, which stays as it is.
  if (!PyObject_TypeCheck(result.get(), objects.ndarray)) {
    const int is_device_array = has_attribute(result.get(), objects.cuda_interface_name);
    if (is_device_array < 0) return nullptr;
    if (!is_device_array) {
      Owned xp(PyObject_GetAttr(ctx.get(), objects.xp_name));
      if (!xp) return nullptr;
      result = Owned(PyObject_CallMethodOneArg(xp.get(), objects.asarray_name, result.get()));
      if (!result) return nullptr;
    }
  }
  Owned out(wrap_result(result.get()));
  if (!out) return nullptr;

  if (any_needs_grad) {
    Owned enabled(PyObject_GetAttr(objects.grad_state, objects.enabled_name));
    if (!enabled) return nullptr;
    const int grad_enabled = PyObject_IsTrue(enabled.get());
    if (grad_enabled < 0) return nullptr;
    if (grad_enabled) {
      PyObject* node_args[] = {cls, ctx.get(), tensors.get()};
      Owned node(PyObject_Vectorcall(objects.node, node_args, 3, nullptr));
      if (!node || PyObject_SetAttr(out.get(), objects.requires_grad_name, Py_True) < 0 ||
          PyObject_SetAttr(out.get(), objects.node_name, node.get()) < 0)
        return nullptr;
    }
  }
  return out.release();
}

PyMethodDef apply_def = {
    "function_apply", fastcall_function<apply>(), METH_FASTCALL,
    "function_apply(cls, *args): Function.apply (autograd/function.py): runs cls.forward on\n"
    "the arrays of the Tensor arguments and wraps the result, recording the graph node\n"
    "when an input requires grad and grad mode is on."};
PyMethodDef configure_def = {
    "configure_function_apply", fastcall_function<configure>(), METH_FASTCALL,
    "configure_function_apply(tensor_type, context_type, node_type, get_backend, grad_state,\n"
    "ndarray_type): the classes and functions function_apply uses; the first call wins."};

}  // namespace

void register_function_apply(py::module_& m) {
  m.attr("function_apply") =
      py::reinterpret_steal<py::object>(PyCFunction_NewEx(&apply_def, nullptr, nullptr));
  m.attr("configure_function_apply") =
      py::reinterpret_steal<py::object>(PyCFunction_NewEx(&configure_def, nullptr, nullptr));
}

}  // namespace axonic::bind
