"""Guest test programs (tests/guest/*.c): real Linux programs, each built
static with musl and dynamic with glibc. Each runs natively on the host first
(which proves the test itself is right) and then inside Osprey, where it must
pass the same way. A line `osprey: cpus=N memory=SIZE timeout=S` in a program's
leading comment sets how its VM is booted."""
import os
import pathlib
import re
import subprocess

import pytest

from conftest import BUILD, OSPREY, ROOT, run, scaled
from rootfs import Rootfs

GUEST_DIR = ROOT / "tests" / "guest"
NAMES = sorted(p.stem for p in GUEST_DIR.glob("*.c"))
FLAVOURS = ["musl", "glibc"]


def directives(name):
    text = (GUEST_DIR / f"{name}.c").read_text()
    found = re.search(r"osprey:([^\n]*)", text)
    opts = {"cpus": "2", "memory": "256M", "timeout": "60"}
    if found:
        for word in found.group(1).split():
            key, _, value = word.partition("=")
            opts[key] = value
    return opts


def binary(name, flavour):
    path = BUILD / "tests" / "guest" / f"{name}.{flavour}"
    assert path.exists(), f"{path} missing: run make check"
    return path


def guest_rootfs(tmp_path, exe):
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_bytes("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    fs.add_bytes("/etc/group", b"root:x:0:\n")
    fs.add_program("/bin/" + exe.name, exe)
    return fs.write(tmp_path / "root.cpio")


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("name", NAMES)
def test_native(name, flavour):
    """The test is right: it passes on the host's Linux."""
    exe = binary(name, flavour)
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, cwd="/tmp")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("name", NAMES)
def test_in_osprey(tmp_path, osprey, name, flavour):
    exe = binary(name, flavour)
    opts = directives(name)
    initrd = guest_rootfs(tmp_path, exe)
    timeout = float(opts["timeout"])
    # --tty: the console is a terminal, as for a program started from a shell
    cmd = [osprey, "run", "--tty", "-c", opts["cpus"], "-m", opts["memory"], "--initrd", initrd,
           "--timeout", str(int(scaled(timeout))), "--", "--cwd=/tmp", "/bin/" + exe.name]
    p = run(cmd, timeout + 30)
    failures = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
    assert p.returncode == 0 and not failures, f"status {p.returncode}\n" + p.stdout[-4000:] + p.stderr[-3000:]
