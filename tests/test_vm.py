"""The address-space self-test (--test=vm): demand paging, copy on write,
2 MiB pages, munmap/mprotect/mremap/brk/madvise, /proc/self/maps, and TLB
shootdown seen from the other CPUs (one of them with interrupts off)."""
import pytest

from conftest import boot


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_vm_selftest(osprey, cpus):
    b = boot(["--test=vm"], cpus=cpus, timeout=60)
    assert b.status == 0, b
    assert "selftest vm: passed" in b.log, b
    assert "FAIL" not in b.log, b
    if cpus > 1:
        assert "every CPU reads the new page" in b.log, b
        assert f"{cpus} CPUs faulting at once: 0 errors" in b.log, b
        assert "has not answered a shootdown" not in b.log, b
