"""The C compiler the tests build the exported C with, and how: C99, every warning an error."""

import shutil
import subprocess

import pytest

CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler on PATH")
# the exported C must compile cleanly under these, on any compiler a user has
STRICT = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror"]


def build_program(sources, exe, *flags):
    """Compile and link ``sources`` into ``exe`` (``-O2``, :data:`STRICT`, ``flags``,
    ``-lm``); raises ``CalledProcessError`` with the compiler's output on failure."""
    subprocess.run([CC, *STRICT, "-O2", *flags, *map(str, sources), "-o", str(exe), "-lm"],
                   check=True, capture_output=True, text=True)
    return exe
