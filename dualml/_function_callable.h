/* The C callable that serves as __array_function__ of DualArray
 * (dualml/arrays/_core.pyx).
 *
 * NumPy calls type(x).__array_function__(x, func, types, args, kwargs)
 * through PyObject_CallFunctionObjArgs, which is a vectorcall: with this
 * type's vectorcall the five arguments reach the entry function as they are
 * (no argument tuple, no bound method, no Python frame before the entry
 * function).  It binds like a method (x.__array_function__) and is named
 * __array_function__; the sibling of dualml/_ufunc_callable.h.
 */
#ifndef DUALML_FUNCTION_CALLABLE_H
#define DUALML_FUNCTION_CALLABLE_H

#include <Python.h>
#include <stddef.h>

typedef PyObject *(*dualml_afunc_impl)(PyObject *x, PyObject *func, PyObject *types,
                                       PyObject *args, PyObject *kwargs);
static dualml_afunc_impl dualml_afunc_entry = NULL;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
} dualml_afunc_object;

static PyObject *dualml_afunc_vectorcall(PyObject *self, PyObject *const *args,
                                         size_t nargsf, PyObject *kwnames)
{
    (void)self;
    if (PyVectorcall_NARGS(nargsf) != 5
            || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        PyErr_SetString(PyExc_TypeError,
                        "DualArray.__array_function__(self, func, types, args, kwargs) "
                        "takes five positional arguments");
        return NULL;
    }
    return dualml_afunc_entry(args[0], args[1], args[2], args[3], args[4]);
}

static PyObject *dualml_afunc_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (obj == NULL || obj == Py_None) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static PyObject *dualml_afunc_name(PyObject *self, void *closure)
{
    (void)self;
    (void)closure;
    return PyUnicode_FromString("__array_function__");
}

static PyGetSetDef dualml_afunc_getset[] = {
    {"__name__", dualml_afunc_name, NULL, NULL, NULL},
    {"__qualname__", dualml_afunc_name, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject dualml_afunc_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_basicsize = sizeof(dualml_afunc_object),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(dualml_afunc_object, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_descr_get = dualml_afunc_get,
    .tp_getset = dualml_afunc_getset,
};

/* The one instance (tp_name and tp_doc static strings); entry is the
 * Cython function it forwards to. */
static PyObject *dualml_afunc_new(dualml_afunc_impl entry, const char *tp_name,
                                  const char *tp_doc)
{
    dualml_afunc_object *r;
    dualml_afunc_entry = entry;
    dualml_afunc_type.tp_name = tp_name;
    dualml_afunc_type.tp_doc = tp_doc;
    if (PyType_Ready(&dualml_afunc_type) < 0)
        return NULL;
    r = PyObject_New(dualml_afunc_object, &dualml_afunc_type);
    if (r == NULL)
        return NULL;
    r->vectorcall = dualml_afunc_vectorcall;
    return (PyObject *)r;
}

#endif /* DUALML_FUNCTION_CALLABLE_H */
