"""Shared pytest helpers: where the build is, which accelerator tests use, and
the one time multiplier per accelerator that every time limit goes through."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
KERNEL = BUILD / "kernel.elf"
OSPREY = BUILD / "osprey"


def host_has_hw_virt() -> bool:
    """True when the CPU shows vmx/svm and /dev/kvm is usable (real KVM)."""
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    has_flag = any(f in flags.split() for f in ("vmx", "svm"))
    return has_flag and os.access("/dev/kvm", os.R_OK | os.W_OK)


ACCEL = os.environ.get("OSPREY_TEST_ACCEL") or ("kvm" if host_has_hw_virt() else "tcg")
# Base time limits are written for hardware KVM; software emulation gets more.
TIME_MULTIPLIER = {"kvm": 1.0, "tcg": 4.0}[ACCEL] * float(os.environ.get("OSPREY_TIME_SCALE", "1"))


def scaled(seconds: float) -> float:
    return seconds * TIME_MULTIPLIER


def run(cmd, timeout, **kw):
    """Run a command with a scaled time limit; text output captured."""
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=scaled(timeout), **kw)


@pytest.fixture(scope="session")
def kernel():
    assert KERNEL.exists(), "build/kernel.elf missing: run make"
    return KERNEL


@pytest.fixture(scope="session")
def osprey():
    assert OSPREY.exists(), "build/osprey missing: run make"
    return OSPREY


class Boot:
    """The outcome of one `osprey run`: exit status, console (stdout), kernel log (stderr)."""

    def __init__(self, proc, seconds):
        self.status = proc.returncode
        self.out = proc.stdout
        self.log = proc.stderr
        self.seconds = seconds

    def __repr__(self):
        return f"<Boot status={self.status} log={self.log[-2000:]!r} out={self.out[-500:]!r}>"


def boot(kernel_args, vmm="microvm", cpus=1, memory="128M", timeout=30, extra=()):
    """Boot build/kernel.elf with `osprey run` and the given kernel command line."""
    import time
    cmd = [OSPREY, "run", "--vmm", vmm, "-c", str(cpus), "-m", memory,
           "--timeout", str(int(scaled(timeout))), *extra, "--", *kernel_args]
    start = time.monotonic()
    proc = run(cmd, timeout + 30)
    return Boot(proc, time.monotonic() - start)


def qemu_argv(osprey_args, append):
    """The QEMU command `osprey run` would use, with the kernel command line
    replaced by `append` as is: for what osprey's quoting cannot produce."""
    import shlex
    proc = run([OSPREY, "run", "--dry-run", *osprey_args], 10)
    assert proc.returncode == 0, proc.stderr
    argv = shlex.split(proc.stdout)
    if "-append" in argv:
        i = argv.index("-append")
        del argv[i:i + 2]
    return argv + ["-append", append]


def debug_exit_status(returncode):
    """The status a guest wrote to isa-debug-exit, from QEMU's exit code."""
    return returncode >> 1 if returncode & 1 else None


# ---- helpers for the `osprey build` / `osprey run IMAGE` tests ----

PROG_SRC = ROOT / "tests" / "fixtures" / "osprey_prog.c"


def compile_prog(out, static=False):
    """gcc (dynamic glibc) or musl-gcc -static; None when the compiler is missing."""
    import shutil
    cc = "musl-gcc" if static else "gcc"
    if not shutil.which(cc):
        return None
    cmd = [cc, "-O2", "-o", str(out), str(PROG_SRC)] + (["-static"] if static else [])
    subprocess.run(cmd, check=True)
    return pathlib.Path(out)


def osprey_cmd(*args, timeout=30, **kw):
    return run([OSPREY, *args], timeout, **kw)


def osprey_build(image, *args, timeout=60):
    p = osprey_cmd("build", "-q", "-o", image, *args, timeout=timeout)
    assert p.returncode == 0, p.stderr
    return p


def osprey_boot(*args, timeout=30, **kw):
    """osprey run with a scaled --timeout."""
    return osprey_cmd("run", "--timeout", str(int(scaled(timeout))), *args, timeout=timeout + 30, **kw)


def one_line_error(p, message):
    """Status 125 and exactly one stderr line, naming the problem."""
    assert p.returncode == 125, p
    assert p.stderr.startswith("osprey: ") and message in p.stderr, p
    assert p.stderr.count("\n") == 1, p
