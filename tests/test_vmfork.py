"""The fork self-test (--test=vmfork): several address spaces, fork with copy
on write (4 KiB and 2 MiB pages), MAP_SHARED staying shared, MADV_DONTFORK and
MADV_WIPEONFORK, many forks, every page coming back; across CPUs: the parent's
other CPUs flushed at fork, shootdowns only where a space is loaded, a space
left by a CPU that still has it loaded before it is freed."""
import re

import pytest

from conftest import boot


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_vmfork_selftest(osprey, cpus):
    b = boot(["--test=vmfork"], cpus=cpus, timeout=90)
    assert b.status == 0, b
    assert "selftest vmfork: passed" in b.log, b
    assert "FAIL" not in b.log, b
    assert re.search(r"every page comes back once all spaces are gone \(free (\d+) -> \1\)", b.log), b
    assert "fork of a 64 MiB written heap (2 MiB pages)" in b.log, b
    if cpus > 1:
        assert "fork with the parent running on CPU 1 (48 pages, full flush)" in b.log, b
        assert "makes CPU 1 leave it first" in b.log, b
        assert "has not answered a shootdown" not in b.log, b
