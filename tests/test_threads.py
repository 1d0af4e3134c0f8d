"""The BLAS thread setting (glassnet.set_num_threads)."""

import os
import subprocess
import sys

import pytest

import glassnet as gn

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 CPUs to set 2 BLAS threads")


def test_set_and_get_num_threads():
    before = gn.get_num_threads()
    try:
        gn.set_num_threads(2)
        assert gn.get_num_threads() == 2
        gn.set_num_threads(1)
        assert gn.get_num_threads() == 1
    finally:
        gn.set_num_threads(before)
    with pytest.raises(ValueError, match="set_num_threads: expected a positive integer, got 0"):
        gn.set_num_threads(0)


@pytest.mark.parametrize("env,expected", [({}, 1), ({"GLASSNET_NUM_THREADS": "2"}, 2), ({"OMP_NUM_THREADS": "2"}, 2)])
def test_import_policy(env, expected):
    """One thread at import, unless GLASSNET_NUM_THREADS or a BLAS variable decides."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("GLASSNET_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", "import glassnet; print(glassnet.get_num_threads())"],
                         env={**clean, **env}, capture_output=True, text=True, check=True).stdout
    assert int(out) == expected
