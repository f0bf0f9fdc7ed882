"""C99 export of a CompactProjectionClassifier: one ``.h`` and one ``.c``, C standard library only.

The generated code has the three stages of :mod:`._inference`, one C function each:
``lsh_words`` (input -> packed bits), ``first_layer`` (gather-sum over the set bits) and
``output`` (remaining layers, argmax, softmax).

Stage 1 regenerates the column of the random projection of every non-zero input feature
with the splitmix64 hash of :mod:`sklearn_projection._hashing` (hash version 3: the same
column key, number of non-zeros, blocks, ``PER_HASH`` entries of ``FIELD_BITS`` bits from
each 64-bit hash, positions and signs), sums in float64 in increasing feature order into
one accumulator per bit (``8 * (T * d + 1)`` bytes, on the stack unless compiled with
``-D<PREFIX>_SUMS_STORAGE=static``), takes bit = sum > 0 with the same rescaling of rows
whose largest |x| exceeds 2**960: the bits are those of the Python kernels. The reading
is ``N_PLANES`` planes of words: 1 (binary: sum > 0), 2 (ternary: sum > 0, sum < 0) or 4
(quinary: sum > 0, sum < 0, sum > TAU, sum < -TAU, where ``TAU`` is the model's threshold
written as an exact hexadecimal double literal and compared with the same float64 sums). What Python
computes at run time with divisions is generated here as constants: the block bounds of a
column with ``K_LO`` and ``K_LO + 1`` non-zeros (``_hashing.block_starts``) are a static
table ``BLOCKS`` of ``{lo, span}``, and every column runs the same ``N_ENTRIES = K_LO +
(FRAC != 0)`` entries (the rows past a column's count add into an unused sum
``acc[N_BITS]``), so the hot loop has a constant trip count, no division and no branch (the
sign picks one of ``{-x, x}``); a column is the macro ``ADD_COLUMN_AT`` (its entries written
out up to 32, no call per feature). Compiled with ``-D<PREFIX>_COLUMN_TABLE`` the columns are
read from a table generated here (:func:`projection_table`, ``n_features x N_ENTRIES``
entries ``bit << 1 | positive``; written when at most :data:`COLUMN_TABLE_MAX_ENTRIES`)
instead of hashed: the same bits, for that read-only memory. A row, dense or sparse, goes by
chunks of 256 features (or pairs): the non-zeros of a chunk are listed without a branch,
their column keys computed in a loop of their own, then their columns added (the hashes of
a column need not wait for its key: 10 % faster at -O2); the non-finite check and the
largest |x| are taken in the summing pass (a row is summed again, scaled, when it needs it,
as in Python). Each packed word is assembled in a register and stored once.

Stage 2, float32 and float16 weights: the weight rows of the set bits are added in
increasing bit order (ternary models, ``N_PLANES`` 2: the first plane added, then the
second subtracted; quinary, ``N_PLANES`` 4: plane by plane, the even planes added and the
odd ones subtracted, as :func:`._inference.gather_first_layer`), two set bits per pass over
the accumulators in the same per-lane order, over a compile-time width ``WIDTH1`` with
``restrict`` pointers so that the compiler vectorises it, in float32 from the bias as in
Python. int8 weights: the sum is an exact integer, so the order is free and the weights'
column sums ``SUM`` (a generated constant) let the rows of one level stand for all the others:
with ``S_c`` the sum of the weight rows of the bits of level c (binary 0, 1; ternary -1, 0, 1;
quinary -2 .. 2, read from the planes), ``q = sum_c c S_c = sum_{c != d} (c - d) S_c + d SUM``
for any level d, and each row leaves out the rows of its largest level, counted first
(ternary: the two smaller of P, N, Z are summed, on MNIST 344 rows instead of 492; quinary
h64 MNIST, 600 bits: 429 instead of 647), in uint32 (modulo 2**32: q itself fits in int32).
Set bits are listed a byte at a time from a 256-entry table of their positions in 16-bit
lanes; the weights are stored two to a uint16 word as ``q + 128``, and groups of at most 256
rows are summed in 16-bit lanes with no widening: T sums the words modulo 2**16, H their high
bytes (exactly), the low bytes are T - 256 H.

Stage 3, the remaining layers, is generated per layer with its sizes inlined: each output
is summed in float in increasing input order over the inputs the ReLU leaves > 0 (listed
without a branch; a skipped product is +-0 and would not change a sum that starts at +0),
in one register accumulator per output when there are at most 16.

Weights are written as C99 hexadecimal float literals (exact), int8 as integers, float16
as their IEEE binary16 bit patterns (converted exactly to float at run time).
"""

import re
from pathlib import Path

import numpy as np

from ._hashing import block_starts, column_weight, entries_per_hash
from ._inference import _DEBRUIJN_INDEX
from ._projection import PLANES

# used with fullmatch (a "$" would accept a trailing newline)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# file names written into the generated #include "..." and /* comments */: no quote,
# backslash, apostrophe (undefined in a C header name), no newline, no "*" (a "*/" would
# close the comment), no "?" (trigraphs), ASCII only
_FILE_NAME = re.compile(r"[A-Za-z0-9 _.,+=@#%~()\[\]{}-]+")

_HEADER = """\
/* {name}.h -- ProjectionNet compact model, generated by sklearn-projection {version}.
 * C99, C standard library only. Compile e.g.:  cc -std=c99 -O2 -c {name}.c
 * and link with -lm. Do not compile with -ffast-math (it changes float results).
 *
 * Model: {n_features} input features -> {n_bits_total} LSH bits (T={T}, d={d}, density={density!r},
 * seed={seed}, {reading} reading) -> layers {widths} ({dtype} weights) -> softmax over {n_classes} classes.
 * A prediction keeps 8 * ({P}_N_BITS + 1) bytes of bit sums, on the stack unless compiled with
 * -D{P}_SUMS_STORAGE=static (then in static memory, and the functions are not reentrant),
 * plus buffers of about 3 KB and 3 bytes per bit (5 above 65536 bits) on the stack (feature positions and column
 * keys of a chunk of 256 features, the list of a first layer's rows, the widest layer); no heap.
 * The columns of the random projection are regenerated by hashing (no stored matrix), or,
 * compiled with -D{P}_COLUMN_TABLE, read from a precomputed table ({column_table_note}):
 * the same bits with no hashing (faster: see benchmarks/c_runtime.py), for that much more
 * read-only memory.
 */
#ifndef {guard}
#define {guard}

#include <stddef.h>
#include <stdint.h>

#define {P}_N_FEATURES {n_features}
#define {P}_N_BITS {n_bits_total}
#define {P}_N_CLASSES {n_classes}

/* Class labels (str() of the Python labels), indexed by the returned class index. */
extern const char *const {p}_class_labels[{P}_N_CLASSES];

/* Error codes: the functions return a class index >= 0, or one of these (proba untouched). */
#define {P}_ERROR_BAD_INDICES (-1)  /* sparse indices out of range or not strictly increasing */
#define {P}_ERROR_NON_FINITE (-2)   /* an input value is NaN, +inf or -inf */

/* Dense input: x[0 .. {P}_N_FEATURES-1]. Writes the class probabilities to
 * proba[0 .. {P}_N_CLASSES-1] unless proba is NULL and returns the predicted class index;
 * returns -2 ({P}_ERROR_NON_FINITE), leaving proba untouched, if any x[i] is NaN or +-inf. */
int {p}_predict_dense(const double *x, double *proba);

/* Sparse input: nnz (index, value) pairs. Returns the predicted class index and fills proba
 * (unless NULL); or, leaving proba untouched, returns -1 ({P}_ERROR_BAD_INDICES) if the
 * indices are out of [0, {P}_N_FEATURES) or not strictly increasing (checked first), and
 * -2 ({P}_ERROR_NON_FINITE) if any value is NaN or +-inf. */
int {p}_predict_sparse(const int64_t *indices, const double *values, size_t nnz, double *proba);

#endif /* {guard} */
"""

_SOURCE_HEAD = """\
/* {name}.c -- ProjectionNet compact model, generated by sklearn-projection {version}. See {name}.h. */
#include "{name}.h"

#include <math.h>
#include <string.h> /* memcpy */

#ifndef {P}_SUMS_STORAGE
#define {P}_SUMS_STORAGE
#endif
#define N_LAYERS {n_layers}
#define MAX_WIDTH {max_width}
/* width of the first layer, a compile-time constant so that its loops are vectorised */
#define WIDTH1 {width1}
/* bit reading: 1 plane of words (binary, bit = sum > 0), 2 (ternary: sum > 0, then sum < 0)
 * or 4 (quinary: sum > 0, sum < 0, sum > TAU, sum < -TAU; the value read is
 * plane 0 - plane 1 + plane 2 - plane 3, -2 to +2) */
#define N_PLANES {n_planes}
{tau_c}
/* non-zeros per column of P: K_LO, or K_LO + 1 where the column key's top 32 bits < FRAC.
 * Every column runs N_ENTRIES = K_LO + (FRAC != 0) entries, a constant trip count with no
 * branch: the entries past a column's own count add into the unused sum acc[N_BITS]. */
#define K_LO {k_lo}
#define N_ENTRIES {n_entries}

#ifdef {P}_COLUMN_TABLE
{column_table}
#else
static const uint64_t SEED = UINT64_C({seed});
static const uint64_t GOLDEN = UINT64_C(0x9E3779B97F4A7C15);
static const uint64_t FRAC = UINT64_C({frac});
/* Hash version 3: a column's non-zeros come PER_HASH at a time from one 64-bit hash, each a
 * field of FIELD_BITS bits, its lowest bit the sign and the POS_BITS above it the position in
 * its block (PER_HASH 4, 3 or 2 as the largest block has at most 128, 4096 or more bits). */
#define PER_HASH {per_hash}
#define FIELD_BITS {field_bits}
#define POS_BITS {pos_bits}
#define POS_MASK ((UINT64_C(1) << POS_BITS) - 1u)

/* The blocks of bits of a column (_hashing.block_starts, computed here so that the C code
 * divides nothing): BLOCKS[c][j] = {{lo, span}}, the j-th non-zero of a column with K_LO + c
 * non-zeros lies in bits [lo, lo + span), lo = j * N_BITS / (K_LO + c); rows past a
 * column's own count are {{N_BITS, 0}}. */
static const {block_t} BLOCKS[2][{n_entries_dim}][2] = {{
{blocks_c}
}};
#endif

const char *const {p}_class_labels[{P}_N_CLASSES] = {{{labels_c}}};
"""

_SOURCE_BODY = r"""
#define N_WORDS (({P}_N_BITS + 63) / 64)

#ifdef {P}_COLUMN_TABLE
/* ADD_COLUMN_AT(acc, COLUMN_KEY(f), x): acc += x * column f of P, read from COLUMNS: +x or
 * -x at each entry's bit (adding -x is exactly subtracting x; the sign picks one of {-x, x},
 * no branch). A macro, so that the loops over the features keep its constants in registers,
 * with the entries written out (TABLE_ENTRY, at most 32). */
#define COLUMN_KEY(F) (F)
#define TABLE_ENTRY(J) (acc_[col_[J] >> 1] += xs_[col_[J] & 1u])
#define ADD_COLUMN_AT(ACC, KEY, X) do { \
        double *const acc_ = (ACC); \
        const double xs_[2] = {-(X), (X)}; \
        const {column_t} *const col_ = COLUMNS + (size_t)(KEY) * N_ENTRIES; \
TABLE_ENTRIES_C
    } while (0)
#else
/* splitmix64 finaliser: identical to sklearn_projection._hashing.mix64 */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* ADD_COLUMN_AT(acc, COLUMN_KEY(f), x): acc += x * column f of P (see the header): the
 * non-zeros j = g * PER_HASH + t, t < PER_HASH, of the column come from one hash
 * h = mix64(key + (g + 1) * GOLDEN), key = COLUMN_KEY(f): non-zero j is the field
 * h >> (FIELD_BITS * t), at bit lo + ((((field >> 1) & POS_MASK) * span) >> POS_BITS) of its
 * block, +x if the field is odd else -x (adding -x is exactly subtracting x). No branch: the
 * sign picks one of {-x, x}, the count of non-zeros picks a row of BLOCKS. A macro, so that
 * the loops over the features keep its constants in registers, with the entries written out
 * (ENTRY, at most 32; the shifts are constants) for the compiler to interleave. */
#define ENTRY(J, H, T) \
        (acc_[blk_[J][0] + (((((H) >> (FIELD_BITS * (T) + 1)) & POS_MASK) * blk_[J][1]) >> POS_BITS)] += \
         xs_[((H) >> (FIELD_BITS * (T))) & 1u])
#define COLUMN_KEY(F) mix64(SEED + ((uint64_t)(F) + 1u) * GOLDEN)
#define ADD_COLUMN_AT(ACC, KEY, X) do { \
        double *const acc_ = (ACC); \
        const double xs_[2] = {-(X), (X)}; \
        const uint64_t s_ = (KEY); \
        const {block_t} (*const blk_)[2] = BLOCKS[(s_ >> 32) < FRAC]; \
ENTRIES_C
    } while (0)
#endif
ADD_COLUMN_FUNCTION
/* 1 if a sum is > 0 (positive), 1 if it is < 0 (negative), else 0, read from its bits: the
 * sums are never NaN (rows with a non-finite value return before) nor -0 (a float64 sum that
 * starts at +0 and adds terms rounding to nearest is +0 or non-zero), so a > 0 exactly when
 * its bits, as a signed integer, are > 0, i.e. when 0 - bits has its top bit set, and a < 0
 * exactly when its sign bit is set. Integer operations, cheaper than a float comparison. */
static uint64_t positive(double a)
{
    union { double d; uint64_t u; } v;
    v.d = a;
    return (0 - v.u) >> 63;
}
#if N_PLANES >= 2
static uint64_t negative(double a)
{
    union { double d; uint64_t u; } v;
    v.d = a;
    return v.u >> 63;
}
#endif
#if N_PLANES == 4
/* 1 if |a| > TAU, else 0, from the bits: TAU >= 0, and for non-negative doubles (not NaN)
 * the order of the values is that of their bits as integers, so |a| > TAU exactly when
 * bits(TAU) - bits(|a|) wraps below 0. Then sum > TAU is large & positive and sum < -TAU
 * large & negative: one chain of bits for the two planes, and no float comparison. */
static uint64_t large(double a)
{
    union { double d; uint64_t u; } v, t;
    v.d = a;
    t.d = TAU;
    return (t.u - (v.u & ~(UINT64_C(1) << 63))) >> 63;
}
#endif

/* the largest finite double (DBL_MAX): |x| <= MAX_DOUBLE is false for NaN and +-inf */
#define MAX_DOUBLE 0x1.fffffffffffffp+1023

/* the row in chunks of CHUNK features (dense) or pairs (sparse): the positions of the
 * non-zeros (and NaNs) of a chunk are listed without a branch, then their columns added */
#define CHUNK 256

/* The packed planes of the sums acc[0 .. N_BITS): plane 0 sum > 0, plane 1 sum < 0 (two or four
 * planes), plane 2 sum > TAU and plane 3 sum < -TAU (four planes). The sums must be finite and not
 * -0 (see positive). Shared by lsh_words and the text entry point. */
static void pack_sums(const double *acc, uint64_t *words)
{
    int w;
    /* each word assembled in registers and stored once: built from its highest bit down (a
     * shift by one and an or per bit, no shift by a variable count), a full word as four
     * independent 16-bit chains */
    for (w = 0; w < N_WORDS; ++w) {
        const double *a = acc + 64 * w;
        uint64_t pos = 0;
#if N_PLANES >= 2
        uint64_t neg = 0;
#endif
#if N_PLANES == 4
        uint64_t big = 0; /* |sum| > TAU */
#endif
        int j;
        if (64 * w + 64 <= {P}_N_BITS) {
            uint64_t p0 = 0, p1 = 0, p2 = 0, p3 = 0;
#if N_PLANES >= 2
            uint64_t n0 = 0, n1 = 0, n2 = 0, n3 = 0;
#endif
#if N_PLANES == 4
            uint64_t g0 = 0, g1 = 0, g2 = 0, g3 = 0;
#endif
            for (j = 15; j >= 0; --j) {
                p0 = p0 << 1 | positive(a[j]);
                p1 = p1 << 1 | positive(a[16 + j]);
                p2 = p2 << 1 | positive(a[32 + j]);
                p3 = p3 << 1 | positive(a[48 + j]);
#if N_PLANES >= 2
                n0 = n0 << 1 | negative(a[j]);
                n1 = n1 << 1 | negative(a[16 + j]);
                n2 = n2 << 1 | negative(a[32 + j]);
                n3 = n3 << 1 | negative(a[48 + j]);
#endif
#if N_PLANES == 4
                g0 = g0 << 1 | large(a[j]);
                g1 = g1 << 1 | large(a[16 + j]);
                g2 = g2 << 1 | large(a[32 + j]);
                g3 = g3 << 1 | large(a[48 + j]);
#endif
            }
            pos = p0 | p1 << 16 | p2 << 32 | p3 << 48;
#if N_PLANES >= 2
            neg = n0 | n1 << 16 | n2 << 32 | n3 << 48;
#endif
#if N_PLANES == 4
            big = g0 | g1 << 16 | g2 << 32 | g3 << 48;
#endif
        } else {
            for (j = {P}_N_BITS - 64 * w - 1; j >= 0; --j) {
                pos = pos << 1 | positive(a[j]);
#if N_PLANES >= 2
                neg = neg << 1 | negative(a[j]);
#endif
#if N_PLANES == 4
                big = big << 1 | large(a[j]);
#endif
            }
        }
        words[w] = pos;
#if N_PLANES >= 2
        words[N_WORDS + w] = neg;
#endif
#if N_PLANES == 4
        words[2 * N_WORDS + w] = big & pos;
        words[3 * N_WORDS + w] = big & neg;
#endif
    }
}

/* Stage 1 (_hashing / _projection.lsh_bits): the LSH bits of one row, packed 64 to a
 * word (bit b in words[b / 64] at b % 64). Each non-zero x[f] adds +-x to the bits of
 * column f of P, regenerated from the hash (see the header), features in increasing
 * order, in double; bit = sum > 0 (and, with two planes, bit b of the second plane,
 * words[N_WORDS + b / 64], = sum < 0; with four, the third plane sum > TAU and the fourth
 * sum < -TAU). As in Python, a row whose largest |x| exceeds
 * 2**960 is summed again after scaling by 2**-1000. Returns {P}_ERROR_NON_FINITE, with
 * words untouched, if a value is NaN or +-inf; else 0. Dense input: dense[0 .. n-1];
 * sparse: the n pairs (idx[k], val[k]). */
static int lsh_words(const int64_t *idx, const double *dense, const double *val, size_t n,
                     uint64_t *words)
{
    {P}_SUMS_STORAGE double acc[{P}_N_BITS + 1];
    double big = 0.0, scale = 1.0;
    int finite = 1, pass, b;
    size_t k;
    for (pass = 0; pass < 2; ++pass) {
        for (b = 0; b <= {P}_N_BITS; ++b)
            acc[b] = 0.0;
        for (k = 0; k < n; k += CHUNK) {
            const double *const v = idx ? val + k : dense + k;
            unsigned short list[CHUNK];
            uint64_t key[CHUNK];
            size_t m = 0, t, end = n - k < CHUNK ? n - k : CHUNK;
            for (t = 0; t < end; ++t) {
                /* x != 0.0 (true for NaN too) read from the bits: all but the sign bit
                 * are 0 only for +-0; an integer test, cheaper than a float comparison */
                union { double d; uint64_t u; } bits;
                bits.d = v[t];
                list[m] = (unsigned short)t;
                m += (bits.u << 1) != 0;
            }
            /* the keys first, in a loop of their own: the column loop then starts each
             * column's hashes at once (measured 10 % faster at -O2) */
            for (t = 0; t < m; ++t)
                key[t] = COLUMN_KEY(idx ? (uint64_t)idx[k + list[t]] : (uint64_t)(k + list[t]));
            for (t = 0; t < m; ++t) {
                /* scaled, x may round to +-0: adding it changes no sum (a sum that starts
                 * at +0 stays +0 when -0 is added) */
                double x = v[list[t]] * scale, a = fabs(x);
                finite &= a <= MAX_DOUBLE;
                big = a > big ? a : big;
                ADD_COLUMN_AT(acc, key[t], x);
            }
        }
        if (!finite)
            return {P}_ERROR_NON_FINITE;
        if (!(big > 0x1p960) || pass)
            break;
        scale = 0x1p-1000;
        big = 0.0;
    }
    pack_sums(acc, words);
    return 0;
}

FIRST_LAYER

REMAINING_LAYERS

/* Stage 3 (_inference.remaining_layers and the softmax): the layers after the first
 * (layer_1 .. layer_{N_LAYERS-1}); returns the argmax and fills proba unless it is NULL. */
static int output(float *z, double *proba)
{
    double zmax, total;
    int j, best;
    CALL_LAYERS
    best = 0;
    for (j = 1; j < {P}_N_CLASSES; ++j)
        if (z[j] > z[best])
            best = j;
    if (proba) {
        zmax = (double)z[best];
        total = 0.0;
        for (j = 0; j < {P}_N_CLASSES; ++j) {
            proba[j] = exp((double)z[j] - zmax);
            total += proba[j];
        }
        for (j = 0; j < {P}_N_CLASSES; ++j)
            proba[j] /= total;
    }
    return best;
}

static int forward(const int64_t *idx, const double *dense, const double *val, size_t n,
                   double *proba)
{
    uint64_t words[N_PLANES * N_WORDS];
    float z[MAX_WIDTH];
    if (lsh_words(idx, dense, val, n, words) != 0)
        return {P}_ERROR_NON_FINITE;
    first_layer(words, z);
    return output(z, proba);
}

int {p}_predict_dense(const double *x, double *proba)
{
    return forward(NULL, x, NULL, {P}_N_FEATURES, proba);
}

int {p}_predict_sparse(const int64_t *indices, const double *values, size_t nnz, double *proba)
{
    size_t k;
    for (k = 0; k < nnz; ++k) {
        if (indices[k] < 0 || indices[k] >= {P}_N_FEATURES || (k && indices[k] <= indices[k - 1]))
            return {P}_ERROR_BAD_INDICES;
    }
    return forward(indices, NULL, values, nnz, proba);
}
"""

# Stage 2 for float32 and float16 weights (int8: _FIRST_INT8); the per-dtype parts are in
# _FIRST (rows_add / rows_sub, the accumulators ACC).
_FIRST_LAYER_LOOP = r"""
/* de Bruijn B(2, 6): the index of the lowest set bit of a word, as in _inference */
static const unsigned char DEBRUIJN_INDEX[64] = {DEBRUIJN_INDEX_C};
#define LOWEST_BIT(low) DEBRUIJN_INDEX[((low) * UINT64_C(0x03F79D71B4CB0A89)) >> 58]

/* Stage 2 (_inference.first_layer): z = bias + the sum of the weight rows of the set bits,
 * in increasing bit order (a gather-sum: nothing is multiplied by a bit); with two planes,
 * then minus the weight rows of the bits of the second plane, in increasing order; with
 * four, plane by plane in order, the even planes added and the odd ones subtracted. */
static void first_layer(const uint64_t *words, float *z)
{
    int w, h;
    FIRST_LAYER_DECLS
    FIRST_LAYER_INIT
    for (w = 0; w < N_PLANES * N_WORDS; ++w) {
        uint64_t x = words[w];
        const int add = (w / N_WORDS) % 2 == 0; /* planes 0 and 2 added, 1 and 3 subtracted */
        size_t base = (size_t)(w % N_WORDS) * 64u;
        /* the set bits two at a time: one pass over the accumulators per pair */
        while (x) {
            uint64_t low = x & (~x + 1u);
            const ELEM *r0 = W0 + (base + LOWEST_BIT(low)) * WIDTH1;
            x ^= low;
            if (x) {
                low = x & (~x + 1u);
                x ^= low;
                if (add) {
                    rows_add(ACC, r0, W0 + (base + LOWEST_BIT(low)) * WIDTH1);
                } else {
                    rows_sub(ACC, r0, W0 + (base + LOWEST_BIT(low)) * WIDTH1);
                }
            } else {
                if (add) {
                    rows_add(ACC, r0, NULL);
                } else {
                    rows_sub(ACC, r0, NULL);
                }
            }
        }
        FIRST_LAYER_WORD_END
    }
    FIRST_LAYER_FINISH
}
"""

# rows_add(acc, r0, r1): acc += r0, then acc += r1 (r1 may be NULL), per lane in this order, so
# a float accumulator rounds as the one-row-at-a-time sum does; rows_sub likewise subtracts.
_ROWS = r"""
static void rows_add(ACC_T *restrict acc, const ELEM *restrict r0, const ELEM *restrict r1)
{
    int h;
    if (r1) {
        for (h = 0; h < WIDTH1; ++h)
            acc[h] = CAST(INNER(acc[h] + CONV(r0[h])) + CONV(r1[h]));
    } else {
        for (h = 0; h < WIDTH1; ++h)
            acc[h] = CAST(acc[h] + CONV(r0[h]));
    }
}
static void rows_sub(ACC_T *restrict acc, const ELEM *restrict r0, const ELEM *restrict r1)
{
    int h;
    if (r1) {
        for (h = 0; h < WIDTH1; ++h)
            acc[h] = CAST(INNER(acc[h] - CONV(r0[h])) - CONV(r1[h]));
    } else {
        for (h = 0; h < WIDTH1; ++h)
            acc[h] = CAST(acc[h] - CONV(r0[h]));
    }
}
"""


def _rows(elem, acc_t, conv, cast):
    # float: the (float) cast rounds the first sum to float before the second row is added,
    # as two separate += would, also where float expressions are evaluated in a wider
    # format (FLT_EVAL_METHOD 2, x87; C99 requires casts to round); int16: exact either way
    inner = "(float)(" if acc_t == "float" else "("
    return (_ROWS.replace("ACC_T", acc_t).replace("ELEM", elem).replace("CONV(r0[h])", conv.format("r0[h]"))
            .replace("CONV(r1[h])", conv.format("r1[h]")).replace("CAST(", cast + "(").replace("INNER(", inner))


_FIRST = {
    "float32": dict(
        helpers=_rows("float", "float", "{}", ""), elem="float", acc="z",
        decls="",
        init="for (h = 0; h < WIDTH1; ++h) z[h] = B0[h];",
        word_end="",
        finish="",
    ),
    "float16": dict(
        helpers=_rows("uint16_t", "float", "half_to_float({})", ""), elem="uint16_t", acc="z",
        decls="",
        init="for (h = 0; h < WIDTH1; ++h) z[h] = B0[h];",
        word_end="",
        finish="",
    ),
}

# Stage 2 for int8 weights. The sums are exact integers, so their order does not matter,
# and the weights' column sums SUM (a generated constant) let the rows of one level stand
# for all the others: with S_c the sum of the rows of the bits of level c (binary 0, 1;
# ternary -1, 0, 1; quinary -2 .. 2), q = sum_c c S_c = sum_{c != d} (c - d) S_c + d SUM for
# any level d, and each row leaves out its largest level (counted first), not the bits of
# level 0: on dense inputs most bits are non-zero (ternary: the two smaller of P, N, Z; MNIST
# h64 quinary, 600 bits: 429 rows instead of 647 for the two smaller of P, N, Z plus planes
# 2 and 3).
_FIRST_INT8 = r"""
#define HALF1 ((WIDTH1 + 1) / 2)
/* the levels of a bit: N_LEVELS of them, LOW + c for level c (binary: 0, 1; ternary: -1,
 * 0, 1; quinary: -2 .. 2) */
#define N_LEVELS (N_PLANES == 1 ? 2 : N_PLANES == 2 ? 3 : 5)
#define LOW ((N_LEVELS - 1) / 2)
/* BYTE_BITS[v]: the positions of the set bits of the byte v in increasing order (then
 * zeros) as eight 16-bit lanes of two words (position j of the byte in bits 16 j .. 16 j + 15
 * of word j / 4), BYTE_COUNT[v] how many */
static const uint64_t BYTE_BITS[256][2] = {BYTE_BITS_C};
static const unsigned char BYTE_COUNT[256] = {BYTE_COUNT_C};

#if N_WORDS <= 1024
/* a bit's index in a list: 16 bits are enough up to 65 536 bits */
typedef unsigned short bit_index;
#else
typedef uint32_t bit_index;
#endif

/* the set bits b of words[0 .. N_WORDS) (b at words[b / 64] bit b % 64) in increasing
 * order into list, a byte at a time with no branch: the byte's eight positions plus the
 * byte's first bit b in each 16-bit lane (no carry from lane to lane: b + 7 < 64 N_WORDS <=
 * 2**16), stored as two 8-byte words (memcpy: list is unsigned short), then k advances by the
 * byte's count (8 entries are written per byte: list needs 8 of room past the last one);
 * returns how many. Above 65 536 bits, the eight positions one at a time, in 32 bits. */
static int list_bits(const uint64_t *words, bit_index *restrict list)
{
    int w, i, k = 0;
    for (w = 0; w < N_WORDS; ++w) {
        uint64_t x = words[w];
#if N_WORDS <= 1024
        uint64_t base = (uint64_t)(64 * w) * UINT64_C(0x0001000100010001);
#else
        uint32_t base = (uint32_t)(64 * w);
        int j;
#endif
        /* x shifted by a constant 8 each byte (a shift by 8 * i costs more where the loop
         * is not unrolled) */
        for (i = 0; i < 8; ++i) {
            const unsigned v = (unsigned)x & 255u;
#if N_WORDS <= 1024
            const uint64_t lo = BYTE_BITS[v][0] + base, hi = BYTE_BITS[v][1] + base;
            memcpy(list + k, &lo, sizeof lo);
            memcpy(list + k + 4, &hi, sizeof hi);
            base += UINT64_C(0x0008000800080008);
#else
            for (j = 0; j < 8; ++j)
                list[k + j] = base + (uint32_t)((BYTE_BITS[v][j / 4] >> (16 * (j % 4))) & 0xFFFFu);
            base += 8u;
#endif
            k += BYTE_COUNT[v];
            x >>= 8;
        }
    }
    return k;
}

static int popcount64(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F);
    return (int)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* tt += r0 + r1 + r2 + r3 and hh += their high bytes, in uint16 lanes (modulo 2**16). Not
 * inlined with GCC: at -O3 it unrolls the inlined calls into a loop it leaves scalar (6x
 * slower, measured with gcc 12 -O3 -march=native). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void add4(uint16_t *restrict tt, uint16_t *restrict hh, const uint16_t *restrict r0,
                 const uint16_t *restrict r1, const uint16_t *restrict r2, const uint16_t *restrict r3)
{
    int h;
    for (h = 0; h < HALF1; ++h) {
        tt[h] = (uint16_t)(tt[h] + ((r0[h] + r1[h]) + (r2[h] + r3[h])));
        hh[h] = (uint16_t)(hh[h] + (((r0[h] >> 8) + (r1[h] >> 8)) + ((r2[h] >> 8) + (r3[h] >> 8))));
    }
}

static void add1(uint16_t *restrict tt, uint16_t *restrict hh, const uint16_t *restrict r0)
{
    int h;
    for (h = 0; h < HALF1; ++h) {
        tt[h] = (uint16_t)(tt[h] + r0[h]);
        hh[h] = (uint16_t)(hh[h] + (r0[h] >> 8));
    }
}

/* q += coef * (the exact sum of the int8 rows of the k bits listed), in uint32 (modulo
 * 2**32: the terms may leave int32, first_layer's sum of them does not). W0 holds two weights
 * per uint16 word, column 2i in the low byte and 2i + 1 in the high byte, each as q + 128.
 * Per group of at most 256 rows, T sums the words (modulo 2**16) and H their high bytes
 * (exactly: <= 256 * 255 < 65536), so the low bytes sum to T - 256 H (modulo 2**16, hence
 * exactly); a column's sum of q is its sum of q + 128 minus 128 per row. Four rows per pass,
 * in 16-bit lanes that the compiler vectorises with no widening. */
static void sum_rows(const bit_index *list, int k, uint32_t coef, uint32_t *restrict q)
{
    uint16_t tt[HALF1], hh[HALF1];
    int t = 0, h;
    while (t < k) {
        const int stop = k - t < 256 ? k : t + 256;
        const uint32_t bias = 128u * (uint32_t)(stop - t);
        for (h = 0; h < HALF1; ++h) {
            tt[h] = 0;
            hh[h] = 0;
        }
        for (; t + 4 <= stop; t += 4)
            add4(tt, hh, W0 + (size_t)list[t] * HALF1, W0 + (size_t)list[t + 1] * HALF1,
                 W0 + (size_t)list[t + 2] * HALF1, W0 + (size_t)list[t + 3] * HALF1);
        for (; t < stop; ++t)
            add1(tt, hh, W0 + (size_t)list[t] * HALF1);
        for (h = 0; h < WIDTH1 / 2; ++h) {
            q[2 * h] += coef * ((uint32_t)(uint16_t)(tt[h] - (hh[h] << 8)) - bias);
            q[2 * h + 1] += coef * ((uint32_t)hh[h] - bias);
        }
#if WIDTH1 % 2
        q[WIDTH1 - 1] += coef * ((uint32_t)(uint16_t)(tt[HALF1 - 1] - (hh[HALF1 - 1] << 8)) - bias);
#endif
    }
}

/* the int32 whose bits are u (no implementation-defined conversion of u > INT32_MAX) */
static int32_t as_int32(uint32_t u)
{
    return u <= 0x7FFFFFFFu ? (int32_t)u : -(int32_t)(0xFFFFFFFFu - u) - 1;
}

/* Stage 2 (_inference.first_layer), int8: z = float(q) * S0 + B0 with q = the sum over the
 * bits of their level times their weight row = sum_c c S_c. The bits of each level, from the
 * planes: binary, level 1 = plane 0 and level 0 the rest; ternary, 1 = plane 0, -1 = plane 1,
 * 0 = neither; quinary, 2 = plane 2, 1 = plane 0 minus plane 2, 0 = neither plane 0 nor 1,
 * -1 = plane 1 minus plane 3, -2 = plane 3 (plane 2 lies in plane 0 and plane 3 in plane 1:
 * |s| > TAU >= 0). The largest level d is left out: q = sum_{c != d} (c - d) S_c + d SUM,
 * summed in uint32 (modulo 2**32, hence exactly: q fits in int32). */
static void first_layer(const uint64_t *words, float *z)
{
    bit_index list[{P}_N_BITS + 8];
    uint64_t level[N_LEVELS][N_WORDS]; /* level[LOW + c]: the bits of level c */
    uint32_t acc[WIDTH1];
    int h, w, c, d = LOW, count[N_LEVELS], n0 = 0;
#if N_PLANES >= 2
    int n1 = 0;
#endif
#if N_PLANES == 4
    int n2 = 0, n3 = 0;
#endif
    for (w = 0; w < N_WORDS; ++w) {
        const uint64_t p0 = words[w];
#if N_PLANES == 1
        level[1][w] = p0;
        level[0][w] = ~p0;
#else
        const uint64_t p1 = words[N_WORDS + w];
        n1 += popcount64(p1);
#endif
#if N_PLANES == 2
        level[2][w] = p0;
        level[1][w] = ~(p0 | p1);
        level[0][w] = p1;
#elif N_PLANES == 4
        const uint64_t p2 = words[2 * N_WORDS + w], p3 = words[3 * N_WORDS + w];
        n2 += popcount64(p2);
        n3 += popcount64(p3);
        level[4][w] = p2;
        level[3][w] = p0 & ~p2;
        level[2][w] = ~(p0 | p1);
        level[1][w] = p1 & ~p3;
        level[0][w] = p3;
#endif
        n0 += popcount64(p0);
    }
#if {P}_N_BITS % 64
    level[LOW][N_WORDS - 1] &= (UINT64_C(1) << ({P}_N_BITS % 64)) - 1u;
#endif
#if N_PLANES == 1
    count[1] = n0;
    count[0] = {P}_N_BITS - n0;
#elif N_PLANES == 2
    count[2] = n0;
    count[1] = {P}_N_BITS - n0 - n1;
    count[0] = n1;
#else
    count[4] = n2;
    count[3] = n0 - n2;
    count[2] = {P}_N_BITS - n0 - n1;
    count[1] = n1 - n3;
    count[0] = n3;
#endif
    for (c = 0; c < N_LEVELS; ++c)
        d = count[c] > count[d] ? c : d;
    for (h = 0; h < WIDTH1; ++h)
        acc[h] = (uint32_t)(d - LOW) * (uint32_t)W0_SUM[h];
    for (c = 0; c < N_LEVELS; ++c) {
        if (c != d && count[c] > 0)
            sum_rows(list, list_bits(level[c], list), (uint32_t)(c - d), acc);
    }
    for (h = 0; h < WIDTH1; ++h) {
        z[h] = (float)as_int32(acc[h]) * S0[h];
        z[h] = z[h] + B0[h];
    }
}
"""


# the entries of a column written out up to this many, else a loop
_MAX_ENTRIES_WRITTEN = 32

_ADD_COLUMN_FUNCTION = """
/* acc += x * column f of P (ADD_COLUMN_AT as a function) */
static void add_column(double *restrict acc, uint64_t f, double x)
{
    ADD_COLUMN_AT(acc, COLUMN_KEY(f), x);
}
"""


def _entries(n_entries, per_hash):
    """The body of the hashed ADD_COLUMN_AT after its key: the N_ENTRIES entries written out,
    ``per_hash`` to a hash (the steps (g + 1) * GOLDEN as constants), or a loop when there
    are many."""
    if n_entries == 0:
        return "        (void)blk_; (void)xs_; \\"
    if n_entries > _MAX_ENTRIES_WRITTEN:
        return ("        int j_, t_; \\\n        uint64_t g_ = 0; \\\n"
                "        for (j_ = 0; j_ < N_ENTRIES; j_ += PER_HASH) { \\\n"
                "            const uint64_t h_ = mix64(s_ + ++g_ * GOLDEN); \\\n"
                "            for (t_ = 0; t_ < PER_HASH && j_ + t_ < N_ENTRIES; ++t_) \\\n"
                "                ENTRY(j_ + t_, h_, t_); \\\n"
                "        } \\")
    lines = []
    for g in range(-(-n_entries // per_hash)):
        step = (g + 1) * 0x9E3779B97F4A7C15 % 2**64
        lines.append(f"        {{ const uint64_t h_ = mix64(s_ + UINT64_C({step})); \\")
        for t in range(min(per_hash, n_entries - g * per_hash)):
            lines.append(f"          ENTRY({g * per_hash + t}, h_, {t}); \\")
        lines.append("        } \\")
    return "\n".join(lines)



def _table_entries(n_entries):
    """The body of ADD_COLUMN_AT with a column table: the N_ENTRIES entries written out, or a
    loop when there are many."""
    if n_entries == 0:
        return "        (void)acc_; (void)xs_; (void)col_; \\"
    if n_entries > _MAX_ENTRIES_WRITTEN:
        return "        int j_; \\\n        for (j_ = 0; j_ < N_ENTRIES; ++j_) \\\n            TABLE_ENTRY(j_); \\"
    return "\n".join(f"        TABLE_ENTRY({j}); \\" for j in range(n_entries))


def _byte_tables():
    """BYTE_BITS (eight 16-bit lanes in two uint64 words) and BYTE_COUNT of _FIRST_INT8 as C
    initialisers."""
    bits, counts = [], []
    for v in range(256):
        pos = [j for j in range(8) if v >> j & 1]
        pos += [0] * (8 - len(pos))
        lo, hi = (sum(b << (16 * i) for i, b in enumerate(half)) for half in (pos[:4], pos[4:]))
        bits.append(f"{{UINT64_C(0x{lo:x}), UINT64_C(0x{hi:x})}}")
        counts.append(str(len([j for j in range(8) if v >> j & 1])))
    rows = [", ".join(bits[i:i + 4]) for i in range(0, 256, 4)]
    return ("{\n    " + ",\n    ".join(rows) + "}",
            "{\n    " + ",\n    ".join(", ".join(counts[i:i + 32]) for i in range(0, 256, 32)) + "}")


def _int8_first_tables(W):
    """The int8 first layer's tables: W0 as uint16 words of two weights q + 128 (column 2i
    low byte, 2i + 1 high byte; an odd last column paired with q = 0), W0_SUM its int32
    column sums of q."""
    q = W.astype(np.int32)
    biased = np.concatenate([q, np.zeros((q.shape[0], q.shape[1] % 2), np.int32)], axis=1) + 128
    pairs = biased[:, 0::2] | (biased[:, 1::2] << 8)
    return ("/* the first layer's int8 weights q as q + 128, two per uint16 word (see sum_rows) */\n"
            + _c_array("uint16_t", "W0", pairs, "int8")
            + "/* the column sums of q (exact, int32) */\n"
            + _c_array("int32_t", "W0_SUM", q.sum(axis=0), "int8"))

_HALF = r"""
/* IEEE binary16 bit pattern -> float, exact */
static float half_to_float(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400), e - 25);
    return (h & 0x8000) ? -v : v;
}
"""


def _c_float(x):
    x = float(x)
    if not np.isfinite(x):
        raise ValueError("cannot export a model with non-finite weights to C.")
    return float.hex(x) + "f"


def _c_array(ctype, name, values, dtype):
    flat = np.asarray(values).ravel()
    if dtype == "float32":
        items = [_c_float(v) for v in flat]
    elif dtype == "float16":
        items = [f"0x{v:04x}u" for v in flat.view(np.uint16)]
    else:
        items = [str(int(v)) for v in flat]
    lines = [", ".join(items[i : i + 8]) for i in range(0, len(items), 8)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{max(len(items), 1)}] = {{\n    {body or '0'}\n}};\n"


def _c_string(s):
    out = []
    for byte in str(s).encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\' or not (32 <= byte < 127) or ch == "?":
            out.append(f"\\{byte:03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _blocks(n_bits_total, weight):
    """The BLOCKS table of the C source: for a column with K_LO (c = 0) or K_LO + 1 (c = 1)
    non-zeros, ``{lo, span}`` of each of its blocks of bits (:func:`._hashing.block_starts`,
    as :func:`._hashing.projection_spec` picks them), padded to N_ENTRIES rows with
    ``{N_BITS, 0}`` (the unused sum ``acc[N_BITS]``)."""
    k_lo, frac = weight >> 32, weight & 0xFFFFFFFF
    n_entries = k_lo + (frac != 0)
    rows = []
    for k in (k_lo, min(k_lo + 1, n_bits_total)):
        starts = [int(v) for v in block_starts(n_bits_total, k)]
        pairs = [(starts[j], starts[j + 1] - starts[j]) for j in range(k)][:n_entries]
        pairs += [(n_bits_total, 0)] * (n_entries - len(pairs))
        rows.append(pairs or [(n_bits_total, 0)])
    block_t = "uint16_t" if n_bits_total <= 0xFFFF else "uint32_t"
    text = ",\n".join(
        "    {" + ",\n     ".join(
            ", ".join(f"{{{lo}, {span}}}" for lo, span in pairs[i : i + 8]) for i in range(0, len(pairs), 8)
        ) + "}"
        for pairs in rows
    )
    return dict(n_entries=n_entries, n_entries_dim=max(n_entries, 1), block_t=block_t, blocks_c=text)


_LAYER = r"""
/* layer_{l} (_inference.remaining_layers): z[0 .. {n_out}) = ReLU(z[0 .. {n_in})) @ W{l}{scaled} + B{l}.
 * Each output is summed in float in increasing input order over the inputs that the ReLU
 * leaves > 0, listed first without a branch (adding a product 0 * w = +-0 would leave the
 * sum as it is: a float sum that starts at +0 is never -0); {how}. */
static void layer_{l}(float *z)
{{
    {index_t} on[{n_in}];
    int h, t, m = 0;
    {decls}
    for (h = 0; h < {n_in}; ++h) {{
        on[m] = ({index_t})h;
        m += z[h] > 0.0f;
    }}
    for (t = 0; t < m; ++t) {{
        const float a = z[on[t]];
        const {elem} *w = W{l} + (size_t)on[t] * {n_out};
        {body}
    }}
    {finish}
}}
"""


def _remaining_layers(widths, dtype):
    """C functions ``layer_1 .. layer_{L-1}``: the layers after the first, sizes inlined."""
    out = []
    elem = {"float32": "float", "float16": "uint16_t", "int8": "int8_t"}[dtype]
    conv = {"float32": "{}", "float16": "half_to_float({})", "int8": "(float){}"}[dtype]
    for l in range(1, len(widths) - 1):
        n_in, n_out = widths[l], widths[l + 1]
        index_t = "unsigned char" if n_in <= 256 else "unsigned short" if n_in <= 65536 else "int"

        def finish(j, s):
            scale = f"{s} = {s} * S{l}[{j}];\n    " if dtype == "int8" else ""
            return f"{scale}z[{j}] = {s} + B{l}[{j}];"

        if n_out <= 16:  # one float accumulator per output, in registers
            how = "one accumulator per output, in registers"
            decls = "float " + ", ".join(f"s{j} = 0.0f" for j in range(n_out)) + ";"
            body = "\n        ".join(f"s{j} += a * {conv.format(f'w[{j}]')};" for j in range(n_out))
            fin = "\n    ".join(finish(j, f"s{j}") for j in range(n_out))
        else:
            how = "the outputs innermost, a constant trip count the compiler can vectorise"
            decls = f"float s[{n_out}];\n    int j;\n    for (j = 0; j < {n_out}; ++j)\n        s[j] = 0.0f;"
            body = f"for (j = 0; j < {n_out}; ++j)\n            s[j] += a * {conv.format('w[j]')};"
            fin = f"for (j = 0; j < {n_out}; ++j) {{\n        " + finish("j", "s[j]").replace("\n    ", "\n        ") + "\n    }"
        out.append(_LAYER.format(l=l, n_in=n_in, n_out=n_out, index_t=index_t, elem=elem, decls=decls,
                                 body=body, finish=fin, how=how,
                                 scaled=" * S" + str(l) if dtype == "int8" else ""))
    return "".join(out)


# the largest COLUMNS table (entries = n_features x N_ENTRIES; 256 KiB of uint16) written into
# the source, which every export carries (~7 characters an entry) whether it is compiled in or
# not; above it, compiling with -D<P>_COLUMN_TABLE stops with an #error
COLUMN_TABLE_MAX_ENTRIES = 1 << 17


def projection_table(seed, n_features, n_bits_total, density):
    """The columns of P as an (n_features, N_ENTRIES) int64 table of ``bit << 1 | positive``,
    the entries past a column's own count ``n_bits_total << 1`` (the unused sum): the
    hash of :mod:`._hashing` (version 3, ``m`` entries per 64-bit hash) evaluated with
    numpy (as the C code evaluates it)."""
    u = np.uint64

    def mix64(z):
        z = (z ^ (z >> u(30))) * u(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> u(27))) * u(0x94D049BB133111EB)
        return z ^ (z >> u(31))

    weight = column_weight(n_bits_total, density)
    k_lo, frac = weight >> 32, weight & 0xFFFFFFFF
    n_entries = k_lo + (frac != 0)
    per_hash = entries_per_hash(n_bits_total, k_lo)
    field_bits = 64 // per_hash
    table = np.full((n_features, n_entries), n_bits_total << 1, dtype=np.int64)
    if n_entries == 0 or n_features == 0:
        return table
    golden = u(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        key = mix64(u(seed) + (np.arange(n_features, dtype=u) + u(1)) * golden)
        ceil = (key >> u(32)) < u(frac)
        for c, k in ((False, k_lo), (True, min(k_lo + 1, n_bits_total))):
            rows = np.flatnonzero(ceil == c)
            starts = block_starts(n_bits_total, k).astype(u)
            for j in range(min(k, n_entries)):
                g, t = divmod(j, per_hash)
                if t == 0:
                    h = mix64(key[rows] + u(g + 1) * golden)
                field = (h >> u(field_bits * t)) & u(2**field_bits - 1)
                position = (field >> u(1)) * (starts[j + 1] - starts[j])
                bit = starts[j] + (position >> u(field_bits - 1))
                table[rows, j] = (bit.astype(np.int64) << 1) | (field & u(1)).astype(np.int64)
    return table


def _column_table(compact, weight, P):
    """The COLUMNS table (compiled in with -D<P>_COLUMN_TABLE), or an #error when too large."""
    n_features, n_bits = compact.n_features_in_, compact.n_bits_total_
    n_entries = (weight >> 32) + ((weight & 0xFFFFFFFF) != 0)
    column_t = "uint16_t" if 2 * n_bits + 1 <= 0xFFFF else "uint32_t"
    if n_features * n_entries > COLUMN_TABLE_MAX_ENTRIES:
        text = (f'#error "{P}_COLUMN_TABLE: this export has no column table ({n_features} features x '
                f'{n_entries} entries > {COLUMN_TABLE_MAX_ENTRIES}); compile without it"')
        note = f"not written for this model: {n_features} x {n_entries} entries > {COLUMN_TABLE_MAX_ENTRIES}"
        return dict(column_table=text, column_t=column_t, column_table_note=note)
    table = projection_table(compact.seed_, n_features, n_bits, compact.density_)
    n_bytes = table.size * (2 if column_t == "uint16_t" else 4)
    body = _c_array(column_t, "COLUMNS", table, "int8").split("= {", 1)[1]
    text = (
        f"/* The columns of P, precomputed ({n_bytes} bytes): COLUMNS[f * N_ENTRIES + j] = bit << 1 | s,\n"
        f" * the bit and the sign (s = 1: +1, 0: -1) of the j-th non-zero of column f; past the\n"
        f" * column's count, {n_bits} << 1 (the unused sum). */\n"
        f"static const {column_t} COLUMNS[{max(int(table.size), 1)}] = {{" + body
    )
    note = f"{n_features} x {max(n_entries, 1)} {column_t}, {n_bytes} bytes"
    return dict(column_table=text, column_t=column_t, column_table_note=note)


def _reading_note(compact):
    """The reading as the header names it (quinary with its threshold)."""
    if compact.reading_ != "quinary":
        return compact.reading_
    return f"quinary (tau={compact.threshold_!r})"


def _tau_c(compact):
    """The quinary threshold TAU as an exact C99 hexadecimal double literal (nothing for the
    other readings)."""
    if compact.reading_ != "quinary":
        return ""
    tau = float(compact.threshold_)
    return f"/* the quinary threshold tau = {tau!r}, exactly */\nstatic const double TAU = {tau.hex()};\n"


def generate_c(compact, name="model", prefix="pn"):
    """The ``(header, source)`` C99 texts of ``compact``; see :func:`export_c`."""
    from . import __version__

    if not (isinstance(prefix, str) and _IDENT.fullmatch(prefix)):
        raise ValueError(
            f"prefix must be a C identifier (ASCII letters, digits and _, not starting with "
            f"a digit), got {prefix!r}."
        )
    if not (isinstance(name, str) and _FILE_NAME.fullmatch(name)):
        raise ValueError(
            f"the C file name {name!r} cannot be written into the generated #include and "
            "comments: use ASCII letters, digits, spaces and _ . , + = @ # % ~ ( ) [ ] { } - "
            "(no quotes, backslashes, newlines, * or ?, no non-ASCII characters)."
        )
    dtype = compact.dtype_
    weight = column_weight(compact.n_bits_total_, compact.density_)
    widths = [compact.n_bits_total_] + [W.shape[1] for W in compact.coefs_]
    fmt = dict(
        name=name, version=__version__, p=prefix, P=prefix.upper(),
        guard=f"{prefix.upper()}_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_H",
        n_features=compact.n_features_in_, n_bits_total=compact.n_bits_total_,
        T=compact.n_projections_, d=compact.n_bits_, density=compact.density_, seed=compact.seed_,
        widths=widths, dtype=dtype, n_classes=len(compact.classes_), n_layers=len(compact.coefs_),
        reading=_reading_note(compact), n_planes=PLANES[compact.reading_], tau_c=_tau_c(compact),
        max_width=max(widths[1:]), width1=widths[1], k_lo=weight >> 32, frac=weight & 0xFFFFFFFF,
        widths_c=", ".join(map(str, widths)),
        labels_c=", ".join(_c_string(c) for c in compact.classes_),
    )
    fmt.update(_blocks(compact.n_bits_total_, weight))
    per_hash = entries_per_hash(compact.n_bits_total_, weight >> 32)
    fmt.update(per_hash=per_hash, field_bits=64 // per_hash, pos_bits=64 // per_hash - 1)
    fmt.update(_column_table(compact, weight, fmt["P"]))
    header = _HEADER.format(**fmt)
    source = _SOURCE_HEAD.format(**fmt)
    ctype = {"float32": "float", "float16": "uint16_t", "int8": "int8_t"}[dtype]
    arrays = []
    for layer, (W, b) in enumerate(zip(compact.coefs_, compact.intercepts_)):
        if dtype == "int8" and layer == 0:  # see _FIRST_INT8
            arrays.append(_int8_first_tables(W))
        else:
            arrays.append(_c_array(ctype, f"W{layer}", W, dtype))
        arrays.append(_c_array("float", f"B{layer}", b, "float32"))
        if dtype == "int8":
            arrays.append(_c_array("float", f"S{layer}", compact.scales_[layer], "float32"))
    source += "\n" + "\n".join(arrays)
    if dtype == "float16":
        source += _HALF
    if dtype == "int8":
        byte_bits, byte_count = _byte_tables()
        first = (_FIRST_INT8.replace("{P}", fmt["P"]).replace("{BYTE_BITS_C}", byte_bits)
                 .replace("{BYTE_COUNT_C}", byte_count))
    else:
        parts = _FIRST[dtype]
        first = parts["helpers"] + (
            _FIRST_LAYER_LOOP.replace("FIRST_LAYER_DECLS", parts["decls"])
            .replace("FIRST_LAYER_INIT", parts["init"])
            .replace("FIRST_LAYER_WORD_END", parts["word_end"])
            .replace("FIRST_LAYER_FINISH", parts["finish"])
            .replace("ELEM", parts["elem"])
            .replace("ACC", parts["acc"])
        )
    body = _SOURCE_BODY.replace("{P}", fmt["P"]).replace("{p}", prefix).replace("{block_t}", fmt["block_t"])
    body = (body.replace("{column_t}", fmt["column_t"]).replace("TABLE_ENTRIES_C", _table_entries(fmt["n_entries"]))
            .replace("ENTRIES_C", _entries(fmt["n_entries"], fmt["per_hash"])))
    # add_column, ADD_COLUMN_AT as a function, is what the streaming text code calls
    hasher = getattr(compact, "hasher_", None)
    if hasher is not None:
        from ._export_text_c import mode
    streams = hasher is not None and mode(hasher) == "stream"
    body = body.replace("ADD_COLUMN_FUNCTION\n", _ADD_COLUMN_FUNCTION if streams else "")
    body = (
        body.replace("FIRST_LAYER", first)
        .replace("REMAINING_LAYERS", _remaining_layers(widths, dtype))
        .replace("CALL_LAYERS", "".join(f"layer_{l}(z);\n    " for l in range(1, len(widths) - 1)).rstrip())
        .replace("DEBRUIJN_INDEX_C", ", ".join(map(str, _DEBRUIJN_INDEX)))
    )
    source += "\n" + body
    if getattr(compact, "hasher_", None) is not None:  # a text model: add <prefix>_predict_text
        from ._export_text_c import add_text

        header, source = add_text(compact, header, source, prefix)
    return header, source


def export_c(compact, path, prefix="pn"):
    """Write ``<path>.h`` and ``<path>.c``; returns their paths. See
    :meth:`CompactProjectionClassifier.export_c`."""
    path = Path(path)
    if path.suffix in (".c", ".h"):
        path = path.with_suffix("")
    header, source = generate_c(compact, name=path.name, prefix=prefix)
    c_path, h_path = path.with_name(path.name + ".c"), path.with_name(path.name + ".h")
    h_path.write_text(header, encoding="ascii")
    c_path.write_text(source, encoding="ascii")
    return c_path, h_path


def c_weight_bytes(compact):
    """Bytes of the constant tables the C runtime holds: weights, biases, scales, class labels
    are not counted; this is the ``size_bytes`` of the model minus its scalar header."""
    arrays = compact.coefs_ + compact.intercepts_ + (compact.scales_ or [])
    return int(sum(a.nbytes for a in arrays))
