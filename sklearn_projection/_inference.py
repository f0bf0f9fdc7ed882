"""The one forward path of a projection network: input -> packed bits -> first layer -> logits.

Both :class:`~sklearn_projection.ProjectionNetClassifier` (whose network is, at inference,
its float32 compact model) and :class:`~sklearn_projection.CompactProjectionClassifier`
(float32, float16 or int8 weights) predict through :func:`logits`, and the C export
(:mod:`._export_c`) mirrors its three stages:

1. **bits**: :func:`~sklearn_projection._projection.lsh_bits` packs the ``T * d`` LSH bits
   of each row 64 to a ``uint64`` word (bit ``b`` in word ``b // 64`` at ``b % 64``);
   With the ternary reading a row has two planes of words, the positive bits (sum > 0)
   then the negative bits (sum < 0); with the quinary reading four planes, ``s > 0``,
   ``s < 0``, ``s > tau``, ``s < -tau``;
2. **first layer**: ``bias + sum of W[b] over the set bits b``, a gather-sum (nothing is
   multiplied by a bit): :func:`gather_first_layer` visits the set bits of a row in
   increasing order (trailing-zero count of each word) and adds their weight rows.
   Ternary: ``bias + sum of W[b] over the positive bits b - sum of W[b] over the
   negative bits b``, in this order: first every positive bit in increasing b (added),
   then every negative bit in increasing b (subtracted). Quinary: ``bias + S(plane 0) -
   S(plane 1) + S(plane 2) - S(plane 3)``, ``S`` the sum of the weight rows of a plane's set
   bits, plane by plane in this order, increasing b within a plane (even planes added,
   odd planes subtracted). float32 weights accumulate in
   float32 from the bias; int8 weights accumulate exactly in int32, then
   ``z = acc * scale + bias``; float16 weights are widened to float32 first (exactly).
   The kernels (``_rows_int8_words``, ``_rows_float32_words``) take a row's bits a word
   at a time and add the weight rows of its set bits to sums held in vector registers,
   one column per lane (LLVM IR intrinsics: numba vectorises loops, not straight-line
   code); the weights are padded with zero columns to a multiple of 16. Pure Python
   (``NUMBA_DISABLE_JIT``) runs ``_rows_int8``/``_rows_float32``, which list the set bits
   first: the same sums (integer sums are exact in any order; float32 ones are made in
   the order above by both);
3. **remaining layers**: ReLU, then ``z @ W + b`` per layer in float32 (int8: ``(z @ q) *
   scale + b``).

Since there is one path, the full classifier and its float32 compact model give
bit-identical logits by construction.
"""

import numba
import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from ._hashing import NotFiniteError, trailing_zeros
from ._network import softmax
from ._numba import in_threads, njit, row_workers
from ._projection import PLANES, lsh_bits

_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

# rows per call of the bit kernel: bounds the packed bits and first layer held at once
BATCH_ROWS = 1 << 16

_ZERO = np.uint64(0)
_ONE = np.uint64(1)


def _debruijn_index():
    """De Bruijn sequence B(2, 6): ``(low * 0x03F79D71B4CB0A89) >> 58`` is a distinct 6-bit
    index for each power of two ``low`` < 2**64; the table maps it back to log2(low).
    (The C export finds the lowest set bit this way; the kernels here use tzcnt.)"""
    table = np.zeros(64, dtype=np.int64)
    for k in range(64):
        low = (1 << k) * 0x03F79D71B4CB0A89 % 2**64
        table[low >> 58] = k
    return table


_DEBRUIJN_INDEX = _debruijn_index()
# int8 weight rows are summed in int16 over at most this many bits before being added to
# the int32 sums: |sum| <= 128 * 128 = 16384 < 2**15, for any int8 (even -128, subtracted)
_INT16_BITS = 128
# from this many rows on, a ternary int8 gather uses the weights' column sums
_TOTAL_MIN_ROWS = 8


@njit(cache=True, nogil=True)
def _rows_int8(words, flat, out, z, scale, bias, total, n_positive, offsets, acc16, acc32, lo, hi):
    """Rows ``lo .. hi-1`` of the int8 gather (one worker's share; scratch ``offsets``,
    ``acc16`` and ``acc32``). Per plane: the set bits' row offsets ``b * H`` are listed in
    increasing b (trailing-zero count), then their int8 weight rows summed. Integer sums
    are exact in any order: four rows are added at a time in int16, into int16 sums that
    go to the int32 sums ``acc32`` (added, or subtracted for the negative plane) every
    :data:`_INT16_BITS` rows: half the vector work of int32, a quarter of the passes over
    the sums. Then ``out[i] += acc32`` (int32), or, when ``z`` has rows, the first layer
    ``z[i] = float32(acc32) * scale + bias`` (each step in float32, as numpy does it).

    Ternary with ``total`` (the int32 column sums of the weights; empty otherwise): most
    sums of dense rows are non-zero, so nearly every bit is in one plane or the other,
    and ``S+ - S-`` is computed as ``2 S+ + S0 - total`` (``S-`` = ``total - S+ - S0``,
    ``S0`` over the bits in neither plane): half the rows to add. Exact: int32 arithmetic
    wraps modulo 2**32, and the true result fits in int32 (``_format.INT8_MAX_BITS``).
    Quinary (four planes): planes 0 and 1 as ternary, then ``+ S(plane 2) - S(plane 3)``."""
    n_words = words.shape[1]
    width = np.uint64(acc32.shape[0])
    fused = z.shape[0] > 0
    n_planes = n_words // n_positive
    by_total = total.shape[0] > 0 and n_planes > 1
    tail = (flat.shape[0] // acc32.shape[0]) % 64  # bits in the last word of a plane
    last_mask = (_ONE << np.uint64(tail)) - _ONE if tail else ~_ZERO
    for i in range(lo, hi):
        for h in range(width):
            acc32[h] = 0
        for plane in range(n_planes):
            first, last = plane * n_positive, (plane + 1) * n_positive
            if by_total and plane < 2:
                sign = np.int32(2) if plane == 0 else np.int32(1)
            else:
                sign = np.int32(1) if plane % 2 == 0 else np.int32(-1)
            k = 0
            for w in range(first, last):
                x = words[i, w]
                if by_total and plane == 1:  # the bits in neither plane
                    x = ~(words[i, w - n_positive] | x)
                    if w == last - 1:
                        x &= last_mask
                base = np.uint64((w - first) * 64)
                while x != _ZERO:
                    offsets[k] = (base + trailing_zeros(x)) * width
                    k += 1
                    x &= x - _ONE
            t = 0
            while t < k:
                stop = min(k, t + _INT16_BITS)
                for h in range(width):
                    acc16[h] = 0
                while t + 4 <= stop:
                    o1, o2, o3, o4 = offsets[t], offsets[t + 1], offsets[t + 2], offsets[t + 3]
                    for h in range(width):
                        acc16[h] += (np.int16(flat[o1 + h]) + np.int16(flat[o2 + h])
                                     + np.int16(flat[o3 + h]) + np.int16(flat[o4 + h]))
                    t += 4
                while t < stop:
                    o1 = offsets[t]
                    for h in range(width):
                        acc16[h] += np.int16(flat[o1 + h])
                    t += 1
                for h in range(width):
                    acc32[h] += sign * np.int32(acc16[h])
        if by_total:
            for h in range(width):
                acc32[h] -= total[h]
        if fused:
            for h in range(width):
                z[i, h] = np.float32(acc32[h]) * scale[h] + bias[h]
        else:
            for h in range(width):
                out[i, h] += acc32[h]


# int8 first layers use the word kernel below (_rows_int8_words); pure Python
# (NUMBA_DISABLE_JIT) runs the row kernel above, which gives the same sums
_WORD_KERNEL = not numba.config.DISABLE_JIT
# the word kernel's weight rows are padded with zero columns to a multiple of this
_LANES_MIN = 16


def _emit_word_rows(builder, weights, x, base, width, c, start, load_t, align, step):
    """LLVM IR of the loop both word adders share: for the set bits ``b`` of the uint64
    ``x``, lowest first, load ``load_t`` (a vector of one row's columns ``c ...``, aligned
    to ``align`` bytes) from ``weights + (base + b) * width + c`` and fold it into the sums with
    ``step(builder, sums, w)``, starting from the vector ``start``; returns the final sums
    (``start`` when ``x`` is 0). The sums stay in registers (phi nodes) throughout."""
    from llvmlite import ir

    i64 = ir.IntType(64)
    entry = builder.block
    loop = builder.append_basic_block("word_bits")
    done = builder.append_basic_block("word_done")
    builder.cbranch(builder.icmp_unsigned("!=", x, ir.Constant(i64, 0)), loop, done)
    builder.position_at_end(loop)
    bits = builder.phi(i64)
    sums = builder.phi(start.type)
    b = builder.add(base, builder.cttz(bits, ir.Constant(ir.IntType(1), 1)))
    row = builder.gep(weights, [builder.add(builder.mul(b, width), c)])
    w = builder.load(builder.bitcast(row, load_t.as_pointer()), align=align)
    new_sums = step(builder, sums, w)
    rest = builder.and_(bits, builder.sub(bits, ir.Constant(i64, 1)))  # lowest set bit cleared
    bits.add_incoming(x, entry)
    bits.add_incoming(rest, loop)
    sums.add_incoming(start, entry)
    sums.add_incoming(new_sums, loop)
    builder.cbranch(builder.icmp_unsigned("!=", rest, ir.Constant(i64, 0)), loop, done)
    builder.position_at_end(done)
    total = builder.phi(start.type)
    total.add_incoming(start, entry)
    total.add_incoming(new_sums, loop)
    return total


def _stream_adder(lanes):
    """An intrinsic ``add(acc32, flat, words, bases, first, n_bits, width, c, a0)``: the
    int8 weight columns ``c .. c+lanes-1`` of the rows ``b`` of the ``n_bits`` set bits of
    a level, summed into ``acc32[a0 + c ...]``. The level is given as its non-zero words
    ``words[first ..]`` (their bits ``b - bases[...]``, in increasing b) followed by one
    more entry (read, never used). The sums are held in registers as ``lanes`` int16 and
    go to the int32 sums every 256 rows (all added: ``|sum| <= 256 * 128``, exact).

    One loop over the level's bits, ``n_bits`` known in advance: the next word is taken
    without a branch (a select, when the current word has no bit left), so the loop does
    not end, mispredicted, at every word (on MNIST's levels of 10-16 bits per word that
    cost as much as the additions). The caller guarantees ``c + lanes <= width``.
    """
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def add_stream(typingctx, acc32, flat, words, bases, first, n_bits, width, c, a0):
        def codegen(context, builder, signature, args):
            acc = context.make_array(signature.args[0])(context, builder, args[0])
            weights = context.make_array(signature.args[1])(context, builder, args[1])
            wds = context.make_array(signature.args[2])(context, builder, args[2])
            bss = context.make_array(signature.args[3])(context, builder, args[3])
            first, n_bits, width, c, a0 = args[4:]
            i64 = ir.IntType(64)
            one, zero = ir.Constant(i64, 1), ir.Constant(i64, 0)
            sums_t = ir.VectorType(ir.IntType(16), lanes)
            acc_t = ir.VectorType(ir.IntType(32), lanes)
            load_t = ir.VectorType(ir.IntType(8), lanes)
            target = builder.bitcast(builder.gep(acc.data, [builder.add(a0, c)]), acc_t.as_pointer())
            x_first = builder.load(builder.gep(wds.data, [first]))
            base_first = builder.load(builder.gep(bss.data, [first]))
            entry = builder.block
            head = builder.append_basic_block("stream_chunk")
            loop = builder.append_basic_block("stream_bits")
            tail = builder.append_basic_block("stream_chunk_end")
            done = builder.append_basic_block("stream_done")
            builder.cbranch(builder.icmp_unsigned("!=", n_bits, zero), head, done)
            # a chunk of at most 256 bits
            builder.position_at_end(head)
            taken = builder.phi(i64)
            hx = builder.phi(i64)
            hidx = builder.phi(i64)
            hbase = builder.phi(i64)
            taken.add_incoming(zero, entry)
            hx.add_incoming(x_first, entry)
            hidx.add_incoming(first, entry)
            hbase.add_incoming(base_first, entry)
            left = builder.sub(n_bits, taken)
            todo = builder.select(builder.icmp_unsigned("<", left, ir.Constant(i64, 256)), left,
                                  ir.Constant(i64, 256))
            builder.branch(loop)
            # one bit
            builder.position_at_end(loop)
            t = builder.phi(i64)
            x = builder.phi(i64)
            idx = builder.phi(i64)
            base = builder.phi(i64)
            sums = builder.phi(sums_t)
            t.add_incoming(zero, head)
            x.add_incoming(hx, head)
            idx.add_incoming(hidx, head)
            base.add_incoming(hbase, head)
            sums.add_incoming(ir.Constant(sums_t, None), head)
            nxt = builder.add(idx, one)
            next_x = builder.load(builder.gep(wds.data, [nxt]))  # the next word, needed or not
            next_base = builder.load(builder.gep(bss.data, [nxt]))
            b = builder.add(base, builder.cttz(x, ir.Constant(ir.IntType(1), 1)))
            row = builder.gep(weights.data, [builder.add(builder.mul(b, width), c)])
            w = builder.load(builder.bitcast(row, load_t.as_pointer()), align=1)
            new_sums = builder.add(sums, builder.sext(w, sums_t))
            rest = builder.and_(x, builder.sub(x, one))
            empty = builder.icmp_unsigned("==", rest, zero)
            new_x = builder.select(empty, next_x, rest)
            new_idx = builder.select(empty, nxt, idx)
            new_base = builder.select(empty, next_base, base)
            new_t = builder.add(t, one)
            t.add_incoming(new_t, loop)
            x.add_incoming(new_x, loop)
            idx.add_incoming(new_idx, loop)
            base.add_incoming(new_base, loop)
            sums.add_incoming(new_sums, loop)
            builder.cbranch(builder.icmp_unsigned("<", new_t, todo), loop, tail)
            # the chunk's sums to int32
            builder.position_at_end(tail)
            builder.store(builder.add(builder.load(target, align=4), builder.sext(new_sums, acc_t)), target, align=4)
            new_taken = builder.add(taken, todo)
            taken.add_incoming(new_taken, tail)
            hx.add_incoming(new_x, tail)
            hidx.add_incoming(new_idx, tail)
            hbase.add_incoming(new_base, tail)
            builder.cbranch(builder.icmp_unsigned("<", new_taken, n_bits), head, done)
            builder.position_at_end(done)
            return context.get_dummy_value()

        return types.void(acc32, flat, words, bases, first, n_bits, width, c, a0), codegen

    return add_stream


def _layer_adder(lanes):
    """An intrinsic ``add(sums, z, flat, z0, n_in, width, c)``: ``sums[c ...] = sum over k of
    ReLU(z[z0 + k]) * flat[k * width + c ...]`` for the float32 columns ``c .. c+lanes-1``,
    ``k`` increasing from 0 to ``n_in - 1``, the sums held in vector registers from +0,
    each product and each addition rounded to float32 (plain IEEE ``fmul``/``fadd``, no
    fused multiply-add). An input the ReLU zeroes adds a product +-0, which leaves a sum
    as it is (a sum that starts at +0 is never -0): the same sums as skipping it, as the C
    export's ``layer_l`` does. A counted loop, no branch per input.
    """
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def add_layer(typingctx, sums, z, flat, z0, n_in, width, c):
        def codegen(context, builder, signature, args):
            out = context.make_array(signature.args[0])(context, builder, args[0])
            zs = context.make_array(signature.args[1])(context, builder, args[1])
            weights = context.make_array(signature.args[2])(context, builder, args[2])
            z0, n_in, width, c = args[3:]
            i64 = ir.IntType(64)
            f32 = ir.FloatType()
            vec_t = ir.VectorType(f32, lanes)
            zero = ir.Constant(vec_t, None)
            entry = builder.block
            loop = builder.append_basic_block("layer_inputs")
            done = builder.append_basic_block("layer_done")
            builder.cbranch(builder.icmp_unsigned("!=", n_in, ir.Constant(i64, 0)), loop, done)
            builder.position_at_end(loop)
            k = builder.phi(i64)
            acc = builder.phi(vec_t)
            a = builder.load(builder.gep(zs.data, [builder.add(z0, k)]))
            a = builder.select(builder.fcmp_ordered(">", a, ir.Constant(f32, 0.0)), a, ir.Constant(f32, 0.0))
            splat = builder.shuffle_vector(builder.insert_element(ir.Constant(vec_t, ir.Undefined), a,
                                                                  ir.Constant(ir.IntType(32), 0)),
                                           ir.Constant(vec_t, ir.Undefined),
                                           ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes))
            row = builder.gep(weights.data, [builder.add(builder.mul(k, width), c)])
            w = builder.load(builder.bitcast(row, vec_t.as_pointer()), align=4)
            new_acc = builder.fadd(acc, builder.fmul(splat, w))
            k_next = builder.add(k, ir.Constant(i64, 1))
            k.add_incoming(ir.Constant(i64, 0), entry)
            k.add_incoming(k_next, loop)
            acc.add_incoming(zero, entry)
            acc.add_incoming(new_acc, loop)
            builder.cbranch(builder.icmp_unsigned("<", k_next, n_in), loop, done)
            builder.position_at_end(done)
            total = builder.phi(vec_t)
            total.add_incoming(zero, entry)
            total.add_incoming(new_acc, loop)
            target = builder.bitcast(builder.gep(out.data, [c]), vec_t.as_pointer())
            builder.store(total, target, align=4)
            return context.get_dummy_value()

        return types.void(sums, z, flat, z0, n_in, width, c), codegen

    return add_layer


def _float_word_adder(lanes, subtract):
    """An intrinsic ``add(out, flat, x, base, width, c, a0)``: for the set bits ``b`` of
    the uint64 word ``x``, in increasing b, the float32 weight columns ``c .. c+lanes-1``
    of row ``base + b`` are added to (``subtract``: subtracted from) the float32 sums
    ``out.flat[a0 + c ...]``, held in vector registers meanwhile: each lane is one column,
    its additions made one after the other in increasing b, each rounded to float32 (no
    reassociation: plain IEEE ``fadd``/``fsub``), exactly the documented order.
    """
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def add_word(typingctx, out, flat, x, base, width, c, a0):
        def codegen(context, builder, signature, args):
            sums_arr = context.make_array(signature.args[0])(context, builder, args[0])
            weights = context.make_array(signature.args[1])(context, builder, args[1])
            x, base, width, c, a0 = args[2:]
            vec_t = ir.VectorType(ir.FloatType(), lanes)
            target = builder.bitcast(builder.gep(sums_arr.data, [builder.add(a0, c)]), vec_t.as_pointer())
            total = _emit_word_rows(
                builder, weights.data, x, base, width, c, builder.load(target, align=4), vec_t, 4,
                (lambda bld, sums, w: bld.fsub(sums, w)) if subtract else (lambda bld, sums, w: bld.fadd(sums, w)),
            )
            builder.store(total, target, align=4)
            return context.get_dummy_value()

        return types.void(out, flat, x, base, width, c, a0), codegen

    return add_word


if not numba.config.DISABLE_JIT:  # (pure Python runs _rows_int8 and _rows_float32 instead)
    _add_stream64, _add_stream32, _add_stream16 = _stream_adder(64), _stream_adder(32), _stream_adder(16)
    _add_layer16 = _layer_adder(16)
    _addf64, _addf32, _addf16 = (_float_word_adder(n, False) for n in (64, 32, 16))
    _subf64, _subf32, _subf16 = (_float_word_adder(n, True) for n in (64, 32, 16))


@njit(cache=True, nogil=True)
def _rows_float32_words(words, flat, out, n_positive, lo, hi):
    """Rows ``lo .. hi-1`` of the float32 gather, ``flat`` holding the weight rows and
    ``out`` the rows of sums (pre-filled with the bias), both padded with zero columns to
    a width a multiple of :data:`_LANES_MIN`. Word by word in increasing b, each column's
    sum takes the rows of the set bits one at a time (:func:`_float_word_adder`, 64, 32
    or 16 columns per vector): the positive plane added, then the negative one
    subtracted, the order and roundings of :func:`_rows_float32` (quinary: the four
    planes in order, even ones added, odd ones subtracted)."""
    n_words = words.shape[1]
    stride = out.shape[1]
    width = np.uint64(stride)
    n_planes = n_words // n_positive
    for i in range(lo, hi):
        a0 = np.uint64(i * stride)
        for plane in range(n_planes):
            first, last = plane * n_positive, (plane + 1) * n_positive
            add = plane % 2 == 0
            for w in range(first, last):
                x = words[i, w]
                base = np.uint64((w - first) * 64)
                c = _ZERO
                while c + np.uint64(64) <= width:
                    if add:
                        _addf64(out, flat, x, base, width, c, a0)
                    else:
                        _subf64(out, flat, x, base, width, c, a0)
                    c += np.uint64(64)
                if c + np.uint64(32) <= width:
                    if add:
                        _addf32(out, flat, x, base, width, c, a0)
                    else:
                        _subf32(out, flat, x, base, width, c, a0)
                    c += np.uint64(32)
                if c < width:  # (the width is a multiple of 16)
                    if add:
                        _addf16(out, flat, x, base, width, c, a0)
                    else:
                        _subf16(out, flat, x, base, width, c, a0)


def _popcount_intrinsic():
    """An intrinsic ``popcount(x)``: the set bits of the uint64 ``x`` (LLVM's ctpop: one
    ``popcnt`` instruction where the CPU has it)."""
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def popcount(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return types.uint64(types.uint64), codegen

    return popcount


if not numba.config.DISABLE_JIT:
    _popcount = _popcount_intrinsic()


@njit(cache=True, inline="always")
def _pick(k, a, b, c, d, e):
    """The k-th of five scalars (no array: a local array would be allocated per row)."""
    if k == 0:
        return a
    if k == 1:
        return b
    if k == 2:
        return c
    if k == 3:
        return d
    return e


@njit(cache=True, nogil=True)
def _rows_int8_words(words, flat, out, z, scale, bias, total, n_positive, acc32, levels, lo, hi):
    """Rows ``lo .. hi-1`` of the int8 gather, ``flat`` holding the weight rows padded
    with zero columns to a width a multiple of :data:`_LANES_MIN`; scratch ``acc32`` (five
    rows of that width: the int32 sums of each level) and ``levels`` (2 x 5 x (words per
    plane + 1)). Integer sums are exact in any order, so any grouping gives the sums of
    :func:`_rows_int8`, bit for bit. Then ``out[i] += sums`` or
    ``z[i] = float32(sums) * scale + bias`` for the H true columns.

    By levels: each bit has a level ``v`` in -2 .. 2 (quinary; ternary -1 .. 1, binary 0
    or 1), and the first layer is ``sum_v v * S_v``, ``S_v`` the sum of the weight rows of
    the bits at level ``v``, read from the planes (level 2 is plane 2, level 1 plane 0
    without plane 2, level 0 neither plane 0 nor plane 1, level -1 plane 1 without plane
    3, level -2 plane 3). One level ``d`` need not be summed, since
    ``S_d = total - (the other S_v)``, ``total`` the weights' column sums::

        sum_v v * S_v = sum_{v != d} (v - d) * S_v + d * total

    so ``d`` is the row's most populated level (counted with popcounts): a dense row of
    MNIST (600 bits, 18 % of the sums exactly 0) adds ~450 weight rows instead of the ~650
    of the four planes one by one (1.2x faster), and ternary rows ~300. Without ``total``
    (binary, or a few rows, not worth summing the matrix) ``d`` is 0. Empty levels are
    skipped. Each level's non-zero words are listed with their first bit, then its rows
    are summed in one loop over its set bits, 64, 32 or 16 columns at a time
    (:func:`_stream_adder`). The combination is exact: in int64, or in float64 when
    scaled (integers below 2**53).

    (The arrays are indexed here, never passed to a helper: see the note above
    :func:`~sklearn_projection._hashing._sparse_row` on numba's reference counting.)"""
    n_words = words.shape[1]
    fused = z.shape[0] > 0
    H = z.shape[1] if fused else out.shape[1]
    n_planes = n_words // n_positive
    stride = acc32.shape[0] // 5
    width = np.uint64(stride)
    by_total = total.shape[0] > 0 and n_planes > 1
    tail = (flat.shape[0] // stride) % 64  # bits in the last word of a plane
    last_mask = (_ONE << np.uint64(tail)) - _ONE if tail else ~_ZERO
    lw, lb = levels[0], levels[1]
    totals = total if by_total else acc32  # (read times 0.0 when there are no column sums)
    seg = n_positive + 1  # a level's words, and one more read past them
    for i in range(lo, hi):
        for h in range(acc32.shape[0]):
            acc32[h] = 0
        # the non-zero words of each level (k = 0 .. 4 for the levels +2 .. -2), with their
        # first bit, and the level's population
        m0 = m1 = m2 = m3 = m4 = 0  # non-zero words so far
        c0 = c1 = c2 = c3 = c4 = _ZERO
        for w in range(n_positive):
            p = words[i, w]
            n = words[i, n_positive + w] if n_planes > 1 else _ZERO
            p2 = words[i, 2 * n_positive + w] if n_planes == 4 else _ZERO
            n2 = words[i, 3 * n_positive + w] if n_planes == 4 else _ZERO
            mask = last_mask if w == n_positive - 1 else ~_ZERO
            base = np.uint64(w * 64)
            x0, x1, x2, x3, x4 = p2, p & ~p2, ~(p | n) & mask, n & ~n2, n2
            lw[m0], lb[m0] = x0, base
            m0 += x0 != _ZERO
            lw[seg + m1], lb[seg + m1] = x1, base
            m1 += x1 != _ZERO
            lw[2 * seg + m2], lb[2 * seg + m2] = x2, base
            m2 += x2 != _ZERO
            lw[3 * seg + m3], lb[3 * seg + m3] = x3, base
            m3 += x3 != _ZERO
            lw[4 * seg + m4], lb[4 * seg + m4] = x4, base
            m4 += x4 != _ZERO
            c0 += _popcount(x0)
            c1 += _popcount(x1)
            c2 += _popcount(x2)
            c3 += _popcount(x3)
            c4 += _popcount(x4)
        d = 2  # the level left out: 0, or with the column sums the most populated one
        if by_total:
            most = c2
            for k in range(5):
                if _pick(k, c0, c1, c2, c3, c4) > most:
                    most = _pick(k, c0, c1, c2, c3, c4)
                    d = k
        for k in range(5):
            count = _pick(k, c0, c1, c2, c3, c4)
            if k == d or count == _ZERO:
                continue
            a0 = np.uint64(k * stride)
            first = np.uint64(k * seg)
            c = _ZERO
            while c + np.uint64(64) <= width:
                _add_stream64(acc32, flat, lw, lb, first, count, width, c, a0)
                c += np.uint64(64)
            if c + np.uint64(32) <= width:
                _add_stream32(acc32, flat, lw, lb, first, count, width, c, a0)
                c += np.uint64(32)
            if c < width:  # (the width is a multiple of 16)
                _add_stream16(acc32, flat, lw, lb, first, count, width, c, a0)
        # sum over v != d of (v - d) S_v, + d * total: the slot of level d and those of
        # empty levels hold zeros, so every level takes part, without a branch
        v_d = np.int64(2 - d)
        e0, e1, e2, e3, e4 = 2 - v_d, 1 - v_d, -v_d, -1 - v_d, -2 - v_d
        s0, s1, s2, s3, s4 = 0, stride, 2 * stride, 3 * stride, 4 * stride
        if fused:
            # in float64, where these integers (|s| < 2**53) and their sums are exact, so
            # float32(s) is the int's own rounding; float64 lanes vectorise, int64 ones less
            f0, f1, f2, f3, f4 = np.float64(e0), np.float64(e1), np.float64(e2), np.float64(e3), np.float64(e4)
            fd = np.float64(v_d) if by_total else 0.0
            for h in range(H):
                s = (f0 * np.float64(acc32[s0 + h]) + f1 * np.float64(acc32[s1 + h])
                     + f2 * np.float64(acc32[s2 + h]) + f3 * np.float64(acc32[s3 + h])
                     + f4 * np.float64(acc32[s4 + h]) + fd * np.float64(totals[h]))
                z[i, h] = np.float32(s) * scale[h] + bias[h]
        else:
            for h in range(H):
                s = (e0 * np.int64(acc32[s0 + h]) + e1 * np.int64(acc32[s1 + h]) + e2 * np.int64(acc32[s2 + h])
                     + e3 * np.int64(acc32[s3 + h]) + e4 * np.int64(acc32[s4 + h]))
                if by_total:
                    s += v_d * np.int64(total[h])
                out[i, h] += np.int32(s)


@njit(cache=True, nogil=True)
def _rows_float32(words, flat, out, n_positive, offsets, lo, hi):
    """Rows ``lo .. hi-1`` of the float32 gather: per plane, the set bits' row offsets
    listed in increasing b, then each weight row added (subtracted for the negative
    plane: ``row + (-1) * w`` is exactly ``row - w``) one at a time in that order, each
    step rounded to float32: ``((row + W1) + W2) + ...``; the positive plane four rows per
    pass over the row (the order, and so every rounding, is unchanged). Quinary: the four
    planes in order, even ones added, odd ones subtracted."""
    n_words = words.shape[1]
    width = np.uint64(out.shape[1])
    n_planes = n_words // n_positive
    for i in range(lo, hi):
        row = out[i]
        for plane in range(n_planes):
            first, last = plane * n_positive, (plane + 1) * n_positive
            sign = np.float32(1.0) if plane % 2 == 0 else np.float32(-1.0)
            k = 0
            for w in range(first, last):
                x = words[i, w]
                base = np.uint64((w - first) * 64)
                while x != _ZERO:
                    offsets[k] = (base + trailing_zeros(x)) * width
                    k += 1
                    x &= x - _ONE
            t = 0
            while plane == 0 and t + 4 <= k:  # (one loop fewer to compile for the negative plane)
                o1, o2, o3, o4 = offsets[t], offsets[t + 1], offsets[t + 2], offsets[t + 3]
                for h in range(width):
                    row[h] = row[h] + flat[o1 + h] + flat[o2 + h] + flat[o3 + h] + flat[o4 + h]
                t += 4
            while t < k:
                o1 = offsets[t]
                for h in range(width):
                    row[h] += sign * flat[o1 + h]
                t += 1


def gather_first_layer(words, weights, out, ternary=False, planes=None):
    """``out[i] += sum of weights[b] over the set bits b of words[i]``, in increasing b.

    ``ternary`` (``planes=2``): ``words`` holds two planes (positive words, then negative
    words, as :func:`~sklearn_projection._projection.lsh_bits` packs them); the weight rows
    of the positive bits are added in increasing b, then those of the negative bits
    subtracted in increasing b. ``planes=4`` (quinary): four planes, plane by plane, the
    even ones added and the odd ones subtracted.
    ``out`` (n x H) is pre-filled by the caller: the float32 bias for float32 weights
    (then each row is added in that order, rounded to float32 at each step), or int32
    zeros for int8 weights (which then accumulate exactly, so in any grouping). Rows run
    in parallel, each worker with its own scratch, allocated here.
    """
    if weights.dtype == np.int8:
        empty = np.zeros(0, dtype=np.float32)
        _gather_int8_rows(words, weights, out, np.empty((0, out.shape[1]), dtype=np.float32), empty, empty,
                          _planes(ternary, planes))
        return out
    words, n_words, n_workers = _gather_setup(words, _planes(ternary, planes))
    if _WORD_KERNEL:
        flat, stride = _padded_rows(weights)
        sums = out if stride == out.shape[1] and out.flags.c_contiguous else np.zeros((out.shape[0], stride), np.float32)
        if sums is not out:
            sums[:, : out.shape[1]] = out
        in_threads(lambda w, lo, hi: _rows_float32_words(words, flat, sums, n_words, lo, hi), words.shape[0], n_workers)
        if sums is not out:
            out[:] = sums[:, : out.shape[1]]
        return out
    flat = np.ascontiguousarray(weights).reshape(-1)
    offsets = _offsets(n_workers, n_words)
    in_threads(lambda w, lo, hi: _rows_float32(words, flat, out, n_words, offsets[w], lo, hi), words.shape[0],
               n_workers)
    return out


def _padded_rows(weights):
    """(the weight rows as one flat C array, padded with zero columns to a multiple of
    :data:`_LANES_MIN`, and that width): every row a whole number of vectors."""
    width = weights.shape[1]
    stride = -(-width // _LANES_MIN) * _LANES_MIN
    if stride == width:
        return np.ascontiguousarray(weights).reshape(-1), stride
    padded = np.zeros((weights.shape[0], stride), dtype=weights.dtype)
    padded[:, :width] = weights
    return padded.reshape(-1), stride


def _planes(ternary, planes):
    """Planes of words per row: ``planes`` if given, else 2 for ``ternary``, else 1."""
    if planes is None:
        return 2 if ternary else 1
    if planes not in (1, 2, 4):
        raise ValueError(f"planes must be 1 (binary), 2 (ternary) or 4 (quinary), got {planes!r}.")
    return planes


def _gather_setup(words, planes):
    """(C-ordered words, words per plane, workers)."""
    n_words = words.shape[1]
    if planes > 1:
        if n_words % planes:
            if planes == 2:
                raise ValueError(f"ternary words hold two planes, got an odd width {n_words}.")
            raise ValueError(f"quinary words hold four planes, got a width of {n_words}, not a multiple of 4.")
        n_words //= planes
    words = np.ascontiguousarray(words)
    return words, n_words, row_workers(words.shape[0])


def _offsets(n_workers, n_words):
    """Per-worker scratch of the row kernels (_rows_int8, _rows_float32): a row's set bits'
    weight-row offsets, at most 64 per word of a plane."""
    return np.empty((n_workers, 64 * n_words), dtype=np.uint64)


def _gather_int8_rows(words, weights, out, z, scale, bias, planes):
    """The int8 gather: ``out += sums`` (int32), or ``z = float32(sums) * scale + bias``
    when ``z`` has rows (``out`` then has none); ``planes`` of words per row."""
    words, n_words, n_workers = _gather_setup(words, planes)
    width = weights.shape[1]
    # ternary and quinary batches: one level's rows come from the weights' column sums (see
    # _rows_int8_words); a few rows are not worth summing the whole matrix
    by_total = planes > 1 and words.shape[0] >= _TOTAL_MIN_ROWS
    total = weights.sum(axis=0, dtype=np.int32) if by_total else np.zeros(0, dtype=np.int32)
    if _WORD_KERNEL:
        flat, stride = _padded_rows(weights)  # zero columns up to a multiple of 16
        acc32 = np.empty((n_workers, 5 * stride), dtype=np.int32)  # one row per level
        levels = np.zeros((n_workers, 2, 5 * (n_words + 1)), dtype=np.uint64)  # a row's words of each level
        in_threads(lambda w, lo, hi: _rows_int8_words(words, flat, out, z, scale, bias, total, n_words, acc32[w],
                                                      levels[w], lo, hi), words.shape[0], n_workers)
        return
    flat = np.ascontiguousarray(weights).reshape(-1)
    offsets = _offsets(n_workers, n_words)
    acc16 = np.empty((n_workers, width), dtype=np.int16)
    acc32 = np.empty((n_workers, width), dtype=np.int32)
    in_threads(lambda w, lo, hi: _rows_int8(words, flat, out, z, scale, bias, total, n_words, offsets[w], acc16[w],
                                            acc32[w], lo, hi), words.shape[0], n_workers)


def _as_float32(W):
    return W if W.dtype == np.float32 else W.astype(np.float32)


def first_layer(words, W, bias, scale=None, ternary=False, planes=None):
    """The first layer (before its ReLU) of the rows whose packed bits are ``words``
    (two planes when ``ternary``, or ``planes`` of them, see :func:`gather_first_layer`).

    ``W`` is float32, float16 or int8 (then ``scale`` holds its per-column float32
    scales); ``bias`` is float32. Returns float32 (n x H).
    """
    n = words.shape[0]
    if W.dtype == np.int8:
        if scale.dtype == bias.dtype == np.float32 and scale.shape == bias.shape == (W.shape[1],):
            # scaled in the kernel, each step in float32 as numpy does it below
            z = np.empty((n, W.shape[1]), dtype=np.float32)
            _gather_int8_rows(words, W, np.empty((0, W.shape[1]), dtype=np.int32), z,
                              np.ascontiguousarray(scale), np.ascontiguousarray(bias), _planes(ternary, planes))
            return z
        acc = gather_first_layer(words, W, np.zeros((n, W.shape[1]), dtype=np.int32), ternary, planes)
        z = acc.astype(np.float32)
        z *= scale
        z += bias
        return z
    z = np.empty((n, W.shape[1]), dtype=np.float32)
    z[:] = bias
    return gather_first_layer(words, _as_float32(W), z, ternary, planes)


def remaining_layers(z, coefs, intercepts, scales=None):
    """ReLU, then ``z @ W + b`` for every layer after the first (int8: ``(z @ q) * scale +
    b``); returns the logits (float32).

    Each output is summed in float32 in increasing input order over the inputs the ReLU
    leaves > 0, exactly as the C export's ``layer_l`` does it (:func:`_layer_rows`), so
    that Python and C give the same logits bit for bit. (Not numpy's ``@``: BLAS sums in
    an order of its own, which may differ between machines, and its worker threads,
    which spin after a call, competed with the row kernels' threads.)"""
    for layer in range(1, len(coefs)):
        W = _as_float32(coefs[layer])
        n_out = W.shape[1]
        flat, stride = _padded_rows(W)
        out = np.empty((z.shape[0], n_out), dtype=np.float32)
        scale = _NO_SCALE if scales is None else np.ascontiguousarray(scales[layer], dtype=np.float32)
        bias = np.ascontiguousarray(intercepts[layer], dtype=np.float32)
        z = np.ascontiguousarray(z, dtype=np.float32)
        if _WORD_KERNEL:
            _layer_rows_vector(z.reshape(-1), z.shape[1], flat, stride, scale, bias, out)
        else:
            _layer_rows(z, W, scale, bias, out)
        z = out
    return z


_NO_SCALE = np.zeros(0, dtype=np.float32)


@njit(cache=True, nogil=True)
def _layer_rows_vector(z, n_in, flat, stride, scale, bias, out):
    """:func:`_layer_rows`, 16 outputs at a time in vector registers (:func:`_layer_adder`;
    ``flat`` the weight rows padded with zero columns to ``stride``, a multiple of 16)."""
    n_out = out.shape[1]
    sums = np.empty(stride, dtype=np.float32)
    scaled = scale.shape[0] > 0
    width = np.uint64(stride)
    n = np.uint64(n_in)
    for i in range(out.shape[0]):
        z0 = np.uint64(i * n_in)
        c = np.uint64(0)
        while c < width:
            _add_layer16(sums, z, flat, z0, n, width, c)
            c += np.uint64(16)
        for j in range(n_out):
            s = sums[j] * scale[j] if scaled else sums[j]
            out[i, j] = s + bias[j]


@njit(cache=True, nogil=True)
def _layer_rows(z, W, scale, bias, out):
    """``out = ReLU(z) @ W (* scale) + bias`` in float32, row by row: the inputs that the
    ReLU leaves > 0 are listed first (no branch per input), then each output ``j`` takes
    ``a * W[k, j]`` over them in increasing ``k``, each step rounded to float32 (a product
    0 * w would leave a sum that starts at +0 as it is, so skipping them changes nothing);
    then ``* scale[j]`` (int8 weights; ``scale`` empty otherwise) and ``+ bias[j]``. Pure
    Python (``NUMBA_DISABLE_JIT``) runs this; compiled, :func:`_layer_rows_vector`."""
    n_in = z.shape[1]
    n_out = W.shape[1]
    on = np.empty(n_in, dtype=np.int64)
    sums = np.empty(n_out, dtype=np.float32)
    scaled = scale.shape[0] > 0
    for i in range(z.shape[0]):
        m = 0
        for k in range(n_in):
            on[m] = k
            m += z[i, k] > 0.0
        for j in range(n_out):
            sums[j] = 0.0
        for t in range(m):
            k = on[t]
            a = z[i, k]
            for j in range(n_out):
                sums[j] += a * W[k, j]
        for j in range(n_out):
            s = sums[j] * scale[j] if scaled else sums[j]
            out[i, j] = s + bias[j]


def logits(X, seed, n_bits_total, density, coefs, intercepts, scales=None, reading="binary", threshold=0.0):
    """Output logits (float32, n x n_classes) of a projection network on validated ``X``.

    ``seed``, ``n_bits_total`` and ``density`` regenerate the projection, ``reading``
    ("binary", "ternary" or "quinary", whose ``threshold`` is tau) says how its sums are
    read; ``coefs`` and
    ``intercepts`` are the layers over the bits (``scales``: per-layer column scales of
    int8 weights, or None). Rows are processed in batches of :data:`BATCH_ROWS`.
    """
    n = X.shape[0]
    if n <= BATCH_ROWS:
        return _logits_batch(X, seed, n_bits_total, density, coefs, intercepts, scales, reading, threshold)
    out = np.empty((n, intercepts[-1].shape[0]), dtype=np.float32)
    for start in range(0, n, BATCH_ROWS):
        X_b = X[start : start + BATCH_ROWS]
        out[start : start + X_b.shape[0]] = _logits_batch(
            X_b, seed, n_bits_total, density, coefs, intercepts, scales, reading, threshold
        )
    return out


def _logits_batch(X, seed, n_bits_total, density, coefs, intercepts, scales, reading, threshold):
    words = lsh_bits(X, seed, n_bits_total, density, packed=True, reading=reading, threshold=threshold)
    z = first_layer(words, coefs[0], intercepts[0], None if scales is None else scales[0],
                    planes=PLANES[reading])
    return remaining_layers(z, coefs, intercepts, scales)


def footprint_bytes(coefs, intercepts, scales=None, reading="binary"):
    """Bytes a projection network needs at inference (``size_bytes`` of both classifiers).

    Its weight matrices at their dtype, the float32 biases (and int8 scales), plus the
    scalars the projections are regenerated from: the 8-byte seed, the 8-byte density,
    T, d, the number of features and one width per layer (4 bytes each), and for the
    quinary reading its 8-byte threshold. Class labels are not counted (the C runtime
    returns class indices).
    """
    arrays = list(coefs) + list(intercepts) + list(scales or [])
    tau = 8 if reading == "quinary" else 0
    return int(sum(a.nbytes for a in arrays) + 8 + 8 + tau + 4 * (3 + len(coefs) + 1))


def _sum_is_finite(X):
    # NaN or inf makes the sum non-finite; so may huge finite values, which then take the
    # full check: a false alarm costs time, never a wrong answer
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(X, axis=None)))


class LogitsClassifierMixin:
    """``decision_function``, ``predict_proba``, ``predict_log_proba`` and ``predict`` of a
    fitted classifier that defines ``_logits(X)`` (output logits of validated ``X``);
    ``classes_`` labels the logits.

    A class whose ``_logits`` computes the LSH bits of dense ``X`` (through
    :func:`~sklearn_projection._projection.lsh_bits`, which refuses NaN and infinities
    it meets in its own pass over ``X``) sets ``_logits_refuses_not_finite = True``: a
    plain float array then skips the separate pass that checks it for them.
    """

    _logits_refuses_not_finite = False

    def _is_plain(self, X):
        """``X`` is a C-ordered float ndarray of the fitted width, with no feature names to
        compare: the common case of a service predicting a few rows."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in _FLOAT_DTYPES
            and X.flags.c_contiguous
            and X.shape[0] > 0
            and X.shape[1] == getattr(self, "n_features_in_", -1)
            and not hasattr(self, "feature_names_in_")
            and self.__sklearn_is_fitted__()
        )

    def _validate(self, X):
        """``X`` checked as scikit-learn's ``validate_data(reset=False)`` checks it.

        A plain float array (:meth:`_is_plain`) with finite values is accepted here in a
        few microseconds (``validate_data`` costs about 60); anything else, including
        every input ``validate_data`` would refuse, goes through it and gets its errors.
        """
        if self._is_plain(X) and _sum_is_finite(X):
            return X
        check_is_fitted(self)
        return validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )

    def _checked_logits(self, X):
        """``_logits`` of ``X`` after :meth:`_validate`, or, for a plain array when
        ``_logits`` refuses NaN and infinities itself, without the separate pass over
        ``X`` that checks for them (one fewer read of a large ``X``: on 10k MNIST rows a
        sixth of the time of a predict). Non-finite input then goes through
        ``validate_data`` and gets its error."""
        if self._logits_refuses_not_finite and self._is_plain(X):
            try:
                return self._logits(X)
            except NotFiniteError:
                pass
        return self._logits(self._validate(X))

    def decision_function(self, X):
        """Output logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            The logits; with two classes, the logit of ``classes_[1]`` minus that of
            ``classes_[0]`` (positive means ``classes_[1]``), as in scikit-learn.
        """
        z = self._checked_logits(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X):
        """Class probabilities: softmax of the logits, in float64.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._checked_logits(X).astype(np.float64, copy=False))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted classes: the class of the largest logit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        scores = self._checked_logits(X)
        return self.classes_[np.argmax(scores, axis=1)]
