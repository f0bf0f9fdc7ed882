"""Numba kernels of :class:`~sklearn_projection.NgramHasher` (specified in :mod:`._text`).

All texts of a batch arrive as one ``uint8`` buffer of UTF-8 bytes with an ``int64`` offsets
array (text ``i`` is ``buf[offsets[i]:offsets[i + 1]]``). Three kernels, each a pure function
of its arrays; only the second, where the time goes, runs in parallel over texts (one
parallel launch per chunk of at most 2**22 n-grams: on a busy machine launches cost), and it
writes only arrays its caller allocated:

1. :func:`count_ngrams` validates the UTF-8 of every text and counts its n-gram occurrences
   (without hashing): that fixes where each text's hashes go.
2. :func:`hash_rows` hashes every n-gram of a run of texts into its slot of one ``uint64``
   array, sorts each text's slice by ``(column, hash)``, and merges it in place into the
   text's sorted ``(column, value)`` pairs.
3. :func:`gather_rows` copies the merged pairs into CSR ``indices`` and ``data``.

The hash of an n-gram is FNV-1a 64 over a kind byte and the n-gram's bytes, so it extends
byte by byte: the hashes of all char n-grams that start at one code point come from one
walk over at most ``char_max`` code points, and those of the word n-grams that end at a
token from one extension per open n-gram. Every byte is therefore hashed at most
``char_max + word_max`` times.
"""

import numpy as np
from numba import prange

from ._hashing import mix64
from ._numba import njit

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
KIND_WORD = 0x77  # 'w'
KIND_CHAR = 0x63  # 'c'
SPACE = 0x20

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U63 = np.uint64(63)
_U64 = np.uint64(64)
_SPACE = np.uint64(SPACE)
# the FNV-1a state after the kind byte
_FNV_W = np.uint64(((0xCBF29CE484222325 ^ KIND_WORD) * 0x100000001B3) % 2**64)
_FNV_C = np.uint64(((0xCBF29CE484222325 ^ KIND_CHAR) * 0x100000001B3) % 2**64)

# U+0080..U+00BF that are letters or digits (word characters): ª ² ³ µ ¹ º ¼ ½ ¾;
# bit (cp - 0x80) is set for the others, which separate.
LATIN1_WORD = (0xAA, 0xB2, 0xB3, 0xB5, 0xB9, 0xBA, 0xBC, 0xBD, 0xBE)
LATIN1_SEPARATOR_MASK = sum(1 << (cp - 0x80) for cp in range(0x80, 0xC0) if cp not in LATIN1_WORD)
_LATIN1_SEP = np.uint64(LATIN1_SEPARATOR_MASK)

WEIGHT_BINARY, WEIGHT_COUNT, WEIGHT_SUBLINEAR = 0, 1, 2


@njit(cache=True, inline="always")
def is_word(cp):
    """True where code point ``cp`` belongs to a token (see _text's docstring)."""
    if cp < 0x80:
        return (0x30 <= cp <= 0x39) or (0x41 <= cp <= 0x5A) or (0x61 <= cp <= 0x7A)
    if cp < 0xC0:
        return ((_LATIN1_SEP >> np.uint64(cp - 0x80)) & _U1) == _U0
    if 0x2000 <= cp <= 0x206F:
        return cp == 0x200C or cp == 0x200D
    if 0x3000 <= cp <= 0x3002 or cp == 0xFEFF:
        return False
    return True


@njit(cache=True, inline="always")
def decode(buf, i):
    """(code point, length in bytes) of the well-formed UTF-8 sequence at ``buf[i]``."""
    b0 = np.int64(buf[i])
    if b0 < 0x80:
        return b0, 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int64(buf[i + 1]) & 0x3F), 2
    if b0 < 0xF0:
        return ((b0 & 0x0F) << 12) | ((np.int64(buf[i + 1]) & 0x3F) << 6) | (np.int64(buf[i + 2]) & 0x3F), 3
    return (((b0 & 0x07) << 18) | ((np.int64(buf[i + 1]) & 0x3F) << 12)
            | ((np.int64(buf[i + 2]) & 0x3F) << 6) | (np.int64(buf[i + 3]) & 0x3F)), 4


@njit(cache=True, inline="always")
def decode_checked(buf, i, e):
    """Like :func:`decode` over ``buf[i:e]``, but (-1, 0) where the bytes at ``i`` are not a
    well-formed UTF-8 sequence (Unicode 15, table 3-7: no overlong forms, no surrogates
    U+D800..U+DFFF, nothing above U+10FFFF, no truncated sequence)."""
    b0 = np.int64(buf[i])
    if b0 < 0x80:
        return b0, 1
    lo = 0x80
    hi = 0xBF
    if 0xC2 <= b0 <= 0xDF:
        need = 1
    elif b0 == 0xE0:
        need = 2
        lo = 0xA0
    elif 0xE1 <= b0 <= 0xEF:
        need = 2
        if b0 == 0xED:
            hi = 0x9F
    elif b0 == 0xF0:
        need = 3
        lo = 0x90
    elif 0xF1 <= b0 <= 0xF3:
        need = 3
    elif b0 == 0xF4:
        need = 3
        hi = 0x8F
    else:
        return -1, 0
    if i + need >= e:
        return -1, 0
    b1 = np.int64(buf[i + 1])
    if b1 < lo or b1 > hi:
        return -1, 0
    for k in range(2, need + 1):
        if (np.int64(buf[i + k]) & 0xC0) != 0x80:
            return -1, 0
    return decode(buf, i)


@njit(cache=True, inline="always")
def range_count(length, lo, hi):
    """Number of n-grams of n in lo..hi (n >= 1; hi = 0: none) over ``length`` items."""
    total = 0
    for n in range(max(lo, 1), hi + 1):
        if length >= n:
            total += length - n + 1
    return total


@njit(cache=True)
def count_text(buf, s, e, word_min, word_max, char_min, char_max):
    """(n-gram occurrences, -1) of ``buf[s:e]``, or (0, byte offset in the text where its
    UTF-8 is ill-formed). A range with max 0 is off."""
    total = 0
    n_tokens = 0
    run = 0  # code points of the current token
    i = s
    while i < e:
        cp, length = decode_checked(buf, i, e)
        if length == 0:
            return 0, i - s
        if is_word(cp):
            run += 1
        elif run > 0:
            total += range_count(run + 2, char_min, char_max)
            n_tokens += 1
            run = 0
        i += length
    if run > 0:
        total += range_count(run + 2, char_min, char_max)
        n_tokens += 1
    return total + range_count(n_tokens, word_min, word_max), -1


@njit(cache=True)
def count_ngrams(buf, offsets, word_min, word_max, char_min, char_max):
    """Per text: n-gram occurrences, and -1 or the byte offset of its first ill-formed UTF-8."""
    n = offsets.shape[0] - 1
    counts = np.zeros(n, dtype=np.int64)
    bad = np.full(n, -1, dtype=np.int64)
    for t in range(n):
        c, err = count_text(buf, offsets[t], offsets[t + 1], word_min, word_max, char_min, char_max)
        counts[t] = c
        bad[t] = err
    return counts, bad


@njit(cache=True, inline="always")
def fnv_byte(h, b, lowercase):
    """One FNV-1a step over byte ``b`` (ASCII A-Z lowered first when ``lowercase``)."""
    if lowercase and 0x41 <= b <= 0x5A:
        b += 0x20
    return (h ^ np.uint64(b)) * FNV_PRIME


@njit(cache=True)
def char_ngrams(buf, ts, te, lowercase, char_min, char_max, out, pos):
    """Hash the char n-grams of the token ``buf[ts:te]`` padded with one space on each side;
    append ``mix64`` of each to ``out`` from ``pos``; return the new ``pos``.

    Positions: ``ts - 1`` stands for the leading space, ``te`` for the trailing one."""
    start = ts - 1
    while start <= te:
        h = _FNV_C
        n = 0
        p = start
        while n < char_max and p <= te:
            if p == ts - 1 or p == te:
                h = (h ^ _SPACE) * FNV_PRIME
                p += 1
            else:
                h = fnv_byte(h, np.int64(buf[p]), lowercase)
                p += 1
                while p < te and (np.int64(buf[p]) & 0xC0) == 0x80:
                    h = (h ^ np.uint64(buf[p])) * FNV_PRIME
                    p += 1
            n += 1
            if n >= char_min:
                out[pos] = mix64(h)
                pos += 1
        if start == ts - 1:
            start = ts
        else:
            start += 1
            while start < te and (np.int64(buf[start]) & 0xC0) == 0x80:
                start += 1
    return pos


@njit(cache=True)
def word_ngrams(buf, ts, te, lowercase, word_min, word_max, states, token, out, pos):
    """Hash the word n-grams that end at the token ``buf[ts:te]`` (number ``token`` in its
    text). ``states[s % word_max]`` holds the FNV-1a state of the open n-gram starting at
    token ``s``; each is extended by a space and this token."""
    first = max(token - word_max + 1, 0)
    for s in range(first, token):
        h = (states[s % word_max] ^ _SPACE) * FNV_PRIME
        for p in range(ts, te):
            h = fnv_byte(h, np.int64(buf[p]), lowercase)
        states[s % word_max] = h
        if token - s + 1 >= word_min:
            out[pos] = mix64(h)
            pos += 1
    h = _FNV_W
    for p in range(ts, te):
        h = fnv_byte(h, np.int64(buf[p]), lowercase)
    states[token % word_max] = h
    if word_min <= 1:
        out[pos] = mix64(h)
        pos += 1
    return pos


@njit(cache=True)
def hash_text(buf, s, e, lowercase, word_min, word_max, char_min, char_max, states, out, pos):
    """Append the hash of every n-gram of the (valid UTF-8) text ``buf[s:e]`` to ``out``."""
    token = 0
    i = s
    while i < e:
        cp, length = decode(buf, i)
        if not is_word(cp):
            i += length
            continue
        ts = i
        i += length
        while i < e:
            cp, length = decode(buf, i)
            if not is_word(cp):
                break
            i += length
        if char_max > 0:
            pos = char_ngrams(buf, ts, i, lowercase, char_min, char_max, out, pos)
        if word_max > 0:
            pos = word_ngrams(buf, ts, i, lowercase, word_min, word_max, states, token, out, pos)
        token += 1
    return pos


# a text with at most this many n-grams is sorted by one bucketing pass on the top bits of its
# keys (see sort_keys); longer texts by quicksort
RADIX_MAX = 1 << 16


@njit(cache=True, inline="always")
def insertion_sort(a, lo, hi):
    for i in range(lo + 1, hi):
        v = a[i]
        j = i - 1
        while j >= lo and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@njit(cache=True)
def sort_keys(keys, a, b, scratch, counts):
    """Sort ``keys[a:b]`` in place (``scratch`` and ``counts``: at least the lengths
    :func:`sort_scratch_sizes` gives for ``b - a``).

    The keys are uniform 64-bit hashes, so one counting pass on their top
    ``ceil(log2(b - a)) + 1`` bits leaves about half a key per bucket; buckets of more than 16
    keys (a repeated n-gram, or bad luck) are sorted by quicksort, and one insertion-sort pass
    over the bucketed keys then fixes the order inside the small buckets in O(n)."""
    n = b - a
    if n <= 32:
        insertion_sort(keys, a, b)
        return
    if n > RADIX_MAX:
        keys[a:b].sort()
        return
    bits = 2
    while (1 << (bits - 1)) < n:
        bits += 1
    n_buckets = 1 << bits
    shift = np.uint64(64 - bits)
    counts[:n_buckets + 1] = 0
    for i in range(a, b):
        counts[np.int64(keys[i] >> shift) + 1] += 1
    crowded = False
    for d in range(n_buckets):
        if counts[d + 1] > 16:
            crowded = True
        counts[d + 1] += counts[d]
    for i in range(a, b):
        d = np.int64(keys[i] >> shift)
        scratch[counts[d]] = keys[i]
        counts[d] += 1
    if crowded:  # counts[d] is now the end of bucket d
        lo = 0
        for d in range(n_buckets):
            hi = counts[d]
            if hi - lo > 16:
                scratch[lo:hi].sort()
            lo = hi
    insertion_sort(scratch, 0, n)
    keys[a:b] = scratch[:n]


@njit(cache=True)
def merge_row(keys, vals, a, b, log2_features, weighting, alternate_sign, l2, scratch, counts):
    """Turn the n-gram hashes ``keys[a:b]`` of one text into its sorted features, in place.

    Each hash ``h`` is rotated right by ``k = log2_features`` bits, so that sorting sorts by
    ``(column, h)`` with ``column = h mod 2**k``; equal hashes are one n-gram counted ``c``
    times, weighted (1, c or 1 + log c), signed by bit 63 of ``h``, and added into its
    column; a column whose sum is exactly 0 is dropped. The columns go to ``keys[a:a+r]``
    and the values to ``vals[a:a+r]``, then divided by their l2 norm when ``l2``. Returns r.
    """
    k = np.uint64(log2_features)
    if log2_features > 0:
        for i in range(a, b):
            h = keys[i]
            keys[i] = (h >> k) | (h << (_U64 - k))
    sort_keys(keys, a, b, scratch, counts)
    sign_shift = _U63 - k
    w = a
    i = a
    column = _U0
    acc = 0.0
    have = False
    while i < b:
        r = keys[i]
        j = i + 1
        while j < b and keys[j] == r:
            j += 1
        c = j - i
        if weighting == WEIGHT_BINARY:
            v = 1.0
        elif weighting == WEIGHT_COUNT:
            v = float(c)
        elif c == 1:
            v = 1.0  # 1 + log(1), exactly
        else:
            v = 1.0 + np.log(float(c))
        if alternate_sign and ((r >> sign_shift) & _U1) != _U0:
            v = -v
        col = (r >> (_U64 - k)) if log2_features > 0 else _U0
        if have and col == column:
            acc += v
        else:
            if have and acc != 0.0:
                keys[w] = column
                vals[w] = acc
                w += 1
            column = col
            acc = v
            have = True
        i = j
    if have and acc != 0.0:
        keys[w] = column
        vals[w] = acc
        w += 1
    if l2 and w > a:
        ss = 0.0
        for i in range(a, w):
            ss += vals[i] * vals[i]
        norm = np.sqrt(ss)
        for i in range(a, w):
            vals[i] = vals[i] / norm
    return w - a


def sort_scratch_sizes(longest):
    """(scratch, counts) lengths :func:`sort_keys` needs for rows of at most ``longest`` keys."""
    n = min(int(longest), RADIX_MAX)
    if n <= 32:
        return max(n, 1), 1
    bits = 2
    while (1 << (bits - 1)) < n:
        bits += 1
    return n, (1 << bits) + 1


@njit(cache=True, parallel=True)
def hash_rows(buf, offsets, t0, starts, bounds, lowercase, word_min, word_max, char_min, char_max,
              log2_features, weighting, alternate_sign, l2, keys, vals, nnz, states, scratch, counts):
    """Features of texts ``t0 + r`` for r in ``0..len(starts)-2``: text ``t0 + r`` hashes into
    ``keys[starts[r]:starts[r+1]]`` and is merged there (:func:`merge_row`); its columns and
    values are then the first ``nnz[r]`` entries of its slice of ``keys`` and ``vals``.

    Parallel worker ``w`` takes the texts ``bounds[w]..bounds[w+1]-1`` with its own rows of
    the scratch arrays ``states`` (workers x max(word_max, 1)), ``scratch`` and ``counts``
    (workers x :func:`sort_scratch_sizes`). Every array is allocated by the caller: an
    allocation failing inside a parallel region would not reach it (see ``_numba``).
    """
    for w in prange(bounds.shape[0] - 1):
        states_w, scratch_w, counts_w = states[w], scratch[w], counts[w]
        for r in range(bounds[w], bounds[w + 1]):
            t = t0 + r
            a = starts[r]
            end = hash_text(buf, offsets[t], offsets[t + 1], lowercase, word_min, word_max,
                            char_min, char_max, states_w, keys, a)
            nnz[r] = merge_row(keys, vals, a, end, log2_features, weighting, alternate_sign, l2,
                               scratch_w, counts_w)


@njit(cache=True)
def gather_rows(keys, vals, starts, nnz, indptr, indices, data):
    """Copy text ``r``'s merged pairs to ``indices`` / ``data`` from ``indptr[r]``."""
    for r in range(nnz.shape[0]):
        a = starts[r]
        o = indptr[r]
        for j in range(nnz[r]):
            indices[o + j] = keys[a + j]
            data[o + j] = vals[a + j]
