"""The console as a user meets it: at a terminal (osprey's stdin a tty, so
QEMU puts it in raw mode) the kernel echoes and edits lines; from a pipe the
bytes arrive untouched and the end of input reaches the program."""
import os
import pathlib
import pty
import select
import subprocess
import time

import pytest

from conftest import OSPREY, run, scaled
from rootfs import Rootfs

BUSYBOX = pathlib.Path("/bin/busybox")


@pytest.fixture(scope="module")
def initrd(tmp_path_factory):
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed")
    fs = Rootfs()
    fs.add_program("/bin/busybox", BUSYBOX)
    return fs.write(tmp_path_factory.mktemp("console") / "root.cpio")


def pty_session(argv, keystrokes, settle=1.0):
    """Run argv on a pseudo-terminal, type `keystrokes` (a list of byte
    strings, each after a pause), return everything it printed."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(argv[0]), [str(a) for a in argv])
    out = b""

    def pump(seconds):
        nonlocal out
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    return False
                if not chunk:
                    return False
                out += chunk
        return True

    pump(scaled(settle))
    for keys in keystrokes:
        os.write(fd, keys)
        pump(scaled(0.5))
    deadline = time.monotonic() + scaled(10)
    while time.monotonic() < deadline and pump(0.2):
        pass
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return out, os.waitstatus_to_exitcode(status)


def test_terminal_echoes_and_edits_lines(initrd):
    script = 'read x; echo "got [$x]"; read y; echo "eof $?"'
    out, status = pty_session([OSPREY, "run", "--initrd", initrd, "--", "/bin/busybox", "sh", "-c", script],
                              [b"helo\x7flo wor\x15world\r", b"\x04"])
    text = out.decode(errors="replace")
    assert status == 0, text
    assert "got [world]" in text, "erase (DEL) and kill (^U) edited the line"
    assert "helo\b \blo wor" in text, "typed characters are echoed, erases rub out"
    assert "eof 1" in text, "^D on an empty line is the end of input"


def test_piped_input_is_not_a_terminal_and_ends(initrd):
    p = run([OSPREY, "run", "--initrd", initrd, "--", "/bin/busybox", "tty"], 60, input="")
    assert p.returncode == 1 and "not a tty" in p.stdout, p
    data = "line one\r\nline two\n"  # the CR a terminal would turn into NL must survive
    p = run([OSPREY, "run", "--initrd", initrd, "--", "/bin/busybox", "od", "-c"], 60, input=data)
    out = p.stdout.replace("\r\n", "\n")
    assert p.returncode == 0, p
    assert "e  \\r  \\n   l" in out and "w   o  \\n" in out, out


def test_terminal_without_a_pipe_is_a_tty(initrd):
    out, status = pty_session([OSPREY, "run", "--initrd", initrd, "--", "/bin/busybox", "tty"], [])
    assert status == 0 and b"/dev/console" in out, out
