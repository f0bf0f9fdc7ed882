"""The compact model's binary file format: writer, bounded reader, version checks.

A checksummed little-endian format parsed without pickle; nothing in a file is executed,
and every size in it is checked against the bytes present before anything is allocated.

File format (version 6, all integers little-endian) -- see docs/deployment.md::

    magic    8 bytes   b"SKPNCMP\\x00"
    version  u32       6  (the version names the projection hash too: version 6 is hash
                          version 3 (:mod:`._hashing`); versions 2 to 5, hash version 2,
                          and version 1, sklearn-projection 0.1, hash version 1, regenerated
                          the projections with other hashes: refused, as their bits cannot
                          be reproduced. Version 6 has the layout of version 5)
    body_len u64       number of body bytes that follow
    body     body_len bytes (below)
    crc32    u32       zlib.crc32 of every byte before it (magic .. body)

    body:
    dtype        u8        0 float32, 1 float16, 2 int8
    reading      u8        0 binary (input bits {0, 1}: sum > 0), 1 ternary (inputs
                           {-1, 0, +1}: the sign of the sum), 2 quinary (inputs {-2 .. 2}:
                           the sign, doubled where |sum| > tau)
    n_layers     u32       1 .. 1024
    tau          f64       only with reading code 2: the quinary threshold, finite and >= 0
    seed         u64
    n_projections u32, n_bits u32    (T, d; T*d <= 2**31 - 1)
    density      f64       in (0, 1]
    n_features   u64       >= 1
    widths       u32 x (n_layers + 1)   widths[0] == T*d, widths[-1] == n_classes
    classes      kind u8 (0 numeric, 1 numpy unicode, 2 object str), n u32, then
                 kind 0: dtype string (u8 length + ASCII, e.g. "<i8") + n * itemsize bytes
                 kind 1: u32 characters per item, then n strings
                 kind 2: n strings                      (string = u32 length + UTF-8)
    feature names  u32 count (0 or n_features), then count strings
    text         u8        0: numeric input; 1: raw text, hashed by an NgramHasher whose
                           settings follow:
                 u32 spec_version (the NgramHasher specification, 1), then u8 each:
                 lowercase (0/1), word_min, word_max, char_min, char_max (a range is 0, 0
                 for none, else 1 <= min <= max <= 32; not both none), weighting
                 (0 binary, 1 count, 2 sublinear), alternate_sign (0/1), norm (0 none,
                 1 l2), log2_features (n_features == 2**log2_features); a text model
                 stores no feature names
    layers       for l in 0 .. n_layers-1: W_l (widths[l] x widths[l+1], row-major, float32 /
                 float16 / int8), b_l (widths[l+1] float32), and for int8 s_l (widths[l+1]
                 float32 scales); weight of W_l[k, j] is s_l[j] * q_l[k, j].

What the reader accepts (anything else is a ValueError; a non bytes-like argument is a
TypeError, raised before anything is allocated):

* Sizes, checked against the bytes present before any array is allocated: the body is
  consumed exactly; every string is at most 1 MiB and within the file; a NumPy unicode
  label array (``4 * n * width`` bytes) may take at most ``max(1 MiB, file size)``
  (:data:`LABEL_ARRAY_FLOOR`), and its width is at least 1 and at least the longest label.
  Everything the reader allocates is therefore bounded by a small multiple of the file size.
* Labels (:func:`check_classes`): at least two, unique and sorted (strictly increasing, as
  ``np.unique`` returns them; so no NaN label); bool labels stored as bytes 0 and 1; NumPy
  unicode labels do not end with NUL (NumPy would strip it).
* Parameters (:func:`check_parameters`): weights, biases and int8 scales finite; int8
  scales strictly positive (the quantiser writes ``max|W| / 127``, or 1 for a zero column);
  int8 weights in [-127, 127] (so the int32 first-layer sum of at most
  :data:`INT8_MAX_BITS` bits, half as many with the quinary reading, is exact); and the
  logits bounded: propagating
  ``|b_j| + sum_k bound_k * |W[k, j]|`` (inputs bounded by 1 in absolute value, 2 with the
  quinary reading, ReLU outputs by the bound of
  their unit) must stay below :data:`LOGIT_LIMIT` = 2**120, so that no input can drive the
  float32 forward pass to inf or NaN (float32 overflows near 2**128).

The same label and parameter checks apply to every model built in memory
(``CompactProjectionClassifier._check_consistent``), so a model that could not be read
back cannot be written or exported either.
"""

import io
import os
import re
import stat
import struct
import zlib

import numpy as np

from ._projection import HASH_VERSION, MAX_TOTAL_BITS, READINGS

MAGIC = b"SKPNCMP\x00"
FORMAT_VERSION = 6
# the projection hash (_projection.HASH_VERSION) of each earlier format version: their bits
# cannot be reproduced, so they are refused (1: sklearn-projection 0.1; 2 .. 5: before hash
# version 3, which came with format version 6)
_OLD_FORMAT_HASH = {1: 1, 2: 2, 3: 2, 4: 2, 5: 2}
# the text section: u32 specification version, then 9 bytes (see the module docstring)
_TEXT_FIELDS = ("lowercase", "word_min", "word_max", "char_min", "char_max", "weighting",
                "alternate_sign", "l2", "log2_features")
DTYPES = ("float32", "float16", "int8")
_DTYPE_CODE = {name: i for i, name in enumerate(DTYPES)}
_MAX_LAYERS = 1024
_MAX_STRING = 1 << 20
# int8 first layer sums at most T*d values of |q| <= 127 in int32 (x2 with the quinary reading)
INT8_MAX_BITS = (2**31 - 1) // 127


def input_bound(reading):
    """The largest absolute value of an input of the projection network: 2 for quinary, else 1."""
    return 2 if reading == "quinary" else 1


def int8_max_bits(reading):
    """The most bits an int8 model of ``reading`` may have (its int32 first layer stays exact)."""
    return INT8_MAX_BITS // input_bound(reading)
_NUMERIC_DTYPE = re.compile(r"\|b1|\|[iu]1|<[iu][248]|<f[248]")  # used with fullmatch
# a NumPy unicode label array may take max(LABEL_ARRAY_FLOOR, file size) bytes
LABEL_ARRAY_FLOOR = 1 << 20
# bound on any float32 value of the forward pass, whatever the input (float32 max ~ 2**128)
LOGIT_LIMIT = 2.0**120
# elements per chunk when scanning large weight matrices (bounds the temporaries)
_CHUNK = 1 << 20
# default size limit of CompactProjectionClassifier.load
MAX_FILE_BYTES = 1 << 32


def write(model):
    """The bytes of a consistent CompactProjectionClassifier in this format."""
    body = io.BytesIO()
    put = body.write
    widths = [model.n_bits_total_] + [W.shape[1] for W in model.coefs_]
    put(struct.pack("<BBI", _DTYPE_CODE[model.dtype_], READINGS.index(model.reading_),
                    len(model.coefs_)))
    if model.reading_ == "quinary":
        put(struct.pack("<d", float(model.threshold_)))
    put(struct.pack("<QIIdQ", model.seed_, model.n_projections_, model.n_bits_,
                    model.density_, model.n_features_in_))
    put(struct.pack(f"<{len(widths)}I", *widths))
    _write_classes(put, model.classes_)
    names = getattr(model, "feature_names_in_", None)
    names = [] if names is None else [str(s) for s in names]
    put(struct.pack("<I", len(names)))
    for s in names:
        _write_str(put, s)
    text = text_settings(getattr(model, "hasher_", None))
    if text is None:
        put(b"\x00")
    else:
        put(struct.pack("<BI9B", 1, text["spec_version"], *(int(text[f]) for f in _TEXT_FIELDS)))
    for layer, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        put(np.ascontiguousarray(W, dtype=W.dtype.newbyteorder("<")).tobytes())
        put(np.ascontiguousarray(b, dtype="<f4").tobytes())
        if model.dtype_ == "int8":
            put(np.ascontiguousarray(model.scales_[layer], dtype="<f4").tobytes())
    body = body.getvalue()
    head = MAGIC + struct.pack("<IQ", FORMAT_VERSION, len(body)) + body
    data = head + struct.pack("<I", zlib.crc32(head))
    classes = np.asarray(model.classes_)
    if classes.dtype.kind == "U" and classes.nbytes > max(LABEL_ARRAY_FLOOR, len(data)):
        raise ValueError(
            f"class labels of dtype {classes.dtype} take {classes.nbytes} bytes, more than "
            f"the {len(data)}-byte file or {LABEL_ARRAY_FLOOR} bytes, which the loader "
            "refuses (a file must not make it allocate far more than its size). Store them "
            "at the width of the longest label: model.classes_ = np.array(model.classes_.tolist())."
        )
    return data


def _write_str(put, s):
    raw = s.encode("utf-8")
    put(struct.pack("<I", len(raw)))
    put(raw)


def _write_classes(put, classes):
    classes = np.asarray(classes)
    n = len(classes)
    if classes.dtype.kind in "biuf":
        dt = classes.dtype.newbyteorder("<") if classes.dtype.itemsize > 1 else classes.dtype
        code = dt.str.encode("ascii")
        put(struct.pack("<BIB", 0, n, len(code)) + code)
        put(np.ascontiguousarray(classes, dtype=dt).tobytes())
    elif classes.dtype.kind == "U":
        put(struct.pack("<BII", 1, n, classes.dtype.itemsize // 4))
        for s in classes:
            _write_str(put, str(s))
    elif classes.dtype.kind == "O" and all(isinstance(s, str) for s in classes):
        put(struct.pack("<BI", 2, n))
        for s in classes:
            _write_str(put, s)
    else:
        raise ValueError(
            f"class labels of dtype {classes.dtype} cannot be saved: the format stores "
            "numbers (bool, int, float) and strings."
        )


class _Reader:
    """Bounds-checked reads from an in-memory buffer; every overrun is a ValueError."""

    def __init__(self, data, start, end):
        self.data, self.pos, self.end = memoryview(data), start, end

    @property
    def remaining(self):
        return self.end - self.pos

    def take(self, n, what):
        if n < 0 or n > self.remaining:
            raise ValueError(
                f"corrupt compact model: {what} needs {n} bytes but only {self.remaining} remain."
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt, what):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def string(self, what):
        (n,) = self.unpack("<I", what)
        if n > _MAX_STRING:
            raise ValueError(f"corrupt compact model: {what} claims a {n}-byte string.")
        try:
            return bytes(self.take(n, what)).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"corrupt compact model: {what} is not UTF-8.") from exc

    def array(self, dtype, count, what):
        dtype = np.dtype(dtype)
        raw = self.take(count * dtype.itemsize, what)
        return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=True)


def as_bytes(data):
    """``data`` as ``bytes`` (not copied when it is ``bytes``); TypeError, before any
    allocation, for anything that is not bytes-like (an int would otherwise be taken as a
    size by ``bytes(n)``, a str would need an encoding)."""
    if isinstance(data, bytes):
        return data
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(
            "a compact model is read from a bytes-like object (bytes, bytearray, memoryview), "
            f"got {type(data).__name__}."
        ) from None
    with view:
        return view.tobytes()


def read_file(path, max_bytes=MAX_FILE_BYTES):
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them: a directory,
    device (/dev/zero), FIFO or socket, or a larger file, is a ValueError, and at most
    ``max_bytes + 1`` bytes are read."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or max_bytes < 0:
        raise ValueError(f"max_bytes must be a non-negative int, got {max_bytes!r}.")
    max_bytes = int(max_bytes)
    path = os.fspath(path)

    def refuse_kind(mode):
        if not stat.S_ISREG(mode):
            raise ValueError(
                f"{path!r} is not a regular file (a directory, device, FIFO or socket); a compact "
                "model is loaded from a file written by save(), or from bytes with from_bytes()."
            )

    def refuse_size(size):
        if size > max_bytes:
            raise ValueError(
                f"{path!r} holds {size} bytes, more than max_bytes={max_bytes}; pass a larger "
                "max_bytes to load() if this really is a model."
            )

    st = os.stat(path)
    refuse_kind(st.st_mode)
    refuse_size(st.st_size)
    # O_NONBLOCK: should the path be swapped for a FIFO after the stat, opening it does not
    # wait for a writer (and fstat refuses it); reads of regular files are unaffected
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        refuse_kind(os.fstat(f.fileno()).st_mode)
        data = f.read(max_bytes + 1)
    refuse_size(len(data))
    return data


def read(data):
    """The parts of the model in ``data`` (keyword arguments of
    ``CompactProjectionClassifier._from_parts``); every size is checked against the bytes
    present before anything is allocated, and every problem is a ValueError (a TypeError if
    ``data`` is not bytes-like). The semantic checks of labels and parameters are made by
    ``_from_parts`` (:func:`check_classes`, :func:`check_parameters`)."""
    data = as_bytes(data)
    head_len = len(MAGIC) + 12
    if data[: len(MAGIC)] != MAGIC[: len(data)] or not data:
        raise ValueError(
            f"not a compact ProjectionNet model: the file starts with {data[:8]!r}, "
            f"expected the magic bytes {MAGIC!r}."
        )
    if len(data) < head_len + 4:
        raise ValueError(
            f"not a compact ProjectionNet model: {len(data)} bytes is shorter than the "
            f"{head_len + 4}-byte minimum (truncated file?)."
        )
    version, body_len = struct.unpack_from("<IQ", data, len(MAGIC))
    if version in _OLD_FORMAT_HASH:
        saved_by = "sklearn-projection 0.1" if version == 1 else "an earlier sklearn-projection"
        raise ValueError(
            f"this compact model was saved by {saved_by} (format version {version}), whose "
            f"random projections were regenerated with projection hash version "
            f"{_OLD_FORMAT_HASH[version]}; this library (format version {FORMAT_VERSION}) "
            f"regenerates them with hash version {HASH_VERSION} and cannot reproduce its "
            "bits. Refit the ProjectionNetClassifier with this version and save it again."
        )
    if version != FORMAT_VERSION:
        raise ValueError(
            f"unsupported compact model format version {version}; this library reads "
            f"version {FORMAT_VERSION}."
        )
    if head_len + body_len + 4 != len(data):
        raise ValueError(
            f"corrupt compact model: the header announces {body_len} body bytes, so "
            f"{head_len + body_len + 4} bytes in all, but there are {len(data)} (truncated?)."
        )
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if zlib.crc32(memoryview(data)[:-4]) != crc:
        raise ValueError("corrupt compact model: CRC32 checksum mismatch.")

    r = _Reader(data, head_len, len(data) - 4)
    code, reading_code, n_layers = r.unpack("<BBI", "dtype, reading and layer count")
    if code >= len(DTYPES):
        raise ValueError(f"corrupt compact model: unknown weight dtype code {code}.")
    if reading_code >= len(READINGS):
        raise ValueError(
            f"corrupt compact model: unknown bit reading code {reading_code} (0 binary, 1 ternary, "
            "2 quinary)."
        )
    threshold = 0.0
    if READINGS[reading_code] == "quinary":
        (threshold,) = r.unpack("<d", "quinary threshold")
        if not (np.isfinite(threshold) and threshold >= 0.0):
            raise ValueError(f"corrupt compact model: quinary threshold {threshold!r} is not finite and >= 0.")
    if not 1 <= n_layers <= _MAX_LAYERS:
        raise ValueError(f"corrupt compact model: {n_layers} layers (1..{_MAX_LAYERS} allowed).")
    seed, T, d, density, n_features = r.unpack("<QIIdQ", "projection parameters")
    if T < 1 or d < 1 or T * d > MAX_TOTAL_BITS:
        raise ValueError(f"corrupt compact model: n_projections={T}, n_bits={d}.")
    if not (np.isfinite(density) and 0 < density <= 1):
        raise ValueError(f"corrupt compact model: density {density!r} not in (0, 1].")
    if not 1 <= n_features < 2**62:
        raise ValueError(f"corrupt compact model: {n_features} input features.")
    widths = list(r.unpack(f"<{n_layers + 1}I", "layer widths"))
    if widths[0] != T * d or min(widths) < 1:
        raise ValueError(f"corrupt compact model: layer widths {widths} for T*d = {T * d} bits.")
    dtype = DTYPES[code]
    if dtype == "int8" and T * d > int8_max_bits(READINGS[reading_code]):
        raise ValueError(f"corrupt compact model: int8 model with {T * d} bits.")
    # every size is known now: check the weights fit in the bytes present before reading
    itemsize = {"float32": 4, "float16": 2, "int8": 1}[dtype]
    per_out = 8 if dtype == "int8" else 4
    weight_bytes = sum(a * b * itemsize + b * per_out for a, b in zip(widths, widths[1:]))
    if weight_bytes > r.remaining:
        raise ValueError(
            f"corrupt compact model: layer widths {widths} need {weight_bytes} bytes of "
            f"weights but the file holds only {r.remaining} more bytes."
        )
    classes = _read_classes(r, widths[-1], len(data))
    (n_names,) = r.unpack("<I", "feature name count")
    if n_names not in (0, n_features) or 4 * n_names > r.remaining:
        raise ValueError(f"corrupt compact model: {n_names} feature names for {n_features} features.")
    names = [r.string("feature name") for _ in range(n_names)]
    text = _read_text(r, n_features, n_names)
    if r.remaining != weight_bytes:
        raise ValueError(
            f"corrupt compact model: {r.remaining} bytes left for weights, expected {weight_bytes}."
        )
    coefs, intercepts, scales = [], [], []
    wdt = {"float32": "<f4", "float16": "<f2", "int8": "i1"}[dtype]
    for a, b in zip(widths, widths[1:]):
        coefs.append(r.array(wdt, a * b, "weights").reshape(a, b))
        intercepts.append(r.array("<f4", b, "biases"))
        if dtype == "int8":
            scales.append(r.array("<f4", b, "scales"))

    return dict(
        dtype=dtype, seed=int(seed), n_projections=int(T), n_bits=int(d),
        density=float(density), reading=READINGS[reading_code], threshold=float(threshold),
        n_features=int(n_features),
        classes=classes,
        coefs=coefs, intercepts=intercepts, scales=scales if dtype == "int8" else None,
        feature_names=np.array(names, dtype=object) if n_names else None,
        hasher=None if text is None else hasher_from_settings(text),
    )


def text_settings(hasher):
    """The settings of ``hasher`` (an NgramHasher, or None: numeric input) as the text section
    stores them, checked; None for None."""
    if hasher is None:
        return None
    from ._text import SPEC_VERSION, NgramHasher

    if not isinstance(hasher, NgramHasher):
        raise ValueError(
            f"hasher_ must be a sklearn_projection.NgramHasher or None, got {type(hasher).__name__}."
        )
    hasher._validate_params()
    return dict(hasher._settings(), spec_version=SPEC_VERSION)


def hasher_from_settings(s):
    """The NgramHasher of the settings :func:`text_settings` returns."""
    from ._text import NgramHasher

    weighting = ("binary", "count", "sublinear")[s["weighting"]]
    word = (s["word_min"], s["word_max"]) if s["word_max"] else None
    char = (s["char_min"], s["char_max"]) if s["char_max"] else None
    return NgramHasher(
        n_features=2 ** s["log2_features"], word_ngram_range=word, char_ngram_range=char,
        weighting=weighting, alternate_sign=bool(s["alternate_sign"]),
        norm="l2" if s["l2"] else None, lowercase=bool(s["lowercase"]),
    )


def _read_text(r, n_features, n_names):
    """The text section of a body: None (numeric input) or the hasher's settings,
    each field range-checked (so that NgramHasher accepts them as they are)."""
    from ._text import MAX_NGRAM_N, SPEC_VERSION

    (kind,) = r.unpack("<B", "text flag")
    if kind == 0:
        return None
    if kind != 1:
        raise ValueError(f"corrupt compact model: unknown input kind {kind} (0 numeric, 1 text).")
    (spec,) = r.unpack("<I", "text hasher specification version")
    values = r.unpack("<9B", "text hasher settings")
    if spec != SPEC_VERSION:
        raise ValueError(
            f"this model hashes its texts with NgramHasher specification version {spec}; this "
            f"library implements version {SPEC_VERSION} and would compute other features."
        )
    s = dict(zip(_TEXT_FIELDS, values), spec_version=spec)
    for flag in ("lowercase", "alternate_sign", "l2"):
        if s[flag] > 1:
            raise ValueError(f"corrupt compact model: text hasher flag {flag}={s[flag]} (0 or 1).")
    for kind_ in ("word", "char"):
        lo, hi = s[f"{kind_}_min"], s[f"{kind_}_max"]
        if (lo, hi) != (0, 0) and not 1 <= lo <= hi <= MAX_NGRAM_N:
            raise ValueError(
                f"corrupt compact model: text hasher {kind_} n-gram range ({lo}, {hi}) "
                f"(0, 0 for none, else 1 <= min <= max <= {MAX_NGRAM_N})."
            )
    if s["word_max"] == 0 and s["char_max"] == 0:
        raise ValueError("corrupt compact model: text hasher with no word and no char n-grams.")
    if s["weighting"] > 2:
        raise ValueError(
            f"corrupt compact model: text hasher weighting code {s['weighting']} "
            "(0 binary, 1 count, 2 sublinear)."
        )
    if s["log2_features"] > 62 or n_features != 1 << s["log2_features"]:
        raise ValueError(
            f"corrupt compact model: text hasher of 2**{s['log2_features']} columns for a "
            f"model of {n_features} input features."
        )
    if n_names:
        raise ValueError("corrupt compact model: a text model stores no feature names.")
    return s


def _read_classes(r, n_expected, file_size):
    kind, n = r.unpack("<BI", "class labels")
    if n != n_expected:
        raise ValueError(f"corrupt compact model: {n} class labels for {n_expected} outputs.")
    if kind == 0:
        (k,) = r.unpack("<B", "class dtype")
        code = bytes(r.take(k, "class dtype")).decode("ascii", errors="replace")
        if not _NUMERIC_DTYPE.fullmatch(code):
            raise ValueError(f"corrupt compact model: class dtype {code!r} is not numeric.")
        if code == "|b1":
            raw = r.array("u1", n, "class labels")
            if raw.max(initial=0) > 1:
                raise ValueError("corrupt compact model: bool class labels are not bytes 0 and 1.")
            classes = raw.astype(bool)
        else:
            classes = r.array(code, n, "class labels")
    elif kind in (1, 2):
        width = r.unpack("<I", "class label width")[0] if kind == 1 else 0
        if 4 * n > r.remaining:
            raise ValueError("corrupt compact model: class labels overrun the file.")
        if kind == 1 and (width < 1 or 4 * n * width > max(LABEL_ARRAY_FLOOR, file_size)):
            raise ValueError(
                f"corrupt compact model: {n} NumPy unicode class labels of width {width} would "
                f"take {4 * n * width} bytes; a {file_size}-byte file may ask for at most "
                f"max({LABEL_ARRAY_FLOOR}, {file_size}) (and width >= 1)."
            )
        labels = [r.string("class label") for _ in range(n)]
        if kind == 1:
            if any(len(s) > width for s in labels):
                raise ValueError("corrupt compact model: class label longer than its width.")
            if any(s.endswith("\0") for s in labels):
                raise ValueError("corrupt compact model: a NumPy unicode class label ends with NUL.")
            classes = np.array(labels, dtype=f"<U{width}")
        else:
            classes = np.array(labels, dtype=object)
    else:
        raise ValueError(f"corrupt compact model: unknown class label kind {kind}.")
    return classes


def check_classes(classes):
    """ValueError unless ``classes`` are at least two labels, numbers or strings, unique and
    sorted (strictly increasing) as ``np.unique`` returns them."""
    classes = np.asarray(classes)
    if classes.ndim != 1 or len(classes) < 2:
        raise ValueError(f"classes_ must hold at least two labels in one dimension, got shape {classes.shape}.")
    if classes.dtype.kind not in "biufUO" or (
            classes.dtype.kind == "O" and not all(isinstance(c, str) for c in classes)):
        raise ValueError(
            f"class labels of dtype {classes.dtype} cannot be saved: the format stores "
            "numbers (bool, int, float) and strings."
        )
    try:
        increasing = bool(np.all(classes[1:] > classes[:-1]))
    except TypeError:
        increasing = False
    if not increasing:
        shown = ", ".join(repr(c) for c in classes[:8].tolist()) + (", ..." if len(classes) > 8 else "")
        raise ValueError(
            f"class labels must be unique and sorted (strictly increasing, as np.unique returns "
            f"them; no NaN), got [{shown}]: predictions would map to the wrong labels."
        )


def _abs_column_sums(W, weights):
    """``weights @ |W|`` in float64, in row chunks (temporaries of at most _CHUNK values)."""
    rows = max(1, _CHUNK // max(W.shape[1], 1))
    out = np.zeros(W.shape[1])
    for start in range(0, W.shape[0], rows):
        block = np.abs(W[start : start + rows], dtype=np.float64)
        out += weights[start : start + rows] @ block
    return out


def check_parameters(dtype, coefs, intercepts, scales, reading="binary"):
    """ValueError unless the weights, biases and int8 scales are finite, the scales
    positive, int8 weights in [-127, 127], and no input can drive a float32 value of the
    forward pass beyond LOGIT_LIMIT (interval bound propagated through the layers)."""
    # each input is 0 or 1 (binary), -1, 0 or 1 (ternary), -2 .. 2 (quinary)
    bound = np.full(coefs[0].shape[0], float(input_bound(reading)))
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        named = f"layer {layer} ({W.shape[0]} x {W.shape[1]})"
        # a float64 sum of float32/float16 values is finite exactly when every value is
        if W.dtype.kind == "f" and not np.isfinite(W.sum(dtype=np.float64)):
            raise ValueError(f"non-finite weights (NaN or inf) in {named}.")
        if not np.isfinite(b.sum(dtype=np.float64)):
            raise ValueError(f"non-finite biases (NaN or inf) in {named}.")
        col = _abs_column_sums(W, bound)
        if dtype == "int8":
            s = scales[layer]
            if not np.isfinite(s.sum(dtype=np.float64)):
                raise ValueError(f"non-finite int8 scales (NaN or inf) in {named}.")
            if not (s > 0).all():
                raise ValueError(
                    f"int8 scales must be positive (max|W| / 127, or 1 for a zero column); {named} "
                    f"has {int(np.sum(~(s > 0)))} scales <= 0."
                )
            if W.size and int(W.min()) < -127:
                raise ValueError(
                    f"int8 weights must lie in [-127, 127] (symmetric quantisation); {named} "
                    "holds -128."
                )
            col = col * s.astype(np.float64)
        bound = np.abs(b.astype(np.float64)) + col
        if not (bound < LOGIT_LIMIT).all():
            raise ValueError(
                f"the weights are so large that the float32 forward pass could leave the float32 "
                f"range: units of {named} reach up to {float(bound.max()):.3g} for some input "
                f"(limit 2**120 ~ {LOGIT_LIMIT:.3g})."
            )
