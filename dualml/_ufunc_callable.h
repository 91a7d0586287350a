/* The C callable that serves as __array_ufunc__ of Dual (dualml/dual.pyx.tp)
 * and of DualArray (dualml/arrays/_core.pyx).
 *
 * NumPy calls type(x).__array_ufunc__(x, ufunc, method, *inputs, **kwargs)
 * through PyObject_Call, with the arguments in a tuple and a dict.  A def
 * method would copy both (a new inputs tuple and kwargs dict, ~30-50 ns of a
 * 10-element operation); this callable hands the tuple and the dict (or
 * None) as they are to the module's entry function.  It binds like a method
 * (x.__array_ufunc__) and is named __array_ufunc__.  Each including module
 * gets its own static type and instance (one per translation unit).
 */
#ifndef DUALML_UFUNC_CALLABLE_H
#define DUALML_UFUNC_CALLABLE_H

#include <Python.h>

typedef PyObject *(*dualml_ufunc_impl)(PyObject *args, PyObject *kwds);
static dualml_ufunc_impl dualml_ufunc_entry = NULL;

static PyObject *dualml_ufunc_call(PyObject *self, PyObject *args, PyObject *kwds)
{
    (void)self;
    return dualml_ufunc_entry(args, kwds != NULL ? kwds : Py_None);
}

static PyObject *dualml_ufunc_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (obj == NULL || obj == Py_None) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static PyObject *dualml_ufunc_name(PyObject *self, void *closure)
{
    (void)self;
    (void)closure;
    return PyUnicode_FromString("__array_ufunc__");
}

static PyGetSetDef dualml_ufunc_getset[] = {
    {"__name__", dualml_ufunc_name, NULL, NULL, NULL},
    {"__qualname__", dualml_ufunc_name, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject dualml_ufunc_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = dualml_ufunc_call,
    .tp_descr_get = dualml_ufunc_get,
    .tp_getset = dualml_ufunc_getset,
};

/* The one instance of this module's type (tp_name and tp_doc static
 * strings); entry is the Cython function it forwards to. */
static PyObject *dualml_ufunc_new(dualml_ufunc_impl entry, const char *tp_name,
                                  const char *tp_doc)
{
    dualml_ufunc_entry = entry;
    dualml_ufunc_type.tp_name = tp_name;
    dualml_ufunc_type.tp_doc = tp_doc;
    if (PyType_Ready(&dualml_ufunc_type) < 0)
        return NULL;
    return PyObject_New(PyObject, &dualml_ufunc_type);
}

#endif /* DUALML_UFUNC_CALLABLE_H */
