"""The ways a program ends and the status `osprey run` returns: its exit
status, 128+N after a fatal signal N (as a shell reports it), exit from a
second thread, the main thread leaving first; checked against the host."""
import subprocess

import pytest

from conftest import BUILD, run, scaled
from rootfs import Rootfs

EXITS = BUILD / "tests" / "programs" / "exits"

CASES = [
    (["status", "0"], 0),
    (["status", "3"], 3),
    (["status", "255"], 255),
    (["status", "256"], 0),
    (["segv"], 128 + 11),
    (["abort"], 128 + 6),
    (["term"], 128 + 15),
    (["kill"], 128 + 9),
    (["ignored-term"], 9),
    (["thread-exit"], 42),
    (["main-thread-exits"], 0),
    (["unflushed"], 0),
]


@pytest.fixture(scope="module")
def initrd(tmp_path_factory):
    fs = Rootfs()
    fs.add_program("/bin/exits", EXITS)
    return fs.write(tmp_path_factory.mktemp("exits") / "root.cpio")


def shell_status(returncode):
    return 128 - returncode if returncode < 0 else returncode


@pytest.mark.parametrize("args,status", CASES, ids=["-".join(a) for a, _ in CASES])
def test_exit_status(osprey, initrd, args, status):
    native = subprocess.run([str(EXITS), *args], capture_output=True, text=True, timeout=30)
    assert shell_status(native.returncode) == status, "the expectation matches Linux"
    p = run([osprey, "run", "-c", "2", "--initrd", initrd, "--timeout", str(int(scaled(30))), "--",
             "/bin/exits", *args], 60)
    assert p.returncode == status, p
    assert p.stdout.replace("\r", "") == native.stdout, "the same output reaches the console"


def test_fatal_signal_is_reported(osprey, initrd):
    p = run([osprey, "run", "--initrd", initrd, "--", "/bin/exits", "segv"], 60)
    assert p.returncode == 139
    assert "killed by SIGSEGV" in p.stderr, p


def test_missing_program_is_127_and_not_executable_126(osprey, tmp_path):
    fs = Rootfs()
    fs.add_bytes("/etc/motd", b"not a program\n", mode=0o644)
    fs.add_bytes("/bin/noexec", b"\x7fELF garbage", mode=0o644)
    fs.add_bytes("/bin/garbage", b"\x7fELF garbage", mode=0o755)
    initrd = fs.write(tmp_path / "root.cpio")
    p = run([osprey, "run", "--initrd", initrd, "--", "/bin/nothere"], 60)
    assert p.returncode == 127 and "/bin/nothere: no such file" in p.stderr, p
    p = run([osprey, "run", "--initrd", initrd, "--", "nothere"], 60)
    assert p.returncode == 127 and "not found in PATH" in p.stderr, p
    p = run([osprey, "run", "--initrd", initrd, "--", "/bin/noexec"], 60)
    assert p.returncode == 126 and "not executable" in p.stderr, p
    p = run([osprey, "run", "--initrd", initrd, "--", "/bin/garbage"], 60)
    assert p.returncode == 126 and "too short to be an ELF executable" in p.stderr, p
    p = run([osprey, "run", "--initrd", initrd, "--", "/etc"], 60)
    assert p.returncode == 126 and "is a directory" in p.stderr, p
