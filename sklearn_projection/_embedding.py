"""The built-in trainer's first layer over sparse wide input: hashed rows, row-sparse Adam.

Over a sparse ``X`` with more than :data:`TABLE_ROWS` columns (hashed text: 2**20 or
2**31 columns), a dense ``n_features x width`` first layer is out of the question (2 GiB
at 2**20 x 256 in float64, and three copies with Adam's moments). The trainer then uses,
like fastText's embedding bag or TF's LazyAdam over an embedding:

- **A bounded table of rows.** Feature ``j`` (a column of ``X``) reads row
  ``feature_row(j) = (j * 0x9E3779B97F4A7C15 mod 2**64) >> (64 - log2(TABLE_ROWS))``
  (Fibonacci hashing: consecutive indices spread over the table; hashed columns are
  already uniform) of a ``TABLE_ROWS x width`` matrix. Features that share a row share
  its weights, as colliding n-grams share a column of the hasher: the trainer is only the
  teacher, and memory stays ``3 * TABLE_ROWS * width`` floats whatever ``n_features`` and
  however many distinct features a stream brings. Every row exists from the start
  (Glorot-uniform over the table's shape, drawn like a dense layer of ``TABLE_ROWS``
  inputs), so a feature first seen late in a stream needs nothing new.
- **Cost O(nnz x width) per minibatch.** A minibatch is a :class:`RowBatch`: its
  non-zeros with their values, each pointing to one of the ``k`` distinct rows the batch
  touches. Forward adds ``x_ij * row`` per non-zero; backward accumulates the gradient of
  the ``k`` touched rows only (a :class:`RowGrad`), never a ``TABLE_ROWS x width`` array.
- **Lazy L2.** The penalty ``alpha/2 * ||W||^2 / sum(sample_weight)`` counts the rows the
  minibatch touches (as every other layer counts all of its weights): rows of features
  absent from a minibatch are neither decayed nor moved.
- **Row-sparse ("lazy") Adam** (:func:`lazy_adam_rows`): the touched rows get exactly the
  dense Adam update (same global step count and bias correction); other rows and their
  moments stay as they are. When every row is touched it is the dense update, bit for bit.

Which first layer a trainer has is decided once, on the first fit, by
:func:`table_rows_for` and recorded in ``BuiltinTrainer.table_rows_`` (None: dense).
"""

import numpy as np
import scipy.sparse as sp

from ._numba import njit

#: rows of the hashed table; also the width above which sparse input uses it (so inputs of
#: up to 2**16 columns, e.g. HashingVectorizer(2**15), keep the dense layer they had). 2**16
#: rows of 256 float64 weights are 128 MiB (384 with Adam's moments). TREC-6 over
#: NgramHasher(2**20) features (45 000 distinct columns), 10 epochs, seed 0
#: (benchmarks/results/text_fit_time.md): trainer test accuracy 0.821 / 0.825 / 0.829 at
#: 2**14 / 2**16 / 2**18 rows (96 / 384 / 1 536 MiB with moments), projection network
#: 0.764 / 0.758 / 0.758: the teacher gains little from more rows, memory grows 4x per step.
TABLE_ROWS = 2**16

_FIBONACCI = np.uint64(0x9E3779B97F4A7C15)


def table_rows_for(X):
    """The built-in trainer's first layer for input like ``X``: the number of rows of a
    hashed table (sparse ``X`` with more than ``TABLE_ROWS`` columns), else None (a dense
    ``n_features x width`` layer, the behaviour of every narrower or dense input)."""
    if sp.issparse(X) and X.shape[1] > TABLE_ROWS:
        return TABLE_ROWS
    return None


def feature_rows(indices, n_rows):
    """Row of the table read by each feature index (``n_rows`` a power of two)."""
    shift = np.uint64(64 - (int(n_rows).bit_length() - 1))
    h = np.asarray(indices).astype(np.uint64) * _FIBONACCI  # wraps modulo 2**64
    return (h >> shift).astype(np.intp)


class RowBatch:
    """Rows of a sparse input as lists of (touched row, value): the first layer's input.

    ``indptr``, ``local`` and ``data`` are CSR arrays over the ``k = len(rows)`` distinct
    rows of the table the batch touches; ``local[e]`` is the position in ``rows`` of
    non-zero ``e`` (two features of a row may share a table row: both are kept).
    """

    def __init__(self, indptr, local, data, rows, n_rows):
        self.indptr, self.local, self.data, self.rows = indptr, local, data, rows
        self.n_rows = n_rows
        self.shape = (len(indptr) - 1, n_rows)
        self.dtype = data.dtype

    @classmethod
    def from_sparse(cls, X, n_rows):
        """The batch of the rows of ``X`` (any scipy sparse format or a dense array)."""
        X = sp.csr_matrix(X) if not sp.issparse(X) or X.format != "csr" else X
        rows, local = np.unique(feature_rows(X.indices, n_rows), return_inverse=True)
        return cls(
            np.ascontiguousarray(X.indptr, dtype=np.intp), local.astype(np.intp, copy=False),
            np.ascontiguousarray(X.data), rows, n_rows,
        )

    def to_csr(self):
        """The batch as a CSR matrix over all ``n_rows`` rows (for reference computations)."""
        return sp.csr_matrix((self.data, self.rows[self.local], self.indptr), shape=self.shape)


class RowGrad:
    """Gradient of a table: ``values[r]`` is the gradient of row ``rows[r]``, every other
    row's gradient is 0."""

    def __init__(self, rows, values):
        self.rows, self.values = rows, values
        self.shape = values.shape

    def toarray(self, n_rows):
        out = np.zeros((n_rows, self.values.shape[1]), dtype=self.values.dtype)
        out[self.rows] = self.values
        return out


def bag_forward(batch, table):
    """``X @ table`` for a :class:`RowBatch` ``X``: O(nnz x width)."""
    out = np.zeros((batch.shape[0], table.shape[1]), dtype=np.result_type(batch.data, table))
    _bag_forward(batch.indptr, batch.local, batch.data.astype(out.dtype, copy=False),
                 batch.rows, table, out)
    return out


def bag_backward(batch, delta, table, alpha, sw_sum):
    """:class:`RowGrad` of ``(sum_i loss_i + alpha/2 ||table[rows]||^2) / sw_sum`` given
    ``delta = d(sum_i loss_i)/d(X @ table)``."""
    values = np.zeros((len(batch.rows), table.shape[1]), dtype=delta.dtype)
    dt = values.dtype.type
    _bag_backward(batch.indptr, batch.local, batch.data.astype(delta.dtype, copy=False), delta,
                  batch.rows, table, dt(alpha), dt(sw_sum), values)
    return RowGrad(batch.rows, values)


def rows_sum_of_squares(table, rows):
    """``||table[rows]||^2`` (float64), without gathering the rows."""
    return _rows_sum_of_squares(table, rows)


def lazy_adam_rows(p, m, v, grad, lr, beta_1, beta_2, epsilon):
    """Adam's update of the rows ``grad.rows`` of ``p`` (and of their moments), with the
    arithmetic of :class:`._optim.Adam`'s dense update, element by element; ``lr`` is the
    step's bias-corrected learning rate."""
    dt = p.dtype.type
    _lazy_adam_rows(
        p, m, v, grad.rows, grad.values.astype(p.dtype, copy=False), np.float64(lr),
        dt(beta_1), dt(1 - beta_1), dt(beta_2), dt(1 - beta_2), dt(epsilon),
    )


@njit(cache=True)
def _bag_forward(indptr, local, data, rows, table, out):
    width = table.shape[1]
    for i in range(len(indptr) - 1):
        for e in range(indptr[i], indptr[i + 1]):
            x = data[e]
            r = rows[local[e]]
            for j in range(width):
                out[i, j] += x * table[r, j]


@njit(cache=True)
def _bag_backward(indptr, local, data, delta, rows, table, alpha, sw_sum, values):
    # values = (X.T @ delta + alpha * table[rows]) / sw_sum, in the dense layer's order
    width = delta.shape[1]
    for i in range(len(indptr) - 1):
        for e in range(indptr[i], indptr[i + 1]):
            x = data[e]
            r = local[e]
            for j in range(width):
                values[r, j] += x * delta[i, j]
    for k in range(len(rows)):
        r = rows[k]
        for j in range(width):
            values[k, j] = (values[k, j] + alpha * table[r, j]) / sw_sum


@njit(cache=True)
def _rows_sum_of_squares(table, rows):
    total = 0.0
    for k in range(len(rows)):
        r = rows[k]
        for j in range(table.shape[1]):
            w = np.float64(table[r, j])
            total += w * w
    return total


@njit(cache=True)
def _lazy_adam_rows(p, m, v, rows, g, lr, b1, c1, b2, c2, eps):
    # The dense update (numpy, _optim.Adam) computes, per element and in p's dtype:
    #   m = m*b1 + c1*g;  v = v*b2 + c2*(g*g);  p -= (lr*m) / (sqrt(v) + eps)
    # where lr is a float64 scalar, so the step is formed in float64 (numpy's promotion
    # of a float32 array by a float64 scalar) and rounded to p's dtype when subtracted.
    width = p.shape[1]
    for k in range(len(rows)):
        r = rows[k]
        for j in range(width):
            gj = g[k, j]
            mj = m[r, j] * b1 + c1 * gj
            vj = v[r, j] * b2 + c2 * (gj * gj)
            m[r, j] = mj
            v[r, j] = vj
            denom = np.sqrt(vj) + eps
            p[r, j] = p[r, j] - (lr * mj) / denom
