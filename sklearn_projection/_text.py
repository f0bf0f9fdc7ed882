"""NgramHasher: raw text -> hashed word and character n-grams, with no vocabulary.

The features of a text are a pure function of its bytes and of the hasher's parameters,
specified here byte for byte so that other implementations (the C99 source
:data:`._text_c.C_SOURCE`, the device) give the same columns and values. ``docs/text.md`` holds
the same specification.

Specification (version 1)
-------------------------
1. **Input.** Each item is a ``str`` (encoded to UTF-8; a ``str`` that cannot be encoded,
   i.e. one holding a lone surrogate, is refused) or ``bytes``/``bytearray`` (taken as
   UTF-8 bytes and refused unless well-formed). Well-formed UTF-8 is Unicode's definition
   (Unicode 15, table 3-7): no overlong forms, no encoded surrogates U+D800..U+DFFF
   (e.g. ``ED A0 80``), nothing above U+10FFFF, no lone continuation byte, no truncated
   sequence; exactly what Python's strict ``bytes.decode("utf-8")`` accepts. A refused
   item raises ``ValueError`` naming its index (C: ``NGH_EUTF8``); nothing is dropped or
   replaced silently. Any other item (``None``, numbers, ...) raises ``TypeError`` naming
   its index. U+0000 is an ordinary (separating) code point.
2. **Tokens.** A text is a sequence of code points. A *word character* is an ASCII letter
   or digit (``0-9 A-Z a-z``) or any code point >= U+0080 except these separators:
   U+0080..U+00BF other than the letters and digits ``ª ² ³ µ ¹ º ¼ ½ ¾`` (U+00AA, U+00B2,
   U+00B3, U+00B5, U+00B9, U+00BA, U+00BC..U+00BE) -- C1 controls, no-break space, Latin-1
   punctuation and symbols such as ``¡ £ « » ¿``; the General Punctuation block
   U+2000..U+206F other than U+200C and U+200D (zero-width non-joiner and joiner, which
   live inside words and emoji sequences) -- typographic spaces, dashes, curly quotes,
   ellipsis; U+3000..U+3002 (ideographic space, comma, full stop); U+FEFF (byte order
   mark). Every other ASCII code point (space, punctuation, controls, ``_``) separates too.
   A *token* is a maximal run of word characters. So combining marks, emoji, CJK, and
   letters of any script are word characters: ``"naïve café"`` has two tokens, ``"😀😀"``
   one, ``"東京"`` one.
3. **Case.** With ``lowercase=True`` the bytes ``A-Z`` (0x41..0x5A) become ``a-z``
   (+0x20) before hashing; no other byte changes (``"É"`` stays ``"É"``).
4. **N-grams.** Word n-grams: for each ``n`` in ``word_ngram_range`` (inclusive), every run
   of ``n`` consecutive tokens of the text, written as their bytes joined by one space
   (0x20). Char n-grams: each token is padded with one space on each side (``" " + token +
   " "``, as scikit-learn's ``analyzer="char_wb"``); for each ``n`` in
   ``char_ngram_range``, every run of ``n`` consecutive code points of the padded token
   (so ``n`` counts code points, not bytes; a padded token shorter than ``n`` code points
   gives none of that ``n``, where scikit-learn would give the whole padded token once).
   With ``char_ngram_range=(2, 4)``, ``"Hi"`` gives ``" h" "hi" "i "`` ``" hi" "hi "``
   ``" hi "``; with ``word_ngram_range=(1, 2)``, ``"a b c"`` gives ``"a" "b" "c" "a b"
   "b c"``. An n-gram that occurs several times in a text counts several times.
5. **Hash.** ``h = mix64(fnv1a64(kind + ngram))`` where ``kind`` is the byte ``w`` (0x77)
   for a word n-gram and ``c`` (0x63) for a char n-gram, ``ngram`` its (lower-cased) UTF-8
   bytes, ``fnv1a64`` is FNV-1a 64 (state ``0xCBF29CE484222325``; per byte
   ``state = (state XOR byte) * 0x100000001B3 mod 2**64``) and ``mix64`` the splitmix64
   finaliser of :mod:`._hashing` (``z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27;
   z *= 0x94D049BB133111EB; z ^= z >> 31``, all mod 2**64). ``n`` is not hashed: the bytes
   determine it (spaces + 1 for words, code points for chars), and leaving it out lets
   the hash of an n-gram extend to that of the next longer one byte by byte. Two n-grams
   with the same 64-bit ``h`` are one feature.
6. **Column and sign.** ``column = h mod n_features`` (``n_features`` is a power of two:
   the low bits of ``h``); ``sign = -1`` if bit 63 of ``h`` is set and
   ``alternate_sign=True``, else ``+1``.
7. **Values.** Per text, each distinct ``h`` occurring ``c`` times has weight 1
   (``"binary"``), ``c`` (``"count"``) or ``1 + ln(c)`` (``"sublinear"``), times its sign.
   The n-grams are taken in increasing ``(column, h)`` order and the signed weights of
   one column are added in that order (float64); a column whose sum is exactly 0 (signs
   cancelled in a collision) is not stored. With ``norm="l2"`` every value is then
   divided by ``sqrt(sum of squares)``, the squares added in increasing column order.
8. **Output.** A CSR matrix ``(n_texts, n_features)`` of float64, canonical (columns
   increasing, no duplicates, no stored zeros); indices are int32 when ``n_features <=
   2**31 - 1`` (and there are fewer than 2**31 non-zeros), else int64. A text with no
   token (empty, only separators) gives an empty row.
"""

from numbers import Integral

import numba
import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from . import _text_kernels as K
from ._projection import _physical_memory_bytes

#: version of the specification above; a file storing hasher settings stores this too
SPEC_VERSION = 1
#: largest n of a word or char n-gram range (the C word-state array has this many slots)
MAX_NGRAM_N = 32
#: n-gram occurrences hashed per kernel call: 2**22 (32 MiB of hashes and 32 MiB of values)
_CHUNK_NGRAMS = 1 << 22
_WEIGHTINGS = {"binary": K.WEIGHT_BINARY, "count": K.WEIGHT_COUNT, "sublinear": K.WEIGHT_SUBLINEAR}
_SINGLE_STRING = ("Iterable over raw text documents expected, string object received; "
                  "NgramHasher takes a list of texts: use [text].")


def _check_range(name, value):
    if value is None:
        return 0, 0
    if (not isinstance(value, tuple) or len(value) != 2
            or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in value)
            or not 1 <= value[0] <= value[1] <= MAX_NGRAM_N):
        raise ValueError(
            f"{name} must be None or a tuple (min_n, max_n) of ints with "
            f"1 <= min_n <= max_n <= {MAX_NGRAM_N}; got {value!r}."
        )
    return int(value[0]), int(value[1])


def encode_texts(X):
    """UTF-8 bytes of every item of ``X`` as one ``uint8`` buffer and ``int64`` offsets.

    Raises the documented errors: ValueError for a single string, a 2-D input or a ``str``
    with a lone surrogate; TypeError for items that are neither ``str`` nor ``bytes``."""
    if isinstance(X, (str, bytes, bytearray)):
        raise ValueError(_SINGLE_STRING)
    ndim = getattr(X, "ndim", 1)
    if ndim != 1:
        raise ValueError(
            f"NgramHasher expects a 1-D iterable of texts; got an input with {ndim} dimensions "
            f"(shape {getattr(X, 'shape', '?')}). Pass one column, e.g. df['text'] or X[:, 0]."
        )
    try:
        items = iter(X)
    except TypeError:
        raise TypeError(f"NgramHasher expects an iterable of texts; got {type(X).__name__}.") from None
    parts = []
    append = parts.append
    for i, doc in enumerate(items):
        if isinstance(doc, str):
            try:
                append(doc.encode("utf-8"))
            except UnicodeEncodeError as exc:
                raise ValueError(
                    f"item {i} is a str that cannot be encoded as UTF-8: {exc.reason} "
                    f"(U+{ord(doc[exc.start]):04X} at index {exc.start}). Repair it, e.g. "
                    "text.encode('utf-8', 'replace').decode('utf-8')."
                ) from None
        elif isinstance(doc, (bytes, bytearray)):
            append(bytes(doc))
        else:
            raise TypeError(
                f"NgramHasher expects str or bytes items; item {i} is {type(doc).__name__} "
                f"({doc!r:.40}). Replace missing texts by '' (e.g. pandas .fillna('')) and "
                "convert other values with str()."
            )
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    buf = np.frombuffer(b"".join(parts), dtype=np.uint8)
    return buf, offsets


def _workers(n_texts):
    """Parallel workers (each with its own scratch) for a kernel over ``n_texts`` texts."""
    threads = 1 if numba.config.DISABLE_JIT else numba.get_num_threads()
    return max(1, min(int(n_texts), threads))


def _check_memory(n_ngrams, big):
    """Raise a ValueError naming the sizes when a batch's features would not fit in memory:
    the CSR output (at most one entry per n-gram occurrence) twice (the chunks' pieces and
    their concatenation) and one chunk of hashes and values."""
    per_entry = 16 if big else 12
    needed = 2 * per_entry * n_ngrams + 16 * min(n_ngrams, _CHUNK_NGRAMS)
    available = _physical_memory_bytes()
    if needed > available:
        raise ValueError(
            f"the texts hold {n_ngrams} n-gram occurrences: their features would need up to "
            f"{needed / 2**30:.1f} GiB, more than this machine's {available / 2**30:.1f} GiB of memory; "
            "transform in smaller batches (the features of a text do not depend on its batch)."
        )


def _hash_chunk(buf, offsets, t0, starts, counts, s, big):
    """(indptr, indices, data) of the texts ``t0 .. t0 + len(counts) - 1``, whose hashes take
    ``keys[starts[r]:starts[r + 1]]``. Every array the kernels write is allocated here."""
    n = counts.shape[0]
    workers = _workers(n)
    # split the texts into one contiguous range per worker, with about as many n-grams each
    bounds = np.searchsorted(starts, np.arange(workers + 1) * (starts[-1] / workers), side="left")
    bounds[0], bounds[-1] = 0, n
    bounds = np.maximum.accumulate(np.minimum(bounds, n)).astype(np.int64)
    n_scratch, n_counts = K.sort_scratch_sizes(counts.max() if n else 0)
    keys = np.empty(starts[-1], dtype=np.uint64)
    vals = np.empty(starts[-1], dtype=np.float64)
    nnz = np.zeros(n, dtype=np.int64)
    states = np.empty((workers, max(s["word_max"], 1)), dtype=np.uint64)
    scratch = np.empty((workers, n_scratch), dtype=np.uint64)
    sort_counts = np.empty((workers, n_counts), dtype=np.int64)
    K.hash_rows(buf, offsets, t0, starts, bounds, s["lowercase"], s["word_min"], s["word_max"],
                s["char_min"], s["char_max"], s["log2_features"], s["weighting"], s["alternate_sign"],
                s["l2"], keys, vals, nnz, states, scratch, sort_counts)
    del states, scratch, sort_counts
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(nnz, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64 if big else np.int32)
    data = np.empty(indptr[-1], dtype=np.float64)
    K.gather_rows(keys, vals, starts, nnz, indptr, indices, data)
    return indptr, indices, data


class NgramHasher(TransformerMixin, BaseEstimator):
    """Raw texts to hashed word and character n-grams: a vocabulary-free, stateless vectorizer.

    Like :class:`~sklearn.feature_extraction.text.HashingVectorizer`, but every step is
    specified byte for byte (module docstring of ``sklearn_projection._text``, and
    ``docs/text.md``) so that a device reproduces the features exactly; a C99
    implementation is kept in ``sklearn_projection._text_c.C_SOURCE``. Tokens are maximal
    runs of ASCII letters and digits and of non-ASCII code points other than a short list
    of punctuation and spaces; char n-grams are taken within tokens padded with one space,
    as ``analyzer="char_wb"``. Each n-gram is hashed to 64 bits (FNV-1a, then the
    splitmix64 finaliser); its column is the hash modulo ``n_features`` and, with
    ``alternate_sign``, its sign is bit 63 of the hash. Nothing is learned from the data:
    ``fit`` only checks the parameters.

    Parameters
    ----------
    n_features : int, default=2**20
        Number of output columns: a power of two from 1 to 2**62. Columns above
        2**31 - 1 need int64 indices, which the output then has.
    word_ngram_range : tuple (min_n, max_n) or None, default=(1, 2)
        Word n-grams of every n in min_n..max_n (1 <= min_n <= max_n <= 32); None for none.
    char_ngram_range : tuple (min_n, max_n) or None, default=(2, 4)
        Char n-grams (code points, within space-padded tokens) of every n in min_n..max_n;
        None for none. At least one of the two ranges must be set.
    weighting : {"binary", "count", "sublinear"}, default="sublinear"
        Value of an n-gram occurring ``c`` times in a text: 1, ``c`` or ``1 + ln(c)``.
    alternate_sign : bool, default=True
        Give each n-gram the sign of bit 63 of its hash, so that collisions cancel in
        expectation (as HashingVectorizer).
    norm : {"l2"} or None, default="l2"
        Divide each row by its Euclidean norm.
    lowercase : bool, default=True
        Map the ASCII letters A-Z to a-z before hashing (other code points are kept).

    Attributes
    ----------
    None: the transformer is stateless (``__sklearn_is_fitted__`` is always True), and
    ``transform`` works without ``fit``.

    See Also
    --------
    sklearn.feature_extraction.text.HashingVectorizer : the same idea, defined by Python's
        regular expressions and MurmurHash3 over str.

    Notes
    -----
    There is no ``get_feature_names_out``: a column is a hash bucket shared by every n-gram
    that hashes to it, and a width of 2**20 to 2**62 columns is too many to name. Use
    :meth:`analyze` to see which n-grams of a text land in which column. (HashingVectorizer
    has no ``get_feature_names_out`` either.)

    Items may be ``str`` or UTF-8 ``bytes``. Errors name the offending item: a single string
    instead of a list, or a 2-D input, raises ValueError; an item that is neither str nor
    bytes raises TypeError; a str with a lone surrogate or bytes that are not well-formed
    UTF-8 raise ValueError.

    Examples
    --------
    >>> from sklearn_projection import NgramHasher
    >>> hasher = NgramHasher(n_features=2**18)
    >>> X = hasher.transform(["How far is it from Denver to Aspen ?", "", "Naïve café 😀"])
    >>> X.shape, X.dtype.name, X.format
    ((3, 262144), 'float64', 'csr')
    >>> X.getnnz(axis=1).tolist()
    [92, 0, 35]
    >>> round(float(X[0].multiply(X[0]).sum()), 12)
    1.0
    >>> NgramHasher(n_features=16, char_ngram_range=None).analyze("Hi there")
    [('w', 'hi', 1, -1), ('w', 'hi there', 9, -1), ('w', 'there', 2, 1)]
    """

    _parameter_constraints: dict = {
        "n_features": [Interval(Integral, 1, 2**62, closed="both")],
        "word_ngram_range": [tuple, None],
        "char_ngram_range": [tuple, None],
        "weighting": [StrOptions(set(_WEIGHTINGS))],
        "alternate_sign": ["boolean"],
        "norm": [StrOptions({"l2"}), None],
        "lowercase": ["boolean"],
    }

    def __init__(self, n_features=2**20, *, word_ngram_range=(1, 2), char_ngram_range=(2, 4),
                 weighting="sublinear", alternate_sign=True, norm="l2", lowercase=True):
        self.n_features = n_features
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.weighting = weighting
        self.alternate_sign = alternate_sign
        self.norm = norm
        self.lowercase = lowercase

    def _settings(self):
        """The parameters as the kernels (and the C ``ngh_params``) take them, checked."""
        n = int(self.n_features)
        if n & (n - 1):
            lo = 1 << (n.bit_length() - 1)
            raise ValueError(
                f"n_features must be a power of two (the column is the low bits of the hash); "
                f"got {n}. Use {lo} or {lo * 2}."
            )
        word = _check_range("word_ngram_range", self.word_ngram_range)
        char = _check_range("char_ngram_range", self.char_ngram_range)
        if word == (0, 0) and char == (0, 0):
            raise ValueError("word_ngram_range and char_ngram_range are both None: there would be "
                             "no features. Set at least one, e.g. word_ngram_range=(1, 2).")
        return dict(lowercase=bool(self.lowercase), word_min=word[0], word_max=word[1],
                    char_min=char[0], char_max=char[1], weighting=_WEIGHTINGS[self.weighting],
                    alternate_sign=bool(self.alternate_sign), l2=self.norm == "l2",
                    log2_features=n.bit_length() - 1)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters; nothing is learned (the texts are not read).

        Parameters
        ----------
        X : iterable of str or bytes
            Ignored, except that a single string is refused as in ``transform``.
        y : ignored

        Returns
        -------
        self : NgramHasher
        """
        if isinstance(X, (str, bytes, bytearray)):
            raise ValueError(_SINGLE_STRING)
        self._settings()
        return self

    def partial_fit(self, X, y=None):
        """Same as :meth:`fit`: there is nothing to learn, so a stream needs no first pass."""
        return self.fit(X, y)

    def transform(self, X):
        """Hashed n-gram features of each text.

        Parameters
        ----------
        X : iterable of str or bytes, length n_samples
            The texts (a list, a 1-D array, a pandas Series, a generator...).

        Returns
        -------
        X_new : sparse matrix of shape (n_samples, n_features)
            Canonical CSR, float64 (a sparse array when scikit-learn's ``sparse_interface``
            is set to ``"sparray"``).
        """
        self._validate_params()
        s = self._settings()
        buf, offsets = encode_texts(X)
        n = offsets.shape[0] - 1
        counts, bad = K.count_ngrams(buf, offsets, s["word_min"], s["word_max"], s["char_min"], s["char_max"])
        if n and bad.max() >= 0:
            i = int(np.flatnonzero(bad >= 0)[0])
            pos = int(bad[i])
            raise ValueError(
                f"item {i} is not valid UTF-8: byte 0x{int(buf[offsets[i] + pos]):02X} at offset {pos} "
                "does not start a well-formed sequence (overlong form, encoded surrogate, code point "
                "above U+10FFFF, stray continuation byte or truncated sequence). Decode it yourself, "
                "e.g. data.decode('utf-8', 'replace'), or pass str items."
            )
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        big = self.n_features > np.iinfo(np.int32).max
        _check_memory(int(starts[-1]), big)
        parts = []
        t0 = 0
        while t0 < n:
            # the texts from t0 whose n-grams fit in one chunk (at least one text)
            t1 = max(t0 + 1, int(np.searchsorted(starts, starts[t0] + _CHUNK_NGRAMS, side="right")) - 1)
            t1 = min(t1, n)
            parts.append(_hash_chunk(buf, offsets, t0, starts[t0:t1 + 1] - starts[t0], counts[t0:t1], s, big))
            t0 = t1
        return self._csr(parts, n, big)

    def _csr(self, parts, n, big):
        total = sum(int(p[0][-1]) for p in parts)
        idx_dtype = np.int64 if big or total > np.iinfo(np.int32).max else np.int32
        indptr = np.zeros(n + 1, dtype=idx_dtype)
        row = 0
        base = 0
        for p_indptr, _, _ in parts:
            m = p_indptr.shape[0] - 1
            indptr[row + 1:row + m + 1] = p_indptr[1:] + base
            row += m
            base += int(p_indptr[-1])
        indices = np.concatenate([p[1] for p in parts]).astype(idx_dtype, copy=False) if parts else \
            np.zeros(0, dtype=idx_dtype)
        data = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
        X = sp.csr_matrix((data, indices, indptr), shape=(n, int(self.n_features)), copy=False)
        X.has_sorted_indices = True
        X.has_canonical_format = True
        if get_config().get("sparse_interface", "spmatrix") == "sparray":
            X = sp.csr_array(X)
        return X

    def analyze(self, doc):
        """The n-grams of one text as ``(kind, ngram, column, sign)`` tuples, in the order
        the kernels hash them (token by token: its char n-grams by start then length, then
        the word n-grams ending at it). ``kind`` is ``"w"`` or ``"c"``; ``ngram`` is the
        lower-cased text that is hashed. Pure Python: for inspection, not speed.

        Parameters
        ----------
        doc : str or bytes

        Returns
        -------
        ngrams : list of (str, str, int, int)
        """
        s = self._settings()
        buf, _ = encode_texts([doc])
        raw = buf.tobytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"item 0 is not valid UTF-8: {exc}") from None
        if s["lowercase"]:
            text = text.translate(_ASCII_LOWER)
        tokens, cur = [], []
        for ch in text + "\x00":
            if _is_word_char(ord(ch)):
                cur.append(ch)
            elif cur:
                tokens.append("".join(cur))
                cur = []
        mask = (1 << s["log2_features"]) - 1
        out = []

        def emit(kind, gram):
            h = _fnv_mix(kind, gram.encode("utf-8"))
            sign = -1 if s["alternate_sign"] and h >> 63 else 1
            out.append((kind, gram, h & mask, sign))

        for t, tok in enumerate(tokens):
            padded = " " + tok + " "
            for a in range(len(padded)):
                for n in range(max(s["char_min"], 1), s["char_max"] + 1):
                    if a + n <= len(padded):
                        emit("c", padded[a:a + n])
            for n in range(s["word_max"], max(s["word_min"], 1) - 1, -1):
                if t - n + 1 >= 0:
                    emit("w", " ".join(tokens[t - n + 1:t + 1]))
        return out

    def __sklearn_is_fitted__(self):
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


_ASCII_LOWER = {c: c + 32 for c in range(0x41, 0x5B)}


def _is_word_char(cp):
    """Python twin of _text_kernels.is_word (for :meth:`NgramHasher.analyze`)."""
    if cp < 0x80:
        return chr(cp).isascii() and chr(cp).isalnum()
    if cp < 0xC0:
        return cp in K.LATIN1_WORD
    if 0x2000 <= cp <= 0x206F:
        return cp in (0x200C, 0x200D)
    return not (0x3000 <= cp <= 0x3002 or cp == 0xFEFF)


def _fnv_mix(kind, data):
    h = 0xCBF29CE484222325
    for b in kind.encode("ascii") + data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return h ^ (h >> 31)
