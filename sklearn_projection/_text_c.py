"""NgramHasher in C99: the tokeniser, n-gram hash and features of :mod:`._text`, byte for byte.

:data:`C_SOURCE` is the specification of :class:`~sklearn_projection.NgramHasher` (see
:mod:`._text`'s docstring and docs/text.md) as one header-style C99 source, and
:func:`c_params` the C initializer of a hasher's settings. The C export of text models
includes it; tests compile it and compare it with Python on real and hostile texts.
"""

from . import _text_kernels as K


def c_params(hasher):
    """A C initializer of ``ngh_params`` (see :data:`C_SOURCE`) for ``hasher``'s settings."""
    s = hasher._settings()
    fields = ("lowercase", "word_min", "word_max", "char_min", "char_max", "weighting",
              "alternate_sign", "l2", "log2_features")
    return "{" + ", ".join(str(int(s[f])) for f in fields) + "}"


#: The tokeniser, hash and features of the specification above in C99 (C standard library
#: only; ``log`` and ``sqrt`` from math.h, link with -lm). Every function is ``NGH_FN``
#: (default ``static inline``, so unused ones draw no warning); none allocates.
C_SOURCE = r"""/* NgramHasher (sklearn_projection._text, specification version 1) in C99.
 * The tokeniser, n-gram hash and features of the Python NgramHasher, byte for byte.
 * No heap allocation, no global state; reentrant. Link with -lm (log, sqrt).
 * Do not compile with -ffast-math.
 *
 *   ngh_count(p, utf8, len)              n-gram occurrences in the text (no hashing), or < 0
 *   ngh_each(p, utf8, len, sink, ctx)    streaming: sink(ctx, h) for every n-gram's 64-bit hash
 *   ngh_features(p, utf8, len, work, capacity, index, value)
 *                                        the sorted (column, value) features of the text,
 *                                        using a caller-provided work buffer of `capacity`
 *                                        uint64; a text with more n-gram occurrences than
 *                                        `capacity` is refused (NGH_ECAPACITY). ngh_bound()
 *                                        gives a capacity that suffices for any text of a
 *                                        given length.
 * Errors (negative returns): NGH_EUTF8 (not well-formed UTF-8), NGH_ECAPACITY, NGH_EPARAMS.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifndef NGH_FN
#define NGH_FN static inline
#endif

#define NGH_BINARY 0
#define NGH_COUNT 1
#define NGH_SUBLINEAR 2
#define NGH_EUTF8 (-1)
#define NGH_ECAPACITY (-2)
#define NGH_EPARAMS (-3)
#define NGH_MAX_N 32

typedef struct {
    int lowercase;          /* 1: ASCII A-Z -> a-z before hashing */
    int word_min, word_max; /* word n-gram range, 1 <= min <= max <= NGH_MAX_N; 0, 0: none */
    int char_min, char_max; /* char n-gram range, same bounds; 0, 0: none */
    int weighting;          /* NGH_BINARY, NGH_COUNT or NGH_SUBLINEAR */
    int alternate_sign;     /* 1: sign -1 where bit 63 of the hash is set */
    int l2;                 /* 1: divide each row by its l2 norm */
    int log2_features;      /* n_features = 2**log2_features, 0 <= log2_features <= 62 */
} ngh_params;

typedef void (*ngh_sink)(void *ctx, uint64_t hash);

#define NGH_FNV_OFFSET UINT64_C(0xCBF29CE484222325)
#define NGH_FNV_PRIME UINT64_C(0x100000001B3)

NGH_FN uint64_t ngh_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

NGH_FN uint64_t ngh_fnv(uint64_t h, unsigned b, int lowercase) {
    if (lowercase && b >= 0x41u && b <= 0x5Au) b += 0x20u;
    return (h ^ (uint64_t)b) * NGH_FNV_PRIME;
}

/* 1 where code point cp belongs to a token */
NGH_FN int ngh_is_word(uint32_t cp) {
    if (cp < 0x80u)
        return (cp >= 0x30u && cp <= 0x39u) || (cp >= 0x41u && cp <= 0x5Au) || (cp >= 0x61u && cp <= 0x7Au);
    if (cp < 0xC0u) return !((UINT64_C(@LATIN1_MASK@) >> (cp - 0x80u)) & 1u);
    if (cp >= 0x2000u && cp <= 0x206Fu) return cp == 0x200Cu || cp == 0x200Du;
    if ((cp >= 0x3000u && cp <= 0x3002u) || cp == 0xFEFFu) return 0;
    return 1;
}

/* Length 1..4 of the well-formed UTF-8 sequence at s[i] (i < len), its code point in *cp;
 * 0 if the bytes there are not well-formed (Unicode table 3-7). */
NGH_FN int ngh_decode(const unsigned char *s, size_t i, size_t len, uint32_t *cp) {
    unsigned b0 = s[i], lo = 0x80u, hi = 0xBFu;
    int need, k;
    uint32_t c;
    if (b0 < 0x80u) { *cp = b0; return 1; }
    if (b0 >= 0xC2u && b0 <= 0xDFu) need = 1;
    else if (b0 == 0xE0u) { need = 2; lo = 0xA0u; }
    else if (b0 >= 0xE1u && b0 <= 0xEFu) { need = 2; if (b0 == 0xEDu) hi = 0x9Fu; }
    else if (b0 == 0xF0u) { need = 3; lo = 0x90u; }
    else if (b0 >= 0xF1u && b0 <= 0xF3u) need = 3;
    else if (b0 == 0xF4u) { need = 3; hi = 0x8Fu; }
    else return 0;
    if (len - i <= (size_t)need) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (k = 2; k <= need; k++)
        if ((s[i + k] & 0xC0u) != 0x80u) return 0;
    c = b0 & (need == 1 ? 0x1Fu : need == 2 ? 0x0Fu : 0x07u);
    for (k = 1; k <= need; k++) c = (c << 6) | (s[i + k] & 0x3Fu);
    *cp = c;
    return need + 1;
}

NGH_FN int ngh_check(const ngh_params *p) {
    int w_off = p->word_min == 0 && p->word_max == 0, c_off = p->char_min == 0 && p->char_max == 0;
    if (w_off && c_off) return NGH_EPARAMS;
    if (!w_off && !(1 <= p->word_min && p->word_min <= p->word_max && p->word_max <= NGH_MAX_N)) return NGH_EPARAMS;
    if (!c_off && !(1 <= p->char_min && p->char_min <= p->char_max && p->char_max <= NGH_MAX_N)) return NGH_EPARAMS;
    if (p->weighting < NGH_BINARY || p->weighting > NGH_SUBLINEAR) return NGH_EPARAMS;
    if (p->log2_features < 0 || p->log2_features > 62) return NGH_EPARAMS;
    return 0;
}

/* n-grams of n in lo..hi (n >= 1; hi = 0: none) over `length` items */
NGH_FN int64_t ngh_range_count(int64_t length, int lo, int hi) {
    int64_t total = 0;
    int n;
    for (n = lo < 1 ? 1 : lo; n <= hi; n++)
        if (length >= n) total += length - n + 1;
    return total;
}

/* Number of n-gram occurrences of the text, or NGH_EUTF8 / NGH_EPARAMS. Hashes nothing. */
NGH_FN int64_t ngh_count(const ngh_params *p, const char *utf8, size_t len) {
    const unsigned char *s = (const unsigned char *)utf8;
    int64_t total = 0, tokens = 0, run = 0;
    size_t i = 0;
    uint32_t cp = 0;
    int k = ngh_check(p);
    if (k) return k;
    while (i < len) {
        k = ngh_decode(s, i, len, &cp);
        if (!k) return NGH_EUTF8;
        if (ngh_is_word(cp)) run++;
        else if (run) { total += ngh_range_count(run + 2, p->char_min, p->char_max); tokens++; run = 0; }
        i += (size_t)k;
    }
    if (run) { total += ngh_range_count(run + 2, p->char_min, p->char_max); tokens++; }
    return total + ngh_range_count(tokens, p->word_min, p->word_max);
}

/* A capacity for ngh_features() that suffices for every text of `len` bytes:
 * (3 * number of char n's + number of word n's) * len. */
NGH_FN size_t ngh_bound(const ngh_params *p, size_t len) {
    size_t nc = p->char_max ? (size_t)(p->char_max - p->char_min + 1) : 0;
    size_t nw = p->word_max ? (size_t)(p->word_max - p->word_min + 1) : 0;
    return (3 * nc + nw) * len;
}

/* Calls sink(ctx, h) with the 64-bit hash h of every n-gram occurrence of the text, token
 * by token: the token's char n-grams (by start, then by length), then the word n-grams
 * ending at it (longest first). The whole text is validated first: an ill-formed text gets
 * no call. Returns the number of calls, or NGH_EUTF8 / NGH_EPARAMS. Uses
 * 8 * NGH_MAX_N bytes of stack. */
NGH_FN int64_t ngh_each(const ngh_params *p, const char *utf8, size_t len, ngh_sink sink, void *ctx) {
    const unsigned char *s = (const unsigned char *)utf8;
    uint64_t states[NGH_MAX_N];
    const uint64_t fnv_w = (NGH_FNV_OFFSET ^ 0x77u) * NGH_FNV_PRIME;
    const uint64_t fnv_c = (NGH_FNV_OFFSET ^ 0x63u) * NGH_FNV_PRIME;
    int64_t total = ngh_count(p, utf8, len), token = 0, st, first;
    size_t i = 0, ts, te, q, start;
    uint32_t cp = 0;
    int k, n, lc = p->lowercase, wm = p->word_max;
    uint64_t h;
    if (total < 0) return total;
    while (i < len) {
        k = ngh_decode(s, i, len, &cp);
        if (!ngh_is_word(cp)) { i += (size_t)k; continue; }
        ts = i;
        i += (size_t)k;
        while (i < len) {
            k = ngh_decode(s, i, len, &cp);
            if (!ngh_is_word(cp)) break;
            i += (size_t)k;
        }
        te = i;
        /* char n-grams of " " + s[ts:te] + " ": start 0 is the leading space, then each code
         * point start; position te + 1 stands for the trailing space. Positions are shifted
         * by one (q - 1 is the byte) so that the leading space is q == ts. */
        if (p->char_max) {
            start = ts;
            while (start <= te + 1) {
                h = fnv_c;
                n = 0;
                q = start;
                while (n < p->char_max && q <= te + 1) {
                    if (q == ts || q == te + 1) { h = (h ^ 0x20u) * NGH_FNV_PRIME; q++; }
                    else {
                        h = ngh_fnv(h, s[q - 1], lc);
                        q++;
                        while (q <= te && (s[q - 1] & 0xC0u) == 0x80u) { h = (h ^ s[q - 1]) * NGH_FNV_PRIME; q++; }
                    }
                    n++;
                    if (n >= p->char_min) sink(ctx, ngh_mix64(h));
                }
                if (start == ts) start = ts + 1;
                else {
                    start++;
                    while (start <= te && (s[start - 1] & 0xC0u) == 0x80u) start++;
                }
            }
        }
        /* word n-grams ending at this token: states[t % word_max] is the open n-gram from token t */
        if (wm) {
            first = token - wm + 1;
            if (first < 0) first = 0;
            for (st = first; st < token; st++) {
                h = (states[st % wm] ^ 0x20u) * NGH_FNV_PRIME;
                for (q = ts; q < te; q++) h = ngh_fnv(h, s[q], lc);
                states[st % wm] = h;
                if (token - st + 1 >= p->word_min) sink(ctx, ngh_mix64(h));
            }
            h = fnv_w;
            for (q = ts; q < te; q++) h = ngh_fnv(h, s[q], lc);
            states[token % wm] = h;
            if (p->word_min <= 1) sink(ctx, ngh_mix64(h));
        }
        token++;
    }
    return total;
}

typedef struct { uint64_t *work; size_t n; unsigned k; } ngh_fill_ctx;

/* stores h rotated right by k bits: sorting then sorts by (h mod 2**k, h) */
NGH_FN void ngh_fill(void *ctx, uint64_t h) {
    ngh_fill_ctx *f = (ngh_fill_ctx *)ctx;
    f->work[f->n++] = f->k ? (h >> f->k) | (h << (64u - f->k)) : h;
}

NGH_FN void ngh_sift(uint64_t *a, size_t root, size_t n) {
    uint64_t v = a[root];
    size_t c;
    for (;;) {
        c = 2 * root + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1] > a[c]) c++;
        if (a[c] <= v) break;
        a[root] = a[c];
        root = c;
    }
    a[root] = v;
}

/* heapsort: in place, O(n log n), no allocation */
NGH_FN void ngh_sort(uint64_t *a, size_t n) {
    size_t i;
    uint64_t t;
    if (n < 2) return;
    for (i = n / 2; i-- > 0;) ngh_sift(a, i, n);
    for (i = n - 1; i > 0; i--) {
        t = a[0]; a[0] = a[i]; a[i] = t;
        ngh_sift(a, 0, i);
    }
}

/* The features of the text: columns index[0..r) strictly increasing, values value[0..r).
 * work: scratch of `capacity` uint64; index may be the same array as work; value needs room
 * for ngh_count() entries (r never exceeds it). Returns r >= 0, or NGH_EUTF8, NGH_EPARAMS,
 * or NGH_ECAPACITY when the text has more than `capacity` n-gram occurrences. */
NGH_FN int64_t ngh_features(const ngh_params *p, const char *utf8, size_t len, uint64_t *work,
                            size_t capacity, uint64_t *index, double *value) {
    ngh_fill_ctx f;
    int64_t total = ngh_count(p, utf8, len);
    unsigned k = (unsigned)p->log2_features;
    size_t i, j, w = 0, n;
    uint64_t r, column = 0, col;
    double v, acc = 0.0, ss, norm;
    int have = 0;
    if (total < 0) return total;
    if ((uint64_t)total > (uint64_t)capacity) return NGH_ECAPACITY;
    f.work = work; f.n = 0; f.k = k;
    ngh_each(p, utf8, len, ngh_fill, &f);
    n = f.n;
    ngh_sort(work, n);
    i = 0;
    while (i < n) {
        r = work[i];
        j = i + 1;
        while (j < n && work[j] == r) j++;
        if (p->weighting == NGH_BINARY) v = 1.0;
        else if (p->weighting == NGH_COUNT) v = (double)(j - i);
        else v = 1.0 + log((double)(j - i));
        if (p->alternate_sign && ((r >> (63u - k)) & 1u)) v = -v;
        col = k ? r >> (64u - k) : 0;
        if (have && col == column) acc += v;
        else {
            if (have && acc != 0.0) { index[w] = column; value[w] = acc; w++; }
            column = col; acc = v; have = 1;
        }
        i = j;
    }
    if (have && acc != 0.0) { index[w] = column; value[w] = acc; w++; }
    if (p->l2 && w) {
        ss = 0.0;
        for (i = 0; i < w; i++) ss += value[i] * value[i];
        norm = sqrt(ss);
        for (i = 0; i < w; i++) value[i] = value[i] / norm;
    }
    return (int64_t)w;
}
""".replace("@LATIN1_MASK@", f"0x{K.LATIN1_SEPARATOR_MASK:016X}")
