"""Sensitivity analysis of model inputs: local sensitivities, elasticities, DGSM.

Design
------
* Every derivative comes from dualml's public calculus API
  (``value_and_jacobian`` at one point, ``jvp`` or a DualArray seeded with
  all n input directions for a batch); this module adds no differentiation
  machinery of its own, only bookkeeping, statistics and presentation.
* A batch of N points is an (N, n) array.  ``vectorized=True`` (the default
  of every function here, SALib's convention for models): f takes the whole
  (N, n) array and returns (N,) or (N, m), row i depending on row i only; one
  call of f with the n input directions seeded on every row gives all N
  Jacobians.  ``vectorized=False``: f takes one point (n,) and is called per
  point, through ``value_and_jacobian(..., method=method)``.  A model given
  the wrong kind of input gets an error naming the flag.
* ``executor=`` (any ``concurrent.futures.Executor``: a process pool, a dask
  client's ``get_executor()``) receives contiguous chunks of points through
  module-level tasks, so f only has to be picklable; the chunks are
  reassembled in order, and the per-point arithmetic is the serial one.
* Optional dependencies (scipy for Sobol points, pandas, matplotlib, tqdm)
  are imported inside the functions that need them.
"""
import concurrent.futures
import importlib.util
import math
import numbers
import os
import statistics
import sys
import warnings

import numpy as np

from .calculus import jvp, value_and_jacobian

__all__ = ["sensitivity", "SensitivityResult", "SensitivityWarning",
           "batch_jacobian", "batch_value_and_jacobian", "dgsm", "DGSMResult"]


class SensitivityWarning(UserWarning):
    """A sensitivity measure was computed under a documented convention
    (an output equal to 0, a constant output) rather than by its formula."""


# ----------------------------------------------------------------------------------
# batches of points
# ----------------------------------------------------------------------------------

# Points per chunk are capped so that a vectorized pass, which holds about
# (n + 1) float64 values per input entry in each temporary, stays near 64 MiB.
_CHUNK_BYTES = 64 * 2**20


def _as_points(X, fname, argname="X"):
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{fname}(): {argname} must be an array of real numbers, not "
                        f"{type(X).__name__}")
    try:
        A = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fname}(): {argname} must be an array of real numbers ({exc})") \
            from None
    if A.dtype.kind == "c":
        raise TypeError(f"{fname}(): {argname} must be real; got a complex array "
                        f"(dualml differentiates real functions)")
    if A.dtype.kind not in "biuf":
        raise TypeError(f"{fname}(): {argname} must hold real numbers, not dtype "
                        f"{A.dtype}")
    return A.astype(np.float64)


def _vectorized_pass(f, X, args, chunk=None):
    """f(X) and all N Jacobians of a row-wise f: values (N, *out), J (N, *out, n).

    Uses a DualArray carrying the n input directions at once when dualml has
    one (one evaluation of f), else n Jacobian-vector products (n evaluations,
    one direction each, through ``dualml.jvp``).
    """
    N, n = X.shape
    value, d = _batch_tangents(f, X, args, chunk)     # d: (n, N, *out)
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0 or value.shape[0] != N:
        raise ValueError(f"vectorized=True: f must map an (N, n) array of N points to "
                         f"an (N,) or (N, m) array (row i from point i), but for N={N} "
                         f"f returned shape {value.shape}; pass vectorized=False if f "
                         f"takes one point at a time")
    if value.ndim > 2:
        raise ValueError(f"f must return (N,) or (N, m) for N points; got shape "
                         f"{value.shape}")
    if N >= 2:
        _check_rowwise(f, X, args)
    J = np.moveaxis(np.asarray(d, dtype=np.float64).reshape((n,) + value.shape), 0, -1)
    return value, J


_ROW_MIXING = ("vectorized=True: f mixes the rows of X (an output row depends on "
               "another input row, as with X.mean(axis=0), batch normalisation, a "
               "cumulative sum or X - X[0]), so the per-point Jacobians of one "
               "vectorized pass would be wrong; pass vectorized=False to call f on "
               "one point at a time")


def _check_rowwise(f, X, args):
    """Refuse an f whose output rows depend on other input rows.

    The vectorized pass seeds column j of every row at once, which gives
    the per-point Jacobians only if row i of f(X) depends on row i of X
    alone.  A probe of the first two rows with one direction on each row
    (weights that no cancellation makes exactly 0): for a row-wise f the
    tangent of each direction is exactly 0 on the other row (the
    zero-tangent convention keeps zeros exact); any other value means rows
    mix.  If f needs all N rows, the probe is X itself.
    """
    DualArray = _dualarray()
    if DualArray is None:
        return
    n = X.shape[1]
    w = 1.0 + np.arange(n) / (n + np.pi)
    for P in (X[:2], X):
        t = np.zeros((2,) + P.shape)
        t[0, 0] = w
        t[1, 1] = w
        try:
            r = f(DualArray(P, t), *args)
        except Exception:       # noqa: BLE001  (f may need all N rows: probe X itself)
            if P is X:
                raise
            continue
        if isinstance(r, DualArray) and r.shape[:1] == P.shape[:1] and r.k == 2:
            d = r.deriv
            if np.any(d[0, 1:] != 0) or np.any(d[1, :1] != 0) or np.any(d[1, 2:] != 0):
                raise ValueError(_ROW_MIXING)
        return


def _pandas(owner):
    """pandas, imported when a result is turned into a DataFrame (optional)."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"{owner}.to_dataframe() needs pandas: pip install pandas "
                          f"(or dualml[sensitivity])") from None
    return pandas


def _dualarray():
    try:
        from .arrays import DualArray
    except ModuleNotFoundError as exc:
        if exc.name != "dualml.arrays":
            raise
        return None
    return DualArray


def _batch_tangents(f, X, args, chunk=None):
    """f(X) and the derivatives along the n column directions: (n, N, *out),
    ``chunk`` directions per evaluation of f (all n by default)."""
    DualArray = _dualarray()
    if DualArray is None:
        return _batch_tangents_jvp(f, X, args)
    N, n = X.shape
    c = n if chunk is None else max(1, min(n, chunk))
    if c < n:
        v, parts = None, []
        for j0 in range(0, n, c):
            v, d = _batch_tangents_block(f, X, args, DualArray, j0, min(n, j0 + c))
            parts.append(d)
        return v, np.concatenate(parts)
    return _batch_tangents_block(f, X, args, DualArray, 0, n)


def _batch_tangents_block(f, X, args, DualArray, j0, j1):
    """f(X) and its derivatives along the column directions j0..j1-1."""
    N, n = X.shape
    # direction j: tangent 1 in column j of every row, so row k of f's
    # tangent j is ∂f(X[k])/∂x_j for a row-wise f
    dirs = np.zeros((j1 - j0, N, n))
    dirs[np.arange(j1 - j0), :, np.arange(j0, j1)] = 1.0
    n = j1 - j0
    try:
        r = f(DualArray.seed(X, dirs), *args)
    except (IndexError, TypeError, ValueError) as exc:
        _reraise_with_flag(exc, True, X.shape)
    if isinstance(r, DualArray):
        v, d = r.value, r.deriv
        if d.shape[0] != n:             # a constant (no tangent rows)
            d = np.zeros((n,) + v.shape)
        return v, d
    if isinstance(r, (list, tuple)) and any(isinstance(e, DualArray) for e in r):
        raise TypeError("vectorized=True: f returned a list of arrays; return one array "
                        "of shape (N, m), e.g. np.stack([...], axis=-1)")
    try:
        v = np.asarray(r, dtype=np.float64)     # no dependence on X: zero derivative
    except (TypeError, ValueError):
        raise TypeError(f"vectorized=True: f must return an array of real numbers, "
                        f"not {type(r).__name__}") from None
    return v, np.zeros((n,) + v.shape)


def _reraise_with_flag(exc, vectorized, shape):
    """f failed: say how f was called and which vectorized= would call it otherwise."""
    if vectorized:
        hint = (f"f was called with all points at once, an array of shape {shape}, "
                f"because vectorized=True (the default); if f takes one point (shape "
                f"({shape[-1]},)), pass vectorized=False")
    else:
        hint = (f"f was called with one point, an array of shape {shape}, because "
                f"vectorized=False; if f takes the whole (N, n) array (columns "
                f"X[:, j]), pass vectorized=True")
    try:
        new = type(exc)(f"{exc} [{hint}]")
    except Exception:           # noqa: BLE001  (an exception type with other arguments)
        raise exc from None
    raise new from exc


def _batch_tangents_jvp(f, X, args):
    # one jvp per input direction j: tangent 1 on column j of every row
    N, n = X.shape
    value, cols = None, []
    for j in range(n):
        V = np.zeros_like(X)
        V[:, j] = 1.0
        v, d = jvp(f, X, V, args)
        if value is None:
            value = v
        cols.append(np.asarray(d, dtype=np.float64))
    if value is None:           # n == 0: one plain evaluation for the shape
        value = f(X, *args)
        return value, np.zeros((0,) + np.shape(value))
    return value, np.stack(cols)


def _loop_chunk(f, X, args, method="auto", chunk=None):
    """Task: value_and_jacobian at each row of X (f takes one point)."""
    values, jacs, shape = [], [], None
    for k, row in enumerate(X):
        if k == 0:
            try:
                v, J = value_and_jacobian(f, row, args, method=method, chunk=chunk)
            except (IndexError, TypeError) as exc:
                _reraise_with_flag(exc, False, row.shape)
        else:
            v, J = value_and_jacobian(f, row, args, method=method, chunk=chunk)
        v = np.asarray(v, dtype=np.float64)
        if shape is None:
            shape = v.shape
        elif v.shape != shape:
            raise ValueError(f"f returned outputs of different shapes, {shape} and "
                             f"{v.shape}, at different points; f must return one shape")
        values.append(v)
        jacs.append(np.asarray(J, dtype=np.float64))
    if not values:
        return np.zeros((0,)), np.zeros((0, X.shape[1]))
    return np.stack(values), np.stack(jacs)


def _vector_chunk(f, X, args, method="auto", chunk=None):
    """Task: one vectorized pass of f over the rows of X.

    Under the calculus API's per-buffer budget (DUALML_MAX_BYTES): a pass
    whose intermediate outgrows it stops before allocating, and the rows are
    split in halves; one row then splits its input directions (as
    ``jacobian`` does).  Only a pass of one row and one direction, or of one
    row with an explicit ``chunk``, runs without the budget: nothing smaller
    exists, or the caller chose the size.
    """
    try:
        from ._arraycalc import _cap_bytes, _smaller_chunk
        from .arrays._core import BufferBudgetExceeded, set_buffer_budget
    except ImportError:                 # a build without the array backend
        return _vectorized_pass(f, X, args, chunk)
    dirs = X.shape[1] if chunk is None else min(chunk, X.shape[1])
    one_row = len(X) == 1
    budget = None if one_row and (chunk is not None or dirs <= 1) else _cap_bytes()
    old = set_buffer_budget(budget)
    try:
        return _vectorized_pass(f, X, args, chunk)
    except BufferBudgetExceeded as exc:
        if exc.budget != budget:
            raise
        nbytes = exc.nbytes
    finally:
        set_buffer_budget(old)
    if one_row:
        return _vector_chunk(f, X, args, method, _smaller_chunk(dirs, nbytes, budget))
    h = len(X) // 2
    (v1, J1), (v2, J2) = (_vector_chunk(f, X[:h], args, method, chunk),
                          _vector_chunk(f, X[h:], args, method, chunk))
    return np.concatenate([v1, v2]), np.concatenate([J1, J2])


def _check_chunk(chunk, fname):
    if chunk is not None and (isinstance(chunk, (bool, np.bool_)) or
                              not isinstance(chunk, (int, np.integer)) or chunk < 1):
        raise ValueError(f"{fname}(): chunk must be None or a positive integer (input "
                         f"directions per evaluation of f), got {chunk!r}")


def _check_method(method, vectorized, fname):
    if method not in ("auto", "scalar", "array"):
        raise ValueError(f"{fname}(): method must be 'auto', 'scalar' or 'array', got "
                         f"{method!r}")
    if not isinstance(vectorized, (bool, np.bool_)):
        raise TypeError(f"{fname}(): vectorized must be True or False, got {vectorized!r}")
    if vectorized and method == "scalar":
        raise ValueError(f"{fname}(): method='scalar' calls f one point at a time with "
                         f"Duals; pass vectorized=False with it (vectorized=True evaluates "
                         f"all points at once with a DualArray)")


def _workers(executor):
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int) and n > 0:
        return n
    return os.cpu_count() or 1


def _chunks(N, n, chunksize, executor, vectorized, fname):
    if chunksize is not None:
        if (isinstance(chunksize, bool) or not isinstance(chunksize, numbers.Integral)
                or chunksize < 1):
            raise ValueError(f"{fname}(): chunksize must be None or a positive integer "
                             f"(points per task), got {chunksize!r}")
        size = int(chunksize)
    else:
        cap = max(1, _CHUNK_BYTES // (8 * max(n, 1) * (n + 1)))
        if executor is not None:
            # a few tasks per worker balances uneven chunks
            size = -(-N // (4 * _workers(executor)))
        else:
            size = N if vectorized else 64
        size = max(1, min(size, cap))
    return [slice(i, min(i + size, N)) for i in range(0, N, size)]


def _progress_bar(progress, total, fname):
    if progress is None:
        # a bar only for a person watching a terminal, and only if tqdm is there
        progress = (sys.stderr is not None and sys.stderr.isatty()
                    and importlib.util.find_spec("tqdm") is not None)
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(f"{fname}(progress=True) needs tqdm: pip install tqdm (or "
                          f"dualml[sensitivity])") from None
    return tqdm(total=total, unit="pt", desc=fname, file=sys.stderr)


def _run_batch(f, X, args, vectorized, executor, chunksize, progress, fname,
               method="auto", chunk=None):
    """values (N, *out) and Jacobians (N, *out, n) of f at the rows of X."""
    _check_method(method, vectorized, fname)
    _check_chunk(chunk, fname)
    N, n = X.shape
    if executor is not None and not isinstance(executor, concurrent.futures.Executor) \
            and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"{fname}(): executor must be a concurrent.futures.Executor "
                        f"(e.g. ProcessPoolExecutor, or a dask client's get_executor()), "
                        f"not {type(executor).__name__}")
    if N == 0:
        raise ValueError(f"{fname}(): X holds no points (shape {X.shape})")
    task = _vector_chunk if vectorized else _loop_chunk
    parts = _chunks(N, n, chunksize, executor, vectorized, fname)
    bar = _progress_bar(progress, N, fname)
    results = [None] * len(parts)
    try:
        if executor is None:
            for k, sl in enumerate(parts):
                results[k] = task(f, X[sl], args, method, chunk)
                if bar is not None:
                    bar.update(sl.stop - sl.start)
        else:
            futures = {executor.submit(task, f, X[sl], args, method, chunk): k
                       for k, sl in enumerate(parts)}
            try:
                for fut in concurrent.futures.as_completed(futures):
                    k = futures[fut]
                    results[k] = fut.result()
                    if bar is not None:
                        bar.update(parts[k].stop - parts[k].start)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()
    shape = results[0][0].shape[1:]
    for v, _ in results:
        if v.shape[1:] != shape:
            raise ValueError(f"{fname}(): f returned outputs of different shapes, "
                             f"{shape} and {v.shape[1:]}, for different points")
    if len(shape) > 1:
        raise ValueError(f"{fname}(): f must return a scalar or a 1-d array per point; "
                         f"got shape {shape}")
    values = np.concatenate([v for v, _ in results])
    J = np.concatenate([j for _, j in results])
    return values, J


def batch_value_and_jacobian(f, X, args=(), *, vectorized=True, method="auto", chunk=None,
                             executor=None, chunksize=None, progress=None):
    """f and its Jacobian at each of N points: ``J[k, i, j] = ∂f_i/∂x_j`` at ``X[k]``.

    Parameters
    ----------
    f : callable
        ``vectorized=False``: ``f(x, *args)`` takes one point, an array of
        shape (n,), and returns a real number or an (m,) array.
        ``vectorized=True``: ``f(X, *args)`` takes all points, an (N, n)
        array, and returns (N,) or (N, m), where row k depends on ``X[k]``
        only (write f with column slices such as ``X[:, 0]`` and
        ``.sum(axis=-1)``).  It is then called once per chunk with the n
        input directions seeded on every row.
    X : array_like, shape (N, n)
        The points, one per row.
    args : tuple, optional
        Extra arguments passed to f.
    vectorized : bool, optional
        Whether f works on a whole (N, n) array (see f).  Default True, as
        in ``dgsm``, ``sensitivity`` and SALib; a per-point f gets an error
        naming ``vectorized=False`` (an IndexError/TypeError from f, a
        wrong output shape, or rows that mix).
    method : {"auto", "scalar", "array"}, optional
        With ``vectorized=False``, how each point is differentiated, as in
        ``jacobian``: "auto"/"array" pass f a DualArray, "scalar" an object
        array of Duals (for code that builds ``np.array([...])`` or loops
        over scalars).  ``vectorized=True`` needs the array backend.
    chunk : int, optional
        Input directions per evaluation of f (as in ``jacobian``): all n by
        default, under the ``DUALML_MAX_BYTES`` cap (a pass that would
        outgrow it is rerun on fewer points); a smaller ``chunk`` costs
        ceil(n / chunk) evaluations and less memory per evaluation.
    executor : concurrent.futures.Executor, optional
        Runs chunks of points in parallel: a ``ProcessPoolExecutor`` (f and
        args must then be picklable, i.e. defined at module level), a
        ``ThreadPoolExecutor``, or ``dask.distributed.Client.get_executor()``.
        The results equal the serial ones; with the same ``chunksize`` they
        are identical bit for bit.
    chunksize : int, optional
        Points per task.  Default: all points in one pass (vectorized, up
        to a memory cap) or 64 (per point); with an executor, N split into
        about four tasks per worker.
    progress : bool, optional
        Show a tqdm progress bar.  Default (None): when tqdm is installed
        and stderr is a terminal.

    Returns
    -------
    values : ndarray
        Shape (N,) for a scalar f, (N, m) otherwise.
    J : ndarray
        Shape (N, n) for a scalar f, (N, m, n) otherwise.

    Raises
    ------
    TypeError
        If f is not callable, the points are not real numbers, or f returns
        anything but real numbers (or drops the derivative).
    ValueError
        If the points do not have the documented shape, f returns outputs of
        different shapes, a ``vectorized=True`` f mixes rows (the message
        names ``vectorized=False``), or ``method``/``chunksize`` are invalid.

    See Also
    --------
    batch_jacobian : the Jacobians alone.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> values, J = dualml.batch_value_and_jacobian(lambda X: X[:, 0] * X[:, 1], X,
    ...                                              vectorized=True)
    >>> values
    array([ 2., 12.])
    >>> J
    array([[2., 1.],
           [4., 3.]])
    """
    fname = "batch_value_and_jacobian"
    _check_callable(f, fname)
    X = _as_points(X, fname)
    if X.ndim != 2:
        raise ValueError(f"{fname}(): X must be an (N, n) array of N points, got shape "
                         f"{X.shape}; for one point use dualml.value_and_jacobian")
    args = args if isinstance(args, tuple) else (args,)
    return _run_batch(f, X, args, vectorized, executor, chunksize, progress, fname, method,
                      chunk)


def batch_jacobian(f, X, args=(), *, vectorized=True, method="auto", chunk=None,
                   executor=None, chunksize=None, progress=None):
    """The Jacobian of f at each of N points: ``J[k, i, j] = ∂f_i/∂x_j`` at ``X[k]``.

    Parameters
    ----------
    f, X, args, vectorized, method, chunk, executor, chunksize, progress
        As for ``batch_value_and_jacobian``.

    Returns
    -------
    ndarray
        Shape (N, n) for a scalar f, (N, m, n) for f with m outputs.

    Raises
    ------
    TypeError, ValueError
        As for ``batch_value_and_jacobian``.

    See Also
    --------
    batch_value_and_jacobian : with f's values too.
    jacobian : at one point.
    sensitivity : derivatives, elasticities and ranking.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> dualml.batch_jacobian(lambda x: x[0] ** 2 * x[1], np.array([[1.0, 2.0], [3.0, 1.0]]),
    ...                       vectorized=False)
    array([[4., 1.],
           [6., 9.]])
    """
    return batch_value_and_jacobian(f, X, args, vectorized=vectorized, method=method,
                                    chunk=chunk, executor=executor, chunksize=chunksize,
                                    progress=progress)[1]


def _check_callable(f, fname):
    if not callable(f):
        raise TypeError(f"{fname}(): f must be callable, not {type(f).__name__}")


# ----------------------------------------------------------------------------------
# local sensitivity
# ----------------------------------------------------------------------------------

def _elasticity(x, value, J):
    """x_j / f_i · ∂f_i/∂x_j, with the conventions documented in ``sensitivity``.

    x: (..., n) broadcast against J's trailing axis; value: J.shape[:-1].
    Returns (E, zero_output mask of value's shape).
    """
    v = value[..., None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        xJ = J * x
        zero = np.broadcast_to(v == 0.0, xJ.shape)
        E = np.where(zero, xJ, xJ / np.where(v == 0.0, 1.0, v))
        # x_j == 0: a relative change of x_j moves it nowhere -> elasticity 0
        # (also when the derivative is infinite; +0.0, never -0.0)
        E = np.where(x == 0.0, 0.0, E)
    return E, (value == 0.0)


def _rank(score):
    # most sensitive first; NaN sorts last; ties keep the input order
    return np.argsort(-np.abs(score), axis=-1, kind="stable")


def sensitivity(f, x, args=(), *, names=None, output_names=None, vectorized=True,
                method="auto", chunk=None, executor=None, chunksize=None, progress=None):
    """Local sensitivity of f to each input: derivatives, elasticities, ranking.

    The derivatives are exact (forward-mode automatic differentiation); the
    elasticity ``E[i, j] = x_j / f_i · ∂f_i/∂x_j`` is the percent change of
    output i per percent change of input j, which makes inputs of different
    units comparable.

    Parameters
    ----------
    f : callable
        For one point x (shape (n,)): ``f(x, *args)`` returns a real number
        or an (m,) array.  For N points see ``vectorized``.
    x : array_like, shape (n,) or (N, n)
        One point, or N points (one per row).  One point goes to f as
        ``dualml.jacobian`` passes it under the same ``method``: with
        ``"auto"`` a list/tuple as a list of floats and scalar Duals (for
        models that loop over scalars or build ``np.array([...])`` of their
        entries) and an ndarray as a DualArray (NumPy code, ``x[..., 0]``);
        ``"array"`` always a DualArray; ``"scalar"`` always scalar Duals (an
        ndarray as an object array of Duals).
    args : tuple, optional
        Extra arguments passed to f.
    names : sequence of str, optional
        Names of the n inputs (default ``x0, x1, ...``).
    output_names : sequence of str, optional
        Names of the m outputs (default ``f`` or ``f0, f1, ...``).
    vectorized, executor, chunksize, progress
        For N points, as in ``batch_value_and_jacobian``: ``vectorized=True``
        (default) means f maps the whole (N, n) array to (N,) or (N, m) row
        by row, ``vectorized=False`` that f takes one point;
        ``executor`` spreads chunks of points over a
        ``concurrent.futures.Executor``.  Ignored for one point.
    method : {"auto", "scalar", "array"}, optional
        As in ``jacobian``, for one point and for ``vectorized=False``.
    chunk : int, optional
        Input directions per evaluation of f, as in
        ``batch_value_and_jacobian`` (and ``jacobian`` for one point).

    Returns
    -------
    SensitivityResult
        With ``value``, ``jacobian``, ``elasticity``, ``ranking``, a table
        as ``str()``, ``to_dataframe()`` and ``plot()``.

    Warns
    -----
    SensitivityWarning
        If an output is exactly 0 (see Notes).

    Notes
    -----
    Conventions that keep the elasticity finite:

    * ``x_j == 0``: ``E[i, j] = 0``.  A relative change of an input that is
      0 leaves it at 0, so f does not move (this also holds when
      ``∂f_i/∂x_j`` is infinite).
    * ``f_i == 0`` (and the above does not apply): the ratio would be
      infinite, so row i holds ``x_j · ∂f_i/∂x_j = ∂f_i/∂(ln x_j)`` instead
      -- the change of f_i per relative change of x_j, in f's units.  Within
      an output this is the elasticity times the common factor f_i, so the
      signs and the ranking of the inputs are those the elasticity has
      arbitrarily close to the zero.  Such rows are flagged in
      ``result.zero_output`` and a ``SensitivityWarning`` is issued.

    Non-finite derivatives are passed through (they rank last when NaN).

    Raises
    ------
    TypeError
        If f is not callable, the points are not real numbers, or f returns
        anything but real numbers (or drops the derivative).
    ValueError
        If the points do not have the documented shape, f returns outputs of
        different shapes, a ``vectorized=True`` f mixes rows (the message
        names ``vectorized=False``), or ``method``/``chunksize`` are invalid.

    See Also
    --------
    dgsm : global sensitivity over the inputs' distributions.
    propagate : mean and covariance of f under input uncertainty.
    batch_jacobian : the Jacobians alone.

    Examples
    --------
    Cobb-Douglas production ``y = A K^a L^b`` has elasticities a and b:

    >>> import dualml
    >>> res = dualml.sensitivity(lambda x: 2.0 * x[0]**0.3 * x[1]**0.7, [4.0, 9.0],
    ...                          names=["K", "L"])
    >>> res.elasticity.round(12)
    array([0.3, 0.7])
    >>> [res.names[j] for j in res.ranking]
    ['L', 'K']
    """
    fname = "sensitivity"
    _check_callable(f, fname)
    X = _as_points(x, fname, "x")
    if X.ndim not in (1, 2):
        raise ValueError(f"{fname}(): x must be one point (shape (n,)) or N points "
                         f"(shape (N, n)); got shape {X.shape}"
                         + ("; for a function of one variable pass [x]" if X.ndim == 0
                            else ""))
    args = args if isinstance(args, tuple) else (args,)
    n = X.shape[-1]
    if n == 0:
        raise ValueError(f"{fname}(): x has no inputs (shape {X.shape})")
    names = _names(names, n, "names", "x", "sensitivity")
    if X.ndim == 1:
        _check_method(method, False, fname)
        # the point goes to f as jacobian would pass x: a list/tuple as a list
        # of floats and scalar Duals ("auto" and "scalar"; the fast path for
        # scalar-loop and np.array([...])-building models), an ndarray as a
        # DualArray ("auto"/"array") -- so both functions agree on one model
        point = [float(v) for v in X] if method != "array" and \
            isinstance(x, (list, tuple)) else X
        value, J = value_and_jacobian(f, point, args, method=method, chunk=chunk)
        value = np.asarray(value, dtype=np.float64)
        J = np.asarray(J, dtype=np.float64)
        if value.ndim > 1:
            raise ValueError(f"{fname}(): f must return a scalar or a 1-d array; got "
                             f"shape {value.shape} (flatten it)")
        xb = X
    else:
        value, J = _run_batch(f, X, args, vectorized, executor, chunksize, progress, fname,
                              method, chunk)
        xb = X if value.ndim == 1 else X[:, None, :]
    scalar_f = value.ndim == X.ndim - 1
    label = "f"
    if scalar_f:
        if output_names is not None:
            label = _names(output_names, 1, "output_names", "f", "sensitivity")[0]
        else:
            # the function's own name in tables and plots (a lambda stays "f")
            name = getattr(f, "__name__", "")
            label = name if name.isidentifier() else "f"
        output_names = None
    else:
        output_names = _names(output_names, value.shape[-1], "output_names", "f",
                              "sensitivity")
    E, zero = _elasticity(xb, value, J)
    if zero.any():
        which = _zero_report(zero, output_names, X.ndim == 2)
        warnings.warn(f"sensitivity(): f is exactly 0 ({which}); the elasticity is "
                      f"infinite there, so those rows hold x_j·∂f/∂x_j (the change of f "
                      f"per relative change of x_j) instead; see result.zero_output",
                      SensitivityWarning, stacklevel=2)
    return SensitivityResult(X, value, J, E, zero, names, output_names, label)


def _names(names, n, argname, prefix, fname):
    if names is None:
        if prefix == "f" and n == 1:
            return ["f"]
        return [f"{prefix}{j}" for j in range(n)]
    if isinstance(names, str):
        names = [s.strip() for s in names.split(",")]
    try:
        names = [str(s) for s in names]
    except TypeError:
        raise TypeError(f"{fname}(): {argname} must be a sequence of strings, not "
                        f"{type(names).__name__}") from None
    if len(names) != n:
        what = "input" if prefix == "x" else "output"     # x0, x1 / f0, f1 defaults
        raise ValueError(f"{fname}(): {argname} has {len(names)} entries but there are "
                         f"{n} {what}s; give one name per {what}")
    return names


def _zero_report(zero, output_names, batch):
    idx = np.argwhere(np.atleast_1d(zero))
    count = len(idx)
    k = idx[0]
    if batch:
        where = f"at point {k[0]}" + (f", output {output_names[k[1]]}" if len(k) > 1
                                      else "")
    else:
        where = f"output {output_names[k[0]]}" if output_names else "the output"
    more = f" and {count - 1} more" if count > 1 else ""
    return where + more


class SensitivityResult:
    """Local sensitivities of f at one point or at N points.

    Examples
    --------
    >>> import dualml
    >>> r = dualml.sensitivity(lambda x: x[0] ** 2 * x[1], [1.0, 3.0])
    >>> r.jacobian, r.elasticity      # elasticity of x0**2 * x1: (2, 1)
    (array([6., 1.]), array([2., 1.]))

    Attributes
    ----------
    x : ndarray
        The point, shape (n,), or the N points, shape (N, n).
    value : float or ndarray
        f(x): shape (), (m,), (N,) or (N, m).
    jacobian : ndarray
        ``∂f_i/∂x_j``: shape value.shape + (n,).
    elasticity : ndarray
        ``x_j / f_i · ∂f_i/∂x_j`` (conventions for zeros in ``sensitivity``),
        same shape as ``jacobian``.
    ranking : ndarray of int
        Input indices, most sensitive first by ``abs(elasticity)``: shape (n,) for
        a scalar f, (m, n) otherwise.  For N points, by the mean
        ``abs(elasticity)`` over the points (``result[k]`` is the result at point k).
    zero_output : ndarray of bool
        Where f is exactly 0 (there ``elasticity`` holds x_j·∂f/∂x_j).
    names, output_names : list of str
        Input names; output names (None for a scalar f).
    """

    def __init__(self, x, value, jacobian, elasticity, zero_output, names, output_names,
                 label="f"):
        self.x = x
        self.name = label           # the scalar output's name in tables and plots
        self.is_batch = x.ndim == 2
        self.value = float(value) if np.ndim(value) == 0 else value
        self.jacobian = jacobian
        self.elasticity = elasticity
        self.zero_output = zero_output
        self.names = list(names)
        self.output_names = None if output_names is None else list(output_names)
        self.ranking = _rank(self._mean_abs() if self.is_batch else elasticity)

    def _mean_abs(self):
        return np.mean(np.abs(self.elasticity), axis=0)

    @property
    def n_points(self):
        """Number of points (1 for a single point)."""
        return self.x.shape[0] if self.is_batch else 1

    def __len__(self):
        if not self.is_batch:
            raise TypeError("a single-point SensitivityResult has no len(); "
                            "result.is_batch is False")
        return self.x.shape[0]

    def __getitem__(self, k):
        """The single-point result at point k of a batch."""
        if not self.is_batch:
            raise TypeError("a single-point SensitivityResult cannot be indexed; "
                            "use its attributes (value, jacobian, elasticity, ranking)")
        k = range(self.x.shape[0])[k]
        return SensitivityResult(self.x[k], self.value[k], self.jacobian[k],
                                 self.elasticity[k], self.zero_output[k], self.names,
                                 self.output_names)

    def __repr__(self):
        where = f"{self.n_points} points" if self.is_batch else "1 point"
        outs = "scalar output" if self.output_names is None else \
            f"{len(self.output_names)} outputs"
        return f"<SensitivityResult: {len(self.names)} inputs, {outs}, {where}>"

    # -- presentation -------------------------------------------------------------
    #: the label of a scalar f in tables and plots (the CLI sets the
    #: function's name)
    name = "f"

    def _outputs(self):
        """[(output label, k, jacobian (…, n), elasticity (…, n), value, zero)]"""
        if self.output_names is None:
            return [(self.name, None)]
        return [(name, i) for i, name in enumerate(self.output_names)]

    def _select(self, a, i):
        if i is None:
            return a
        return a[:, i] if self.is_batch else a[i]

    def __str__(self):
        lines = []
        w = max(5, max(len(s) for s in self.names))
        for label, i in self._outputs():
            J = self._select(self.jacobian, i)
            E = self._select(self.elasticity, i)
            v = self._select(self.value, i) if i is not None else self.value
            order = _rank(np.mean(np.abs(E), axis=0) if self.is_batch else E)
            if self.is_batch:
                vmean = float(np.mean(v))
                lines.append(f"Sensitivity of {label} over {self.n_points} points "
                             f"(mean {label} = {vmean:.6g})")
                lines.append(f"{'rank':>4}  {'input':<{w}}  {'mean x':>12}  "
                             f"{'mean df/dx':>12}  {'mean elast.':>12}  "
                             f"{'mean |elast.|':>13}")
                xm, Jm, Em = self.x.mean(axis=0), J.mean(axis=0), E.mean(axis=0)
                Ea = np.abs(E).mean(axis=0)
                for r, j in enumerate(order, 1):
                    lines.append(f"{r:>4}  {self.names[j]:<{w}}  {xm[j]:>12.6g}  "
                                 f"{Jm[j]:>12.6g}  {Em[j]:>12.6g}  {Ea[j]:>13.6g}")
            else:
                lines.append(f"Sensitivity of {label} = {float(v):.6g}")
                lines.append(f"{'rank':>4}  {'input':<{w}}  {'x':>12}  {'df/dx':>12}  "
                             f"{'elasticity':>12}")
                for r, j in enumerate(order, 1):
                    lines.append(f"{r:>4}  {self.names[j]:<{w}}  {self.x[j]:>12.6g}  "
                                 f"{J[j]:>12.6g}  {E[j]:>12.6g}")
            z = self._select(self.zero_output, i) if i is not None else self.zero_output
            if np.any(z):
                lines.append(f"      ({label} is 0{' at some points' if self.is_batch else ''}"
                             f": elasticity there is x·df/dx)")
            lines.append("")
        lines.append("elasticity = x_j / f · df/dx_j  (% change of f per % change of x_j)")
        return "\n".join(lines)

    def to_dataframe(self):
        """The result as a tidy pandas DataFrame, one row per (output, input).

        Columns: ``point`` (for N points), ``output``, ``input``, ``x``,
        ``value`` (f), ``derivative``, ``elasticity``, ``rank`` (1 = most
        sensitive input of that output, at that point).

        Examples
        --------
        >>> import dualml
        >>> df = dualml.sensitivity(lambda x: x[0] * x[1], [2.0, 3.0]).to_dataframe()
        >>> list(df["elasticity"])
        [1.0, 1.0]
        """
        pd = _pandas("SensitivityResult")
        n = len(self.names)
        value = np.asarray(self.value, dtype=np.float64)
        J, E = self.jacobian, self.elasticity
        X = self.x if self.is_batch else self.x[None]
        if not self.is_batch:
            value, J, E = value[None], J[None], E[None]
        if self.output_names is None:
            value, J, E = value[:, None], J[:, None, :], E[:, None, :]
        outs = self.output_names or [self.name]
        N, m = value.shape
        ranks = np.empty(E.shape, dtype=np.int64)
        np.put_along_axis(ranks, _rank(E), np.arange(1, n + 1), axis=-1)
        cols = {}
        if self.is_batch:
            cols["point"] = np.repeat(np.arange(N), m * n)
        cols["output"] = np.tile(np.repeat(outs, n), N)
        cols["input"] = np.tile(self.names, N * m)
        cols["x"] = np.repeat(X[:, None, :], m, axis=1).ravel()
        cols["value"] = np.repeat(value.ravel(), n)
        cols["derivative"] = J.ravel()
        cols["elasticity"] = E.ravel()
        cols["rank"] = ranks.ravel()
        return pd.DataFrame(cols)

    to_df = to_dataframe    # the name DGSMResult, PropagationResult and SALib use

    def plot(self, ax=None, kind="bar", output=0, measure="elasticity"):
        """Signed bars of the sensitivities, sorted by magnitude.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        kind : {"bar", "tornado"}
            "bar": vertical bars, most sensitive input first; "tornado":
            horizontal bars about zero, most sensitive on top.
        output : int or str
            Which output of a vector f (index or name).
        measure : {"elasticity", "jacobian"}
            Plot elasticities (default) or the raw derivatives.

        For N points the bars are the means over the points, with whiskers
        at ± one standard deviation.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import dualml
        >>> ax = dualml.sensitivity(lambda x: x[0] * x[1]**2, [1.0, 2.0]).plot(kind="tornado")
        """
        if kind not in ("bar", "tornado"):
            raise ValueError(f"plot(): kind must be 'bar' or 'tornado', got {kind!r}")
        if measure not in ("elasticity", "jacobian"):
            raise ValueError(f"plot(): measure must be 'elasticity' or 'jacobian', got "
                             f"{measure!r}")
        i, label = self._output_index(output)
        data = self._select(getattr(self, measure), i)
        if self.is_batch:
            vals, err = data.mean(axis=0), data.std(axis=0)
        else:
            vals, err = data, None
        order = _rank(np.abs(data).mean(axis=0) if self.is_batch else data)
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("SensitivityResult.plot() needs matplotlib: pip install "
                              "matplotlib (or dualml[sensitivity])") from None
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 0.4 * len(order) + 2.0)
                                 if kind == "tornado" else (6.4, 4.0))
        names = [self.names[j] for j in order]
        v = vals[order]
        e = None if err is None else err[order]
        colors = ["tab:blue" if t >= 0 else "tab:red" for t in v]
        what = "elasticity" if measure == "elasticity" else f"d{label}/dx"
        if self.is_batch:
            what = f"mean {what} (± std over {self.n_points} points)"
        if kind == "bar":
            ax.bar(range(len(v)), v, yerr=e, color=colors, capsize=3)
            ax.set_xticks(range(len(v)))
            ax.set_xticklabels(names)
            ax.axhline(0.0, color="black", linewidth=0.8)
            ax.set_ylabel(what)
        else:
            pos = np.arange(len(v))[::-1]       # most sensitive on top
            ax.barh(pos, v, xerr=e, color=colors, capsize=3)
            ax.set_yticks(pos)
            ax.set_yticklabels(names)
            ax.axvline(0.0, color="black", linewidth=0.8)
            ax.set_xlabel(what)
        ax.set_title(f"Sensitivity of {label}")
        return ax

    def _output_index(self, output):
        if self.output_names is None:
            return None, self.name
        if isinstance(output, str):
            if output not in self.output_names:
                raise ValueError(f"plot(): output {output!r} is not one of "
                                 f"{self.output_names}")
            k = self.output_names.index(output)
        else:
            try:
                k = range(len(self.output_names))[output]
            except (IndexError, TypeError):
                raise ValueError(f"plot(): output must be a name or an index below "
                                 f"{len(self.output_names)}, got {output!r}") from None
        return k, self.output_names[k]


# ----------------------------------------------------------------------------------
# DGSM: derivative-based global sensitivity measures
# ----------------------------------------------------------------------------------

def _check_problem(problem):
    """(D, names, specs, groups): specs per input (dist, parameters, Poincaré
    constant C); groups one label per input, or None."""
    if not isinstance(problem, dict):
        raise TypeError(f"dgsm(): problem must be a dict like {{'num_vars': 2, 'names': "
                        f"['a', 'b'], 'bounds': [[0, 1], [0, 1]]}}, not "
                        f"{type(problem).__name__}")
    D = problem.get("num_vars")
    if D is not None and (isinstance(D, bool) or not isinstance(D, numbers.Integral)
                          or D < 1):
        raise ValueError(f"dgsm(): problem['num_vars'] must be a positive integer, got "
                         f"{D!r}")
    bounds = problem.get("bounds")
    if bounds is None:
        raise ValueError("dgsm(): problem needs 'bounds', one [low, high] per input")
    if isinstance(bounds, np.ndarray):
        bounds = bounds.tolist()
    if not isinstance(bounds, (list, tuple)) or \
            not all(isinstance(b, (list, tuple, np.ndarray)) for b in bounds):
        raise ValueError("dgsm(): problem['bounds'] must be a list of [low, high] pairs "
                         "of numbers (one list of parameters per input)")
    D = len(bounds) if D is None else int(D)
    if len(bounds) != D:
        raise ValueError(f"dgsm(): problem['bounds'] has {len(bounds)} pairs but "
                         f"problem['num_vars'] is {D}; give one [low, high] per input")
    names = problem.get("names")
    names = [f"x{j + 1}" for j in range(D)] if names is None else \
        _names(names, D, "problem['names']", "x", "dgsm")
    dists = problem.get("dists")
    if dists is None:
        dists = ["unif"] * D
    elif isinstance(dists, str) or len(dists) != D:
        raise ValueError(f"dgsm(): problem['dists'] must list one distribution per input "
                         f"({D}), got {dists!r}")
    specs = [_input_dist(str(dists[j]).lower(), bounds[j], j) for j in range(D)]
    groups = problem.get("groups")
    if groups is not None:
        if isinstance(groups, str) or len(groups) != D:
            raise ValueError(f"dgsm(): problem['groups'] must name one group per input "
                             f"({D}), got {groups!r}")
        groups = [str(g) for g in groups]
    return D, names, specs, groups


# SALib's distribution keys, their 'bounds' entries, and the Poincaré
# constant C of each (Var g(X) <= C E[g'(X)^2], so S_tot <= C vi / Var f)
_DISTS = {
    "unif": ("[low, high]", 2),
    "norm": ("[mean, std]", 2),
    "truncnorm": ("[low, high, mean, std]", 4),
    "lognorm": ("[mean, std] of ln x", 2),
    "triang": ("[low, high, peak as a fraction of high - low]", 3),
}


def _input_dist(dist, b, j):
    if dist not in _DISTS:
        raise ValueError(f"dgsm(): problem['dists'][{j}] = {dist!r} is not supported; "
                         f"use one of {', '.join(_DISTS)} (SALib's keys)")
    what, k = _DISTS[dist]
    try:
        b = [float(v) for v in b]
    except (TypeError, ValueError):
        raise ValueError(f"dgsm(): problem['bounds'][{j}] must be numbers {what} for "
                         f"{dist!r}") from None
    if len(b) != k:
        raise ValueError(f"dgsm(): problem['bounds'][{j}] must be {what} for {dist!r} "
                         f"(pairs of numbers); got {b}")
    if not all(math.isfinite(v) for v in b):
        raise ValueError(f"dgsm(): problem['bounds'][{j}] = {b} must be finite")
    if dist in ("unif", "truncnorm", "triang") and not b[0] < b[1]:
        raise ValueError(f"dgsm(): problem['bounds'][{j}] = {b} must have low < high")
    if dist in ("norm", "lognorm") and not b[1] > 0 or dist == "truncnorm" and not b[3] > 0:
        raise ValueError(f"dgsm(): problem['bounds'][{j}] = {b}: the standard deviation "
                         f"must be positive")
    if dist == "triang" and not 0.0 <= b[2] <= 1.0:
        raise ValueError(f"dgsm(): problem['bounds'][{j}] = {b}: the peak is a fraction "
                         f"of the width, in [0, 1]")
    # Poincaré constants: (b-a)^2/pi^2 for a log-concave density on [a, b]
    # (Payne-Weinberger: uniform, triangular, truncated normal), sigma^2 for a
    # normal (and a truncated one, Brascamp-Lieb); the lognormal has none
    # (its tail is too heavy), so its dgsm is NaN
    if dist in ("unif", "triang"):
        C = (b[1] - b[0]) ** 2 / math.pi ** 2
    elif dist == "norm":
        C = b[1] ** 2
    elif dist == "truncnorm":
        C = min(b[3] ** 2, (b[1] - b[0]) ** 2 / math.pi ** 2)
    else:
        C = math.inf
    return dist, b, C


def _scale_points(U, specs):
    """Sobol points in (0, 1)^D mapped to the inputs' distributions (inverse CDFs)."""
    X = np.empty_like(U)
    U = np.clip(U, 2.0 ** -53, 1.0 - 2.0 ** -53)    # ppf(0) would be -inf
    stats = None
    for j, (dist, b, _) in enumerate(specs):
        if dist == "unif":
            X[:, j] = b[0] + (b[1] - b[0]) * U[:, j]
            continue
        if stats is None:
            from scipy import stats
        if dist == "norm":
            X[:, j] = stats.norm.ppf(U[:, j], loc=b[0], scale=b[1])
        elif dist == "lognorm":
            X[:, j] = np.exp(stats.norm.ppf(U[:, j], loc=b[0], scale=b[1]))
        elif dist == "truncnorm":
            lo, hi, mu, sd = b
            X[:, j] = stats.truncnorm.ppf(U[:, j], (lo - mu) / sd, (hi - mu) / sd,
                                          loc=mu, scale=sd)
        else:
            X[:, j] = stats.triang.ppf(U[:, j], b[2], loc=b[0], scale=b[1] - b[0])
    return X


def _sobol_points(D, N, rng):
    try:
        from scipy.stats import qmc
    except ImportError:
        raise ImportError("dgsm() needs scipy for its Sobol points: pip install scipy (or "
                          "dualml[sensitivity])") from None
    try:
        sobol = qmc.Sobol(d=D, scramble=True, rng=rng)
    except TypeError:                       # SciPy < 1.15 names it seed
        sobol = qmc.Sobol(d=D, scramble=True, seed=rng)
    with warnings.catch_warnings():
        # SciPy warns when N is not a power of 2 (balance is best then; the
        # docstring says so); any N is a valid scrambled QMC design.
        warnings.filterwarnings("ignore", message=".*balance properties.*")
        return sobol.random(N)


def _batch_hessians(f, X, args, vectorized, method):
    """The Hessian of f at each row of X: (N, D, D).

    Vectorized: f(X + z) with one shift z (D,) for all rows, differentiated
    twice in z -- row k of a row-wise f sees only X[k] + z, so that is row
    k's Hessian, all N from one nested pass.
    """
    from .calculus import hessian, jacobian
    if not vectorized:
        return np.stack([np.asarray(hessian(f, x, args, method=method), dtype=np.float64)
                         for x in X])

    def shifted(z):
        return f(X + z, *args)

    def grad(z):
        return jacobian(shifted, z)
    H = np.asarray(jacobian(grad, np.zeros(X.shape[1])), dtype=np.float64)
    H = H.reshape(X.shape[0], X.shape[1], X.shape[1])
    return 0.5 * (H + H.swapaxes(1, 2))     # the two nested orders differ by rounding


def _nonfinite_report(Y, G, X, names):
    bad_y = ~np.isfinite(Y)
    bad_g = ~np.isfinite(G)
    N = len(Y)
    parts = []
    if bad_y.any():
        k = int(np.argmax(bad_y))
        parts.append(f"f is non-finite at {int(bad_y.sum())} of {N} points (first at "
                     f"x = {np.array2string(X[k], precision=4)})")
    per = bad_g.sum(axis=0)
    if per.any():
        items = ", ".join(f"{names[j]}: {int(per[j])}" for j in range(len(names))
                          if per[j])
        k = int(np.argmax(bad_g.any(axis=1)))
        parts.append(f"non-finite gradients per input ({items} of {N} points; first at "
                     f"x = {np.array2string(X[k], precision=4)})")
    return "; ".join(parts)


def _bootstrap(Y, G2, scale, num_resamples, rng, z):
    """Bootstrap half-widths (z·std) of vi and dgsm, resampling points jointly.

    A resample that draws points of one f value only (likely for small N:
    at N = 4 one resample in 64 draws a single point four times) has
    Var f = 0 to rounding, so its dgsm is undefined (vi/0 = inf, whose
    spread was inf - inf = nan with a RuntimeWarning).  Those resamples are
    left out of dgsm's spread (the bootstrap given that Var f > 0); with
    fewer than two left, dgsm_conf is NaN.  vi is defined on every resample.
    """
    N, D = G2.shape
    Yc = Y - Y.mean()           # centred: E[Y²] - E[Y]² without cancellation
    Yc2 = Yc * Yc
    block = max(1, min(num_resamples, 4_000_000 // N))
    vis, dgs = [], []
    for start in range(0, num_resamples, block):
        R = min(block, num_resamples - start)
        idx = rng.integers(0, N, size=(R, N))
        # counts W[r, k] of point k in resample r; then means are W @ data / N
        W = np.bincount((idx + (np.arange(R) * N)[:, None]).ravel(),
                        minlength=R * N).reshape(R, N).astype(np.float64)
        vi = W @ G2 / N
        m2 = W @ Yc2 / N
        m1 = W @ Yc / N
        var = m2 - m1 * m1
        # Var f is zero to rounding where it is within a few ulps of the
        # mean square it is the difference of (all drawn values equal)
        ok = var > 16 * np.finfo(np.float64).eps * m2
        dg = np.full((R, D), np.nan)
        dg[ok] = vi[ok] * scale / var[ok, None]
        vis.append(vi)
        dgs.append(dg[ok])
    vis, dgs = np.concatenate(vis), np.concatenate(dgs)
    nan = np.full(D, np.nan)
    vi_conf = z * vis.std(axis=0, ddof=1) if num_resamples >= 2 else nan
    dgsm_conf = z * dgs.std(axis=0, ddof=1) if len(dgs) >= 2 else nan
    return vi_conf, dgsm_conf


def dgsm(f, problem, n_samples, seed=None, *, args=(), vectorized=True, method="auto",
         chunk=None, num_resamples=100, conf_level=0.95, nonfinite="raise", crossed=False,
         executor=None, chunksize=None, progress=None):
    """Derivative-based global sensitivity measures with exact gradients.

    Draws ``n_samples`` scrambled Sobol points, mapped to the inputs'
    distributions (uniform on ``problem["bounds"]`` unless ``problem["dists"]``
    says otherwise), evaluates f and its exact gradient there -- one
    vectorized pass per chunk, instead of the N·(D+1) perturbed runs of a
    finite-difference DGSM -- and returns, per input i:

    * ``vi = E[(∂f/∂x_i)²]`` (Sobol & Kucherenko 2009),
    * ``dgsm = C_i·vi/Var f``, an upper bound on the total Sobol index of
      x_i, with C_i the Poincaré constant of x_i's distribution:
      ``(b_i − a_i)²/π²`` for a uniform input.

    Parameters
    ----------
    f : callable
        ``vectorized=True`` (default, SALib's convention): ``f(X, *args)``
        maps the (N, D) sample matrix to the N outputs, row by row.
        ``vectorized=False``: ``f(x, *args)`` takes one point (D,) and
        returns a real number.
    problem : dict
        SALib-style: ``{"num_vars": D, "names": [...], "bounds": [[a, b], ...],
        "dists": [...]}`` (``names`` and ``dists`` optional).  ``dists`` uses
        SALib's keys and bounds: "unif" [low, high] (the default), "norm"
        [mean, std], "truncnorm" [low, high, mean, std], "lognorm" [mean,
        std] of ln x, "triang" [low, high, peak as a fraction of the width].
        C_i is ``(high − low)²/π²`` for unif and triang (Payne–Weinberger:
        any log-concave density on an interval), ``std²`` for norm
        (Bakry–Émery), ``min(std², (high − low)²/π²)`` for truncnorm; a
        lognormal has no Poincaré constant, so its dgsm is NaN (with a
        SensitivityWarning) while vi is still reported.  ``groups`` (one
        label per input) makes the result per group, as SALib does: ``vi``
        the sum of the members' vi, ``dgsm`` the sum of their dgsm (a bound
        on the group's total index); the per-input result is ``.inputs``.
    n_samples : int
        Number of points N (>= 2).  Powers of two keep the Sobol points'
        balance properties; any N works.
    seed : int, numpy Generator or None, optional
        Seeds the scrambling of the Sobol points and the bootstrap.
    args : tuple, optional
        Extra arguments passed to f.
    vectorized : bool, optional
        See f (default True, as in ``sensitivity`` and ``batch_jacobian``).
    method : {"auto", "scalar", "array"}, optional
        With ``vectorized=False``, as in ``jacobian``.
    chunk : int, optional
        Input directions per evaluation of f, as in ``batch_value_and_jacobian``.
    num_resamples : int, optional
        Bootstrap resamples for the confidence half-widths (as in SALib).
    conf_level : float, optional
        Confidence level of the half-widths, in (0, 1).
    nonfinite : {"raise", "omit"}, optional
        What to do where f or its gradient is not finite: "raise" a
        ValueError reporting, per input, at how many points the gradient is
        non-finite; "omit" those points (their count is in ``n_omitted``).
    crossed : bool, optional
        Also the crossed DGSM (Roustant, Fruth, Iooss & Kuhnt 2014), from
        the exact Hessians at the same points: ``res["crossed_vi"][i, j] =
        E[(∂²f/∂x_i∂x_j)²]`` and ``res["crossed_dgsm"][i, j] = C_i C_j
        crossed_vi[i, j] / Var f``, an upper bound on the total interaction
        index of (x_i, x_j) (off the diagonal; both (D, D)).  Costs D more
        directions per point.
    executor, chunksize, progress
        As in ``batch_value_and_jacobian``.

    Returns
    -------
    DGSMResult
        A dict with SALib's keys ``"vi"``, ``"vi_std"`` (standard deviation
        of the squared derivative over the points), ``"dgsm"``,
        ``"dgsm_conf"``, plus ``"vi_conf"`` and ``"names"``; attributes
        ``variance`` (Var f over the points), ``n_samples``, ``n_omitted``.

    Notes
    -----
    Confidence half-widths are ``z·std`` of the bootstrap distribution (points
    resampled with replacement; vi and Var f recomputed together), with
    ``z`` the normal quantile of ``conf_level``.  ``dgsm_conf`` is the
    half-width of ``dgsm`` itself; SALib's ``dgsm_conf`` is the bootstrap
    spread of ``vi`` (unscaled), which is what ``vi_conf`` is here.  The
    bootstrap treats the points as independent, so it overstates the error of
    the Sobol (QMC) estimate: a conservative interval.  A resample in which
    f takes one value only (Var f = 0, likely for small N: one in 64 at
    N = 4) has no dgsm; such resamples are left out of ``dgsm_conf``, which
    is NaN when fewer than two resamples remain.

    Raises
    ------
    TypeError
        If f is not callable, the problem is malformed (the message names the key), or f returns
        anything but real numbers (or drops the derivative).
    ValueError
        If ``problem``'s bounds, dists or groups are invalid, n_samples < 2,  f returns outputs of
        different shapes, a ``vectorized=True`` f mixes rows (the message
        names ``vectorized=False``), or ``method``/``chunksize`` are invalid.
        With ``nonfinite="raise"``, also where f or its gradient is not
        finite at a sample point.

    See Also
    --------
    sensitivity : local sensitivities at one or many points.
    solve_ivp : the ODE models whose DGSM this computes.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 2]]}
    >>> res = dualml.dgsm(lambda X: X[:, 0] + X[:, 1] ** 2, problem, 1024, seed=0)
    >>> np.round(res["vi"], 3)          # E[1] = 1, E[(2b)²] = 16/3
    array([1.   , 5.333])
    """
    fname = "dgsm"
    _check_callable(f, fname)
    D, names, specs, groups = _check_problem(problem)
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) \
            or n_samples < 2:
        raise ValueError(f"dgsm(): n_samples must be an integer >= 2 (variances need two "
                         f"points), got {n_samples!r}")
    if isinstance(num_resamples, bool) or not isinstance(num_resamples, numbers.Integral) \
            or num_resamples < 1:
        raise ValueError(f"dgsm(): num_resamples must be a positive integer, got "
                         f"{num_resamples!r}")
    if not isinstance(conf_level, numbers.Real) or not 0 < conf_level < 1:
        raise ValueError(f"dgsm(): conf_level must be between 0 and 1, got {conf_level!r}")
    if nonfinite not in ("raise", "omit"):
        raise ValueError(f"dgsm(): nonfinite must be 'raise' or 'omit', got {nonfinite!r}")
    args = args if isinstance(args, tuple) else (args,)
    try:
        rng = np.random.default_rng(seed)
    except (TypeError, ValueError):
        err = ValueError if isinstance(seed, numbers.Integral) else TypeError
        raise err(f"dgsm(): seed must be None, a non-negative int (or a sequence of "
                  f"them) or a numpy Generator; got {seed!r}") from None
    X = _scale_points(_sobol_points(D, int(n_samples), rng), specs)
    Y, G = _run_batch(f, X, args, vectorized, executor, chunksize, progress, fname, method,
                      chunk)
    if Y.ndim != 1:
        raise ValueError(f"dgsm(): f must return one number per point; got shape "
                         f"{Y.shape[1:]} per point (analyse one output at a time)")
    bad = ~np.isfinite(Y) | ~np.isfinite(G).all(axis=1)
    n_omitted = 0
    if bad.any():
        report = _nonfinite_report(Y, G, X, names)
        if nonfinite == "raise":
            raise ValueError(f"dgsm(): {report}; restrict problem['bounds'] away from "
                             f"where f or its derivative is not finite, or pass "
                             f"nonfinite='omit' to drop those points")
        n_omitted = int(bad.sum())
        if len(Y) - n_omitted < 2:
            raise ValueError(f"dgsm(): fewer than 2 points left after omitting the "
                             f"non-finite ones ({report})")
        Y, G, X = Y[~bad], G[~bad], X[~bad]
    crossed_vi = None
    if crossed:
        H = _batch_hessians(f, X, args, vectorized, method)
        if not np.isfinite(H).all():
            raise ValueError(f"dgsm(): the Hessian of f is not finite at "
                             f"{int((~np.isfinite(H)).any(axis=(1, 2)).sum())} of {len(X)} "
                             f"points; restrict problem['bounds'] or pass crossed=False")
        crossed_vi = (H * H).mean(axis=0)
    G2 = G * G
    vi = G2.mean(axis=0)
    vi_std = G2.std(axis=0)
    var = float(Y.var())
    scale = np.array([C for _, _, C in specs])
    if np.isinf(scale).any():
        inf_names = [names[j] for j in range(D) if np.isinf(scale[j])]
        warnings.warn(f"dgsm(): the lognormal inputs {inf_names} have no Poincaré "
                      f"constant (their tail is too heavy), so dgsm bounds nothing there "
                      f"and is NaN; vi is still E[(df/dx)^2]", SensitivityWarning,
                      stacklevel=2)
        scale = np.where(np.isinf(scale), np.nan, scale)
    if var == 0.0:
        warnings.warn("dgsm(): f is constant at the sample points (Var f = 0); dgsm is "
                      "undefined and set to NaN", SensitivityWarning, stacklevel=2)
        dg = np.full(D, np.nan)
    else:
        dg = vi * scale / var
    z = statistics.NormalDist().inv_cdf(0.5 + conf_level / 2.0)
    vi_conf, dgsm_conf = _bootstrap(Y, G2, scale, int(num_resamples), rng, z)
    if var == 0.0:
        dgsm_conf = np.full(D, np.nan)
    out = DGSMResult(vi=vi, vi_std=vi_std, dgsm=dg, dgsm_conf=dgsm_conf, vi_conf=vi_conf,
                     names=names)
    out.variance, out.n_samples, out.n_omitted = var, len(Y), n_omitted
    if crossed_vi is not None:
        out["crossed_vi"] = crossed_vi
        with np.errstate(invalid="ignore", divide="ignore"):
            out["crossed_dgsm"] = np.outer(scale, scale) * crossed_vi / var \
                if var > 0.0 else np.full((D, D), np.nan)
    if groups is None:
        return out
    # groups (SALib's convention: the result is per group, names = the groups):
    # vi_G = sum of the members' vi, and dgsm_G = sum of C_i vi_i / Var f bounds
    # the group's total index (total indices are subadditive)
    labels = list(dict.fromkeys(groups))
    M = np.array([[g == label for label in labels] for g in groups], dtype=np.float64)
    G2g = G2 @ M
    G2c = (G2 * scale) @ M
    ones = np.ones(len(labels))
    vi_conf_g = _bootstrap(Y, G2g, ones, int(num_resamples), rng, z)[0]
    dgsm_conf_g = _bootstrap(Y, G2c, ones, int(num_resamples), rng, z)[1]
    if var == 0.0:
        dg_g = dgsm_conf_g = np.full(len(labels), np.nan)
    else:
        dg_g = G2c.mean(axis=0) / var
    res = DGSMResult(vi=G2g.mean(axis=0), vi_std=G2g.std(axis=0), dgsm=dg_g,
                     dgsm_conf=dgsm_conf_g, vi_conf=vi_conf_g, names=labels)
    res.variance, res.n_samples, res.n_omitted = var, len(Y), n_omitted
    res.inputs = out
    return res


class DGSMResult(dict):
    """dgsm()'s result: a dict with SALib's keys, a table as str(), a DataFrame.

    Keys ``"vi"``, ``"vi_std"``, ``"vi_conf"``, ``"dgsm"``, ``"dgsm_conf"``
    (arrays of shape (n,), one entry per input, as SALib's ``dgsm.analyze``)
    and ``"names"``; attributes ``n_samples``, ``variance`` (of f over the
    sample) and ``n_omitted`` (points where f or its gradient was not
    finite).

    Examples
    --------
    >>> import numpy as np, dualml
    >>> problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    >>> r = dualml.dgsm(lambda X: X[:, 0] + 2 * X[:, 1], problem, 64, seed=0, vectorized=True)
    >>> np.round(r["vi"], 12)          # E[(df/dx_j)^2]: exactly 1 and 4
    array([1., 4.])
    """

    _KEYS = ("vi", "vi_std", "vi_conf", "dgsm", "dgsm_conf")

    def __str__(self):
        names = self["names"]
        w = max(5, max(len(s) for s in names))
        head = (f"DGSM over {self.n_samples} points (Var f = {self.variance:.6g}"
                + (f", {self.n_omitted} non-finite points omitted" if self.n_omitted
                   else "") + ")")
        lines = [head, f"{'input':<{w}}" + "".join(f"  {k:>12}" for k in self._KEYS)]
        for j, name in enumerate(names):
            lines.append(f"{name:<{w}}" + "".join(f"  {self[k][j]:>12.6g}"
                                                  for k in self._KEYS))
        return "\n".join(lines)

    def to_dataframe(self):
        """The measures as a pandas DataFrame indexed by input name."""
        pd = _pandas("DGSMResult")
        return pd.DataFrame({k: self[k] for k in self._KEYS}, index=list(self["names"]))

    to_df = to_dataframe    # SALib's name
