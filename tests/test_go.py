"""A Go program built with Debian's golang-go (CGO_ENABLED=0), unmodified,
inside Osprey: 1,000 goroutines over every CPU, channels, timers, a GC loop
and asynchronous preemption (SIGURG)."""
import subprocess

import pytest

from conftest import BUILD
from test_apps import base_rootfs, boot

GO_PROGRAM = BUILD / "tests" / "go" / "goroutines"


@pytest.fixture(scope="module")
def go_initrd(tmp_path_factory):
    if not GO_PROGRAM.exists():
        pytest.skip("the Go test program was not built (needs golang-go from scripts/setup)")
    fs = base_rootfs()
    fs.add_program("/bin/goroutines", GO_PROGRAM)
    return fs.write(tmp_path_factory.mktemp("go") / "root.cpio")


def test_go_program_natively():
    if not GO_PROGRAM.exists():
        pytest.skip("the Go test program was not built")
    p = subprocess.run([str(GO_PROGRAM)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-3000:]


@pytest.mark.parametrize("cpus", [1, 4])
def test_go_goroutines_channels_gc(osprey, go_initrd, cpus):
    p = boot(osprey, go_initrd, ["/bin/goroutines"], cpus=cpus, memory="256M", timeout=120)
    assert p.returncode == 0 and "0 check(s) failed" in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
