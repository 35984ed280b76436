"""Kernel self-tests (--test=NAME) on several machines and CPU counts, and the
paths that report failures: a failing test, a panic, a fault, a stack overflow."""
import pytest

from conftest import boot

CONFIGS = [("microvm", 1), ("microvm", 2), ("microvm", 4), ("q35", 4)]
TESTS = ["sched", "mutex", "time", "alloc"]


@pytest.mark.parametrize("vmm,cpus", CONFIGS, ids=[f"{m}-{c}cpu" for m, c in CONFIGS])
@pytest.mark.parametrize("name", TESTS)
def test_selftest_passes(osprey, name, vmm, cpus):
    b = boot([f"--test={name}"], vmm=vmm, cpus=cpus, timeout=60)
    assert b.status == 0, b
    assert f"selftest {name}: passed" in b.log, b
    assert "FAIL" not in b.log, b


def test_all_runs_every_regular_test(osprey):
    b = boot(["--test=all"], cpus=2, timeout=90)
    assert b.status == 0, b
    for name in TESTS:
        assert f"selftest {name}: passed" in b.log, b
    assert "selftest panic" not in b.log


def test_failing_selftest_sets_exit_status(osprey):
    b = boot(["--test=fail"])
    assert b.status == 1, b
    assert "FAIL this test fails on purpose" in b.log, b


def test_unknown_selftest_lists_the_tests(osprey):
    b = boot(["--test=sched,nosuch"])
    assert b.status == 125, b
    assert 'unknown self-test "nosuch"' in b.log, b
    assert "selftest sched:" not in b.log, "a typo must run nothing"


def test_panic_reports_and_exits_70(osprey):
    b = boot(["--test=panic"], cpus=2)
    assert b.status == 70, b
    assert "Kernel panic on cpu" in b.log and "self-test panic on purpose" in b.log, b
    assert "Backtrace:" in b.log and "panic+" in b.log, "backtrace must name functions"


def test_page_fault_is_reported_with_registers(osprey):
    b = boot(["--test=fault"])
    assert b.status == 70, b
    assert "page fault at address 0xdead0000 (not-present read, kernel mode)" in b.log, b
    assert "rip " in b.log and "cr2 00000000dead0000" in b.log, b
    assert "selftest_fault+" in b.log, "the faulting function is named"


def test_stack_overflow_hits_the_guard_page(osprey):
    b = boot(["--test=stack_overflow"])
    assert b.status == 70, b
    assert "kernel stack overflow" in b.log, b


def test_sleep_follows_the_host_clock(osprey):
    """A guest second is a host second: catches a wrongly measured TSC."""
    base = boot(["--test=fail"])
    slept = boot(["--test=sleep1s"])
    assert slept.status == 0, slept
    extra = slept.seconds - base.seconds
    assert 0.9 < extra < 1.8, f"a 1 s guest sleep took {extra:.2f} s more than a run without it"
