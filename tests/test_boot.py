"""Booting the kernel: every machine type and CPU count starts all its CPUs and
exits cleanly; boot options are parsed as documented."""
import re

import pytest

from conftest import boot

MACHINES = [("microvm", 1), ("microvm", 2), ("microvm", 4), ("q35", 1), ("q35", 2), ("q35", 4)]


@pytest.mark.parametrize("vmm,cpus", MACHINES, ids=[f"{m}-{c}cpu" for m, c in MACHINES])
def test_boot_starts_every_cpu_and_exits_0(osprey, vmm, cpus):
    b = boot(["--verbose"], vmm=vmm, cpus=cpus)
    assert b.status == 0, b
    assert f"smp: {cpus} of {cpus} CPUs online" in b.log, b
    assert "boot protocol: pvh" in b.log, b


def test_bootchart_prints_phases_and_total(osprey):
    b = boot(["--bootchart"], cpus=4)
    assert b.status == 0, b
    phases = re.findall(r"^\s*([\w ]+): (\d+\.\d\d)ms, \(\+(\d+\.\d\d)ms\)$", b.log, re.M)
    names = [p[0].strip() for p in phases]
    for expected in ("memory", "interrupts and clock", "SMP", "init"):
        assert expected in names, b
    times = [float(p[1]) for p in phases]
    assert times == sorted(times), "phases must be in time order"
    total = re.search(r"^\s*total: (\d+\.\d\d)ms", b.log, re.M)
    assert total and float(total.group(1)) == times[-1], b


def test_quiet_by_default(osprey):
    b = boot([])
    assert b.status == 0, b
    assert b.out == "", "the console belongs to the application: the kernel prints nothing there"
    assert "boot protocol" not in b.log, "informational messages need --verbose"


def test_unknown_boot_option_is_refused(osprey):
    b = boot(["--no-such-option", "/prog"])
    assert b.status == 125, b
    assert 'unknown boot option "--no-such-option"' in b.log, b


@pytest.mark.parametrize("args,message", [
    (["--verbose=1"], "boot option --verbose takes no value"),
    (["--console=vga"], 'boot option --console: "vga" is not one of serial|none'),
    (["--tsc-khz=fast"], 'boot option --tsc-khz: "fast" is not a number'),
    (["--test"], "boot option --test needs a value"),
    (["/x", "'unterminated"], "unterminated quote in the command line"),
])
def test_bad_boot_option_values_are_refused(osprey, args, message):
    b = boot(args)
    assert b.status == 125, b
    assert message in b.log, b


def test_help_lists_boot_options(osprey):
    b = boot(["--help"])
    assert b.status == 0, b
    for opt in ("--bootchart", "--verbose", "--nopci", "--console=VALUE", "--power-off-on-abort", "--test=VALUE"):
        assert opt in b.log, b


def test_boots_in_small_memory(osprey):
    b = boot(["--verbose"], memory="16M")
    assert b.status == 0, b
    assert "mm: " in b.log
