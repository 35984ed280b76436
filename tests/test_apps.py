"""Real applications from Debian's packages, unmodified, inside Osprey:
busybox's shell, Python 3 with its standard library. Each
result is compared with what the same program does on the host."""
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT, run, scaled
from rootfs import Rootfs, shared_libraries

BUSYBOX = pathlib.Path("/bin/busybox")
PYTHON = pathlib.Path("/usr/bin/python3.11")
PY_LIB = pathlib.Path("/usr/lib/python3.11")
PY_SKIP = {"test", "idlelib", "tkinter", "ensurepip", "lib2to3", "turtledemo", "pydoc_data",
           "config-3.11-x86_64-linux-gnu"}


def boot(osprey, initrd, argv, cpus=2, memory="256M", timeout=60, stdin=None):
    cmd = [osprey, "run", "-c", str(cpus), "-m", memory, "--initrd", initrd,
           "--timeout", str(int(scaled(timeout))), "--", *argv]
    return run(cmd, timeout + 30, **({"input": stdin} if stdin is not None else {}))


def base_rootfs():
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_bytes("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    fs.add_bytes("/etc/group", b"root:x:0:\n")
    return fs


@pytest.fixture(scope="module")
def busybox_initrd(tmp_path_factory):
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed (scripts/setup installs it)")
    fs = base_rootfs()
    fs.add_program("/bin/busybox", BUSYBOX)
    return fs.write(tmp_path_factory.mktemp("busybox") / "root.cpio")


def test_busybox_shell_loop(osprey, busybox_initrd):
    p = boot(osprey, busybox_initrd, ["/bin/busybox", "sh", "-c", "for i in 1 2 3; do echo $i; done"])
    assert p.returncode == 0, p
    assert p.stdout.replace("\r", "") == "1\n2\n3\n", p


def test_busybox_shell_exit_status_and_builtins(osprey, busybox_initrd):
    script = 'x=0; while [ $x -lt 5 ]; do x=$((x+1)); done; echo "x=$x"; test -d /tmp && echo dir; exit 7'
    p = boot(osprey, busybox_initrd, ["/bin/busybox", "sh", "-c", script])
    assert p.returncode == 7, p
    assert p.stdout.replace("\r", "") == "x=5\ndir\n", p


@pytest.fixture(scope="module")
def python_initrd(tmp_path_factory):
    if not PYTHON.exists():
        pytest.skip("python3.11 is not installed")
    fs = base_rootfs()
    fs.add_program("/usr/bin/python3", PYTHON)
    for dirpath, dirs, files in os.walk(PY_LIB):
        rel = pathlib.Path(dirpath).relative_to(PY_LIB)
        if rel.parts and rel.parts[0] in PY_SKIP:
            dirs[:] = []
            continue
        for name in files:
            path = pathlib.Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            fs.add_file(str(path), path)
            if name.endswith(".so"):
                for lib in shared_libraries(path):
                    fs.add_file(lib, lib)
    return fs.write(tmp_path_factory.mktemp("python") / "root.cpio")


PY_SCRIPT = ("import json, threading, hashlib, os, sys\n"
             "out = []\n"
             "def work(i): out.append(hashlib.sha256(str(i).encode()).hexdigest()[:8])\n"
             "ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
             "[t.start() for t in ts]; [t.join() for t in ts]\n"
             "print(json.dumps({'hashes': sorted(out), 'cwd': os.getcwd(), 'argv': sys.argv[1:]}))\n")


def test_python_standard_library(osprey, python_initrd):
    host = subprocess.run([str(PYTHON), "-c", PY_SCRIPT, "a", "b"], capture_output=True, text=True, cwd="/")
    p = boot(osprey, python_initrd, ["/usr/bin/python3", "-c", PY_SCRIPT, "a", "b"], memory="512M")
    assert p.returncode == 0, p
    assert p.stdout.replace("\r", "") == host.stdout, p


def test_python_exception_exit_status(osprey, python_initrd):
    p = boot(osprey, python_initrd, ["/usr/bin/python3", "-c", "import sys; sys.exit(3)"], memory="512M")
    assert p.returncode == 3, p
    p = boot(osprey, python_initrd, ["/usr/bin/python3", "-c", "raise ValueError('boom')"], memory="512M")
    assert p.returncode == 1 and "ValueError: boom" in p.stdout.replace("\r", ""), p




def test_busybox_shell_pipelines_and_applets(osprey, busybox_initrd):
    """The shell forks and execs applets (busybox --install makes the links),
    joins them with pipes, waits for each and sees their statuses."""
    script = ("/bin/busybox --install -s /bin; "
              "mkdir -p /tmp/d && cd /tmp/d && for f in c a b; do echo $f > $f.txt; done; "
              "ls | sort -r | tr '\\n' ' '; echo; "
              "cat a.txt b.txt c.txt | wc -l; "
              "echo $(seq 1 10 | grep -c 1) subst; "
              "false | true; echo pipe=$?; "
              "(exit 3); echo sub=$?; "
              "sleep 0.1 & wait $!; echo bg=$?")
    p = boot(osprey, busybox_initrd, ["/bin/busybox", "sh", "-c", script])
    assert p.returncode == 0, p
    assert p.stdout.replace("\r", "") == "c.txt b.txt a.txt \n3\n2 subst\npipe=0\nsub=3\nbg=0\n", p


def test_busybox_file_tools_round_trip(osprey, busybox_initrd, tmp_path):
    """busybox's file tools on /tmp and /proc: listing, find, sort, sed, awk,
    a tar + gzip round trip, and md5sum agreeing with the host's result."""
    data = "".join(f"line {i} {'x' * (i % 37)}\n" for i in range(2000))
    script = ("/bin/busybox --install -s /bin; cd /tmp; "
              "ls -la /proc/self/ | grep -q ' exe -> ' && echo proc-self-ok; "
              "grep -c '^processor' /proc/cpuinfo; "
              "mkdir -p t/a/b && cat /data > t/a/b/f && echo hi > t/a/g; "
              "find t -type f | sort; "
              "sed -n 's/^line 1999 .*/last/p' t/a/b/f; "
              "awk '{n += length($0)} END {print n}' t/a/b/f; "
              "tar cf t.tar t && gzip -9 t.tar && rm -r t && gunzip t.tar.gz && tar xf t.tar; "
              "md5sum t/a/b/f | cut -d' ' -f1; cmp t/a/b/f /data && echo same")
    fs = base_rootfs()
    fs.add_program("/bin/busybox", BUSYBOX)
    fs.add_bytes("/data", data.encode())
    initrd = fs.write(tmp_path / "root.cpio")
    p = boot(osprey, initrd, ["/bin/busybox", "sh", "-c", script])
    assert p.returncode == 0, p
    import hashlib
    expect = ["proc-self-ok", "2", "t/a/b/f", "t/a/g", "last",
              str(sum(len(l) for l in data.splitlines())), hashlib.md5(data.encode()).hexdigest(), "same"]
    assert p.stdout.replace("\r", "").split("\n")[:-1] == expect, p
