"""C99 export of a text model: ``<prefix>_predict_text``, raw UTF-8 in, class out, no heap.

A :class:`~sklearn_projection.CompactProjectionClassifier` with a ``hasher_`` (see
:func:`~sklearn_projection._compact.compact_pipeline`) predicts from texts through its
:class:`~sklearn_projection.NgramHasher`; :func:`add_text` appends to the code of
:mod:`._export_c` the C99 hasher of :mod:`._text_c` (``C_SOURCE``) and::

    int <prefix>_predict_text(const char *utf8, size_t len, double *proba);

which computes the same bits as Python, exactly, in one of two ways:

* **weighting="count" and norm=None: streaming, O(1) memory, any length.** The value of column ``f`` is
  the sum of the signs (+-1) of the n-gram occurrences hashed to ``f``, an integer, and
  the projection sum of bit ``b`` is ``sum_f value_f * P[b, f]`` with ``P`` in {-1, 0, +1}:
  an integer too, and equal to the sum over the occurrences of ``sign * P[b, f]``. Integers
  below 2**53 are exact in float64 whatever the order of the additions, so
  :c:func:`ngh_each` streams every occurrence's +-1 column straight into the sums: no
  sort, no dedupe, no buffer, the same sums as Python's (which adds the merged columns in
  increasing order). Exact for texts of fewer than 2**53 n-gram occurrences.
* **weighting="binary" or "sublinear", or norm="l2": buffered.** The value of an n-gram
  depends on its count in the text (1, or ``1 + ln c``), and sublinear or normalised
  values are not integers, so the sums must be added in Python's order, increasing
  column: :c:func:`ngh_features` hashes the occurrences into a work buffer, sorts and
  merges them (and divides by the l2 norm) with the algorithm of the Python kernels, and
  the sorted (column, value) pairs go through the sparse path of the model.
  The buffer holds ``<PREFIX>_MAX_NGRAMS`` occurrences (compile-time, default 4096;
  16 bytes each, on the stack unless ``<PREFIX>_NGRAM_STORAGE`` is defined, e.g. to
  ``static``; it defaults to ``<PREFIX>_SUMS_STORAGE``); a text with more occurrences
  returns ``<PREFIX>_ERROR_TOO_LONG``, touching nothing. ``ngh_bound(len)`` (``(3 x char
  sizes + word sizes) x len``) is a capacity that suffices for every text of ``len``
  bytes. Sublinear values use the C library's ``log``: bit-identical where it rounds as
  the one numba calls (the same libm); on another libm a value may differ in its last
  bit, which can flip only a sum within a few ulps of 0.

Why not drop the norm, whose positive factor changes no sign in exact arithmetic, to stream
every model? Because float64 rounding of the normalised values does change signs: a sum
that cancels to exactly 0 over integer values (``1 + 2 - 3``) is a few ulps off 0 over
``v / norm``, and the ternary reading tells 0 from -1 and +1. Measured on TREC-6 (count
weighting, 800 ternary bits, l2-trained pipeline): reading the bits without the norm changed
6 of 1 363 test predictions and probabilities by up to 0.07. So a compact text model keeps
its hasher's norm and matches its pipeline exactly; since the norm cannot help a projection
(it only adds this rounding noise), ``norm=None`` is the setting to train with for devices.

Text that is not well-formed UTF-8 (or ``utf8 == NULL`` with ``len > 0``) returns
``<PREFIX>_ERROR_UTF8`` and leaves ``proba`` untouched; Python raises ValueError. The
empty text, or a text of separators only, has no n-gram: every sum is 0 and the class is
that of the biases, as in Python.

The appended code uses the generated model code through ``forward`` (the sparse path: bits,
first layer, output), ``add_column`` (one column of the projection added to the sums, the
``N_BITS + 1``-th sum taking padding entries), ``first_layer``, ``output``, ``N_PLANES``,
``N_WORDS``, ``TAU`` (quinary), ``MAX_WIDTH`` and ``<PREFIX>_SUMS_STORAGE``, so a streamed occurrence gets
exactly the column a sparse prediction would.
"""

from ._text_c import C_SOURCE

_WEIGHTING_NAMES = ("binary", "count", "sublinear")

_HEADER_TEXT = """
/* Text input: {p}_predict_text tokenises, hashes ({hasher}),
 * projects and classifies one UTF-8 text with no heap allocation. {how}
 */
#define {P}_ERROR_UTF8 (-3)      /* the text is not well-formed UTF-8, or utf8 is NULL with len > 0 */
#define {P}_ERROR_TOO_LONG (-4)  /* buffered weightings only: more than {P}_MAX_NGRAMS n-gram occurrences */
#ifndef {P}_MAX_NGRAMS
#define {P}_MAX_NGRAMS {max_ngrams}
#endif

/* Returns the predicted class index and fills proba[0 .. {P}_N_CLASSES-1] (unless NULL); or,
 * leaving proba untouched, {P}_ERROR_UTF8 or {P}_ERROR_TOO_LONG. */
int {p}_predict_text(const char *utf8, size_t len, double *proba);
"""

_HOW = {
    "stream": (
        "Weighting \"count\", no norm: every n-gram occurrence is\n"
        " * streamed into the bit sums (exact integers), so texts of any length are accepted\n"
        " * ({P}_MAX_NGRAMS is unused) and need no more memory than a sparse prediction."
    ),
    "buffer": (
        "Weighting \"{weighting}\"{norm}: the n-grams of a text\n"
        " * are counted in a buffer of {P}_MAX_NGRAMS occurrences (16 bytes each; on the stack unless\n"
        " * compiled with -D{P}_NGRAM_STORAGE=static); a text with more gets {P}_ERROR_TOO_LONG."
    ),
}

_SOURCE_COMMON = r"""
/* ------------------------------------------------------------------------------------------
 * Text input (sklearn_projection._export_text_c). The NgramHasher in C99 follows, verbatim
 * from sklearn_projection._text_c.C_SOURCE.
 */
{C_SOURCE}
/* the model's hasher */
static const ngh_params TEXT_PARAMS = {params};
"""

_SOURCE_STREAM = r"""
static const uint64_t TEXT_COLUMN_MASK = UINT64_C({mask});
#define TEXT_ALTERNATE_SIGN {alternate_sign}

/* One n-gram occurrence of hash h: adds its sign (+-1) times column h mod 2**log2_features of
 * the projection to the sums, with the model's add_column (as lsh_words does for a feature) */
static void text_sink(void *ctx, uint64_t h)
{
    add_column((double *)ctx, h & TEXT_COLUMN_MASK, (TEXT_ALTERNATE_SIGN && (h >> 63)) ? -1.0 : 1.0);
}

int {p}_predict_text(const char *utf8, size_t len, double *proba)
{
    /* one more sum than bits, as in lsh_words: add_column's padding entries land there */
    {P}_SUMS_STORAGE double acc[{P}_N_BITS + 1];
    uint64_t words[N_PLANES * N_WORDS];
    float z[MAX_WIDTH];
    int b;
    if (!utf8 && len)
        return {P}_ERROR_UTF8;
    for (b = 0; b <= {P}_N_BITS; ++b)
        acc[b] = 0.0;
    /* validates the whole text before the first call of text_sink */
    if (ngh_each(&TEXT_PARAMS, utf8 ? utf8 : "", len, text_sink, acc) < 0)
        return {P}_ERROR_UTF8;
    pack_sums(acc, words); /* the sums of finite counts: finite, never -0 */
    first_layer(words, z);
    return output(z, proba);
}
"""

_SOURCE_BUFFER = r"""
#ifndef {P}_NGRAM_STORAGE
#define {P}_NGRAM_STORAGE {P}_SUMS_STORAGE
#endif

int {p}_predict_text(const char *utf8, size_t len, double *proba)
{
    /* work: the n-gram hashes, then (in place) the sorted columns; value: their values */
    {P}_NGRAM_STORAGE uint64_t work[{P}_MAX_NGRAMS];
    {P}_NGRAM_STORAGE double value[{P}_MAX_NGRAMS];
    int64_t r;
    if (!utf8 && len)
        return {P}_ERROR_UTF8;
    r = ngh_features(&TEXT_PARAMS, utf8 ? utf8 : "", len, work, {P}_MAX_NGRAMS, work, value);
    if (r == NGH_ECAPACITY)
        return {P}_ERROR_TOO_LONG;
    if (r < 0)
        return {P}_ERROR_UTF8;
    /* columns < 2**62: the same bits read as int64_t (corresponding types may alias) */
    return forward((const int64_t *)work, NULL, value, (size_t)r, proba);
}
"""

#: default of <PREFIX>_MAX_NGRAMS: 64 KiB of buffer. With word 1-2-grams and char 2-4-grams, English
#: gives about 2.5 occurrences per byte (the longest SMS spam test text, 588 bytes, has 1 452), at
#: worst 11 (ngh_bound)
DEFAULT_MAX_NGRAMS = 4096


def mode(hasher):
    """How C reads a text: "stream" (weighting "count", no norm) or "buffer" (otherwise)."""
    return "stream" if hasher.weighting == "count" and hasher.norm is None else "buffer"


def add_text(compact, header, source, prefix):
    """``(header, source)`` of :func:`._export_c.generate_c` with ``predict_text`` added."""
    from ._text_c import c_params

    hasher = compact.hasher_
    P = prefix.upper()
    how = mode(hasher)
    hasher_desc = (
        f"NgramHasher n_features=2**{hasher._settings()['log2_features']}, word {hasher.word_ngram_range}, "
        f"char {hasher.char_ngram_range}, {hasher.weighting}, alternate_sign={hasher.alternate_sign}, "
        f"lowercase={hasher.lowercase}"
    )
    block = _HEADER_TEXT.format(
        p=prefix, P=P, hasher=hasher_desc, max_ngrams=DEFAULT_MAX_NGRAMS,
        how=_HOW[how].format(P=P, weighting=hasher.weighting,
                             norm=", l2 norm" if hasher.norm == "l2" else ""),
    )
    end = header.rindex("#endif")
    header = header[:end] + block.lstrip("\n") + "\n" + header[end:]
    params = c_params(hasher)
    source += _SOURCE_COMMON.replace("{C_SOURCE}", C_SOURCE).replace("{params}", params)
    if how == "stream":
        s = hasher._settings()
        body = (
            _SOURCE_STREAM.replace("{mask}", f"0x{(1 << s['log2_features']) - 1:X}")
            .replace("{alternate_sign}", str(int(s["alternate_sign"])))
        )
    else:
        body = _SOURCE_BUFFER
    source += body.replace("{P}", P).replace("{p}", prefix)
    return header, source
