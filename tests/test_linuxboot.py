"""The kernel's Linux 64-bit boot protocol entry, set up the way Firecracker
does it: by linuxboot (a tiny VMM on /dev/kvm) and by the linuxboot shim (a PVH
guest that QEMU boots under TCG, which loads the kernel and enters it)."""
import os
import re
import time

import pytest

from conftest import BUILD, run

LINUXBOOT = BUILD / "tests" / "linuxboot" / "linuxboot"
SHIM = BUILD / "tests" / "linuxboot" / "shim.elf"
EBDA_START = 0x9FC00  # where both loaders end low RAM in the e820 map
MICROVM = "microvm,x-option-roms=off,rtc=on,pit=off,pic=off,isa-serial=on,acpi=off"


class Run:
    """One boot: the exit status (from the log's exit record for QEMU), log, console."""

    def __init__(self, status, proc, seconds):
        self.status = status
        self.returncode = proc.returncode
        self.log = proc.stderr
        self.out = proc.stdout
        self.seconds = seconds

    def __repr__(self):
        return (f"<Run status={self.status} rc={self.returncode} {self.seconds:.2f}s "
                f"log={self.log[-2000:]!r} out={self.out[-500:]!r}>")


def e820_kib(mib):
    """What the kernel counts from the loaders' map: low RAM in whole pages, then 1 MiB up."""
    return ((EBDA_START & ~0xFFF) + (mib << 20) - 0x100000) >> 10


def free_kib(log):
    m = re.search(r"mm: \d+ KiB RAM in \d+ ranges, (\d+) KiB free", log)
    assert m, log
    return int(m.group(1))


# --- linuxboot on /dev/kvm -------------------------------------------------

def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


# On kvm_pvm (no vmx/svm) ring 0 is emulated, yet the whole boot takes ~0.1 s,
# so these run there too; they need only a /dev/kvm we may open.
needs_kvm = pytest.mark.skipif(not kvm_usable(), reason="no usable /dev/kvm: linuxboot needs KVM")


def linuxboot(kernel_args, options=(), timeout=20):
    assert LINUXBOOT.exists(), f"{LINUXBOOT} missing: run make check"
    cmd = [LINUXBOOT, "--timeout", str(timeout), *options, BUILD / "kernel.elf", *kernel_args]
    start = time.monotonic()
    proc = run(cmd, timeout + 10)
    return Run(proc.returncode, proc, time.monotonic() - start)


@needs_kvm
def test_linuxboot_boots_through_the_linux_entry(kernel):
    r = linuxboot(["--verbose"])
    assert r.status == 0, r
    assert "boot protocol: linux" in r.log, r
    assert "nothing to run; shutting down" in r.log, r
    assert "\x1e" not in r.log, "records are for the loader, not for the log"


@needs_kvm
def test_linuxboot_command_line_reaches_the_kernel(kernel):
    r = linuxboot(["--test=fail"])
    assert r.status == 1, r
    assert "FAIL this test fails on purpose" in r.log, r


@needs_kvm
def test_linuxboot_bad_boot_option_is_refused(kernel):
    r = linuxboot(["--no-such-option"])
    assert r.status == 125, r
    assert 'unknown boot option "--no-such-option"' in r.log, r


@needs_kvm
def test_linuxboot_e820_map_sizes_memory(kernel):
    r = linuxboot(["--verbose"], options=["-m", "64"])
    assert r.status == 0, r
    assert f"mm: {e820_kib(64)} KiB RAM in 2 ranges" in r.log, r
    assert "mem 0-0x9fbff type 1" in r.log and "mem 0x100000-0x3ffffff type 1" in r.log, r


@needs_kvm
def test_linuxboot_initrd_is_kept_out_of_free_memory(kernel, tmp_path):
    initrd = tmp_path / "initrd.bin"
    initrd.write_bytes(b"\xa5" * (1 << 20) + b"tail")  # 257 pages
    plain, with_initrd = linuxboot(["--verbose"]), linuxboot(["--verbose"], options=["--initrd", initrd])
    assert plain.status == 0 and with_initrd.status == 0, (plain, with_initrd)
    assert free_kib(plain.log) - free_kib(with_initrd.log) == 257 * 4, (plain, with_initrd)


@needs_kvm
def test_linuxboot_entry_needs_no_loader_stack(kernel):
    r = linuxboot(["--verbose"], options=["--no-stack"])
    assert r.status == 0, r
    assert "boot protocol: linux" in r.log, r


@needs_kvm
@pytest.mark.parametrize("args,status", [(["--test=fail"], 1), (["--test=panic"], 70), ([], 0)])
def test_linuxboot_exit_through_i8042_reset_like_firecracker(kernel, args, status):
    r = linuxboot(args, options=["--no-debug-exit"])
    assert r.status == status, r


# --- the shim under QEMU (TCG) ---------------------------------------------

def host_tsc_option(osprey):
    """The --tsc-khz=N osprey passes under TCG (it measures and caches it)."""
    proc = run([osprey, "run", "--accel", "tcg", "--dry-run", "--", "x"], 30)
    m = re.search(r"--tsc-khz=\d+", proc.stdout)
    return [m.group(0)] if m else []


def shim_boot(osprey, kernel_args, memory="128M", initrd=True, timeout=30):
    assert SHIM.exists(), f"{SHIM} missing: run make check"
    cmdline = " ".join(["--power-off-on-abort", *host_tsc_option(osprey), *kernel_args])
    cmd = ["qemu-system-x86_64", "-M", MICROVM, "-accel", "tcg", "-cpu", "max", "-m", memory,
           "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-chardev", "file,id=oslog,path=/dev/stderr", "-device", "isa-debugcon,iobase=0xe9,chardev=oslog",
           "-kernel", SHIM, "-append", cmdline]
    if initrd:
        cmd += ["-initrd", BUILD / "kernel.elf"]
    start = time.monotonic()
    proc = run(cmd, timeout)
    records = re.findall(r"^\x1eexit=(\d+)$", proc.stderr, re.M)
    status = int(records[-1]) if records else None
    return Run(status, proc, time.monotonic() - start)


def test_shim_boots_through_the_linux_entry(osprey, kernel):
    r = shim_boot(osprey, ["--verbose"])
    assert r.status == 0 and r.returncode == 1, r  # isa-debug-exit: (0 << 1) | 1
    assert "boot protocol: linux" in r.log, r
    assert "nothing to run; shutting down" in r.log, r


def test_shim_command_line_reaches_the_kernel(osprey, kernel):
    r = shim_boot(osprey, ["--test=fail"])
    assert r.status == 1 and r.returncode == 3, r
    assert "FAIL this test fails on purpose" in r.log, r


def test_shim_bad_boot_option_is_refused(osprey, kernel):
    r = shim_boot(osprey, ["--no-such-option"])
    assert r.status == 125 and r.returncode == 251, r
    assert 'unknown boot option "--no-such-option"' in r.log, r


def test_shim_e820_map_is_firecrackers(osprey, kernel):
    r = shim_boot(osprey, ["--verbose"])
    assert r.status == 0, r
    assert f"mm: {e820_kib(128)} KiB RAM in 2 ranges" in r.log, r
    mem = re.findall(r"debug: mem (\S+) type (\d)", r.log)
    assert mem == [("0-0x9fbff", "1"), ("0x100000-0x7ffffff", "1")], r


def test_shim_without_the_kernel_module_says_so(osprey, kernel):
    r = shim_boot(osprey, [], initrd=False)
    assert r.returncode == (125 << 1) | 1, r
    assert "linuxboot shim: no module: pass the kernel ELF with -initrd" in r.log, r
