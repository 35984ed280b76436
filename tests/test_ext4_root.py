"""The root file system on a disk: --rootfs=/dev/vblk0 boots a program from
an image made with mkfs.ext4 -d (and its writes are on the disk afterwards,
e2fsck clean); --mount-fs and the root's /etc/fstab mount more disks at
boot; bad values stop the boot with one clear line. Then `osprey build
--format ext4`: a Python image boots on microvm and q35, every run starts
from the image as built, and the VMM command lines attach the disk first."""
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, OSPREY, osprey_boot, osprey_build, osprey_cmd, run, scaled
from rootfs import Rootfs

SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/sbin", "/usr/sbin"])
MKFS = shutil.which("mkfs.ext4", path=SBIN)
E2FSCK = shutil.which("e2fsck", path=SBIN)
DEBUGFS = shutil.which("debugfs", path=SBIN)
DUMPE2FS = shutil.which("dumpe2fs", path=SBIN)
BUSYBOX = pathlib.Path("/bin/busybox")
pytestmark = [pytest.mark.skipif(MKFS is None, reason="mkfs.ext4 missing (install e2fsprogs)"),
              pytest.mark.skipif(not BUSYBOX.exists(), reason="busybox-static missing (scripts/setup installs it)")]


def mkfs(img, src, size_mb=32):
    with open(img, "wb") as f:
        f.truncate(size_mb << 20)
    subprocess.run([MKFS, "-q", "-F", "-E", "root_owner=0:0", "-d", str(src), str(img)], check=True,
                   capture_output=True)
    return img


def root_tree(path, fstab=None):
    """busybox, a file to read, the kernel's mount points, maybe an fstab."""
    for d in ("bin", "etc", "dev", "proc", "sys", "tmp"):
        (path / d).mkdir(parents=True)
    shutil.copy(BUSYBOX, path / "bin" / "busybox")
    (path / "etc" / "greeting").write_text("hello from the disk\n")
    if fstab is not None:
        (path / "etc" / "fstab").write_text(fstab)
    return path


def data_disk(tmp_path, name, text):
    src = tmp_path / f"src-{name}"
    src.mkdir()
    (src / "marker").write_text(text)
    return mkfs(tmp_path / f"{name}.img", src, 16)


def boot_disks(disks, words, vmm="microvm", initrd=None, timeout=60):
    args = ["--vmm", vmm, "-m", "256M"]
    for d in disks:
        args += ["--disk", d]
    if initrd:
        args += ["--initrd", initrd]
    return osprey_boot(*args, "--", *words, timeout=timeout)


def sh(script):
    return ["/bin/busybox", "sh", "-c", script]


def debugfs_cat(img, path):
    return subprocess.run([DEBUGFS, "-R", f"cat {path}", str(img)], capture_output=True).stdout


def assert_clean(img):
    fsck = subprocess.run([E2FSCK, "-fn", str(img)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    head = subprocess.run([DUMPE2FS, "-h", str(img)], capture_output=True, text=True).stdout
    assert "Filesystem state:         clean" in head, head


# the shell reads /proc/mounts itself: in a child, /proc/self would be the child
MOUNTS = 'while read l; do echo "M $l"; done < /proc/mounts'


@pytest.mark.parametrize("vmm", ["microvm", "q35"])
def test_root_on_a_disk(tmp_path, vmm):
    img = mkfs(tmp_path / "root.img", root_tree(tmp_path / "root"))
    p = boot_disks([img], ["--rootfs=/dev/vblk0", *sh(
        f"busybox cat /etc/greeting; {MOUNTS}; echo written at run time > /etc/new; busybox mkdir -p /var/a/b; "
        "echo deep > /var/a/b/c; busybox rm /etc/greeting; echo tmp > /tmp/t && busybox cat /tmp/t")], vmm)
    out = p.stdout.replace("\r", "")
    assert p.returncode == 0, p
    assert out.startswith("hello from the disk\n") and out.endswith("tmp\n"), p
    mounts = {l.split()[2]: l.split() for l in out.splitlines() if l.startswith("M ")}
    assert mounts["/"][1:4] == ["/dev/vblk0", "/", "ext4"] and mounts["/"][4].startswith("rw"), out
    assert mounts["/dev"][3] == "devtmpfs" and mounts["/tmp"][3] == "tmpfs", out
    assert mounts["/proc"][3] == "proc" and mounts["/sys"][3] == "sysfs", out
    assert "panic" not in p.stderr.lower(), p.stderr
    # the writes are on the disk, and it was left clean though never unmounted
    assert_clean(img)
    assert debugfs_cat(img, "/etc/new") == b"written at run time\n"
    assert debugfs_cat(img, "/var/a/b/c") == b"deep\n"
    assert debugfs_cat(img, "/etc/greeting") == b""
    assert debugfs_cat(img, "/tmp/t") == b"", "/tmp is a tmpfs over the disk's /tmp"


def test_fstab_and_mount_fs(tmp_path):
    fstab = ("# the image's mounts\n"
             "/dev/vblk0  /        ext4  defaults  0 1\n"
             "proc        /proc    proc  defaults  0 0\n"
             "/dev/vblk1  /data    ext4  defaults  0 2\n"
             "/dev/vblk9  /never   ext4  noauto    0 0\n"
             "/dev/vblk8  /maybe   ext4  nofail    0 0\n")
    root = mkfs(tmp_path / "root.img", root_tree(tmp_path / "root", fstab))
    data = data_disk(tmp_path, "data", "data disk\n")
    extra = data_disk(tmp_path, "extra", "extra disk\n")
    p = boot_disks([root, data, extra], ["--rootfs=/dev/vblk0", "--mount-fs=ext4,/dev/vblk2,/mnt/extra,ro", *sh(
        f"busybox cat /data/marker /mnt/extra/marker; {MOUNTS}; echo out > /data/out; "
        "echo x > /mnt/extra/x || echo refused; test -e /never || echo no-never; busybox ls -A /maybe | busybox wc -l")])
    out = p.stdout.replace("\r", "")
    assert p.returncode == 0, p
    lines = out.splitlines()
    assert lines[:2] == ["data disk", "extra disk"], p
    mounts = {l.split()[2]: l.split() for l in lines if l.startswith("M ")}
    assert mounts["/data"][1] == "/dev/vblk1" and mounts["/data"][4].startswith("rw"), out
    assert mounts["/mnt/extra"][1] == "/dev/vblk2" and mounts["/mnt/extra"][4].startswith("ro"), out
    assert "/never" not in mounts and "/maybe" not in mounts, out
    assert "refused" in lines and "Read-only file system" in p.stdout + p.stderr, p
    assert [lines[-2], lines[-1].strip()] == ["no-never", "0"], "noauto and nofail mount points stay empty"
    assert "cannot mount /dev/vblk8 on /maybe" in p.stderr and "nofail" in p.stderr, p.stderr
    assert_clean(data)
    assert debugfs_cat(data, "/out") == b"out\n"


@pytest.fixture(scope="module")
def busybox_cpio(tmp_path_factory):
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_program("/bin/busybox", BUSYBOX)
    return fs.write(tmp_path_factory.mktemp("bb") / "root.cpio")


def test_bad_values_stop_the_boot(tmp_path, busybox_cpio):
    """Each refused with exit status 125 and a line naming the problem; the
    program never runs, and nothing panics."""
    root = mkfs(tmp_path / "root.img", root_tree(tmp_path / "root", "/dev/vblk4 /gone ext4 defaults 0 2\n"))
    blank = tmp_path / "blank.img"
    blank.write_bytes(bytes(8 << 20))
    cases = [
        ([root], None, ["--rootfs=zfs"], 'boot option --rootfs: "zfs" is not initrd, ext4 or a disk'),
        ([root], None, ["--rootfs=vblk0"], 'boot option --rootfs: "vblk0"'),
        ([root], None, ["--rootfs=/dev/vblk3"], "--rootfs=/dev/vblk3: no disk /dev/vblk3"),
        ([blank], None, ["--rootfs=/dev/vblk0"], "--rootfs=/dev/vblk0: cannot mount /dev/vblk0 as the root"),
        ([root], None, ["--rootfs=/dev/vblk0"], "fstab: cannot mount /dev/vblk4 on /gone (ext4)"),
        ([], busybox_cpio, ["--mount-fs=ext4,/dev/vblk0"], 'boot option --mount-fs: "ext4,/dev/vblk0" is not TYPE'),
        ([], busybox_cpio, ["--mount-fs=ext4,/dev/vblk0,data"], "is not TYPE,DEVICE,DIR[,OPTIONS] with an absolute"),
        ([blank], busybox_cpio, ["--mount-fs=ext4,/dev/vblk5,/x"], "--mount-fs=ext4,/dev/vblk5,/x: cannot mount"),
        ([blank], busybox_cpio, ["--mount-fs=ext4,/dev/vblk0,/x"], "--mount-fs=ext4,/dev/vblk0,/x: cannot mount"),
    ]
    for disks, initrd, opts, message in cases:
        p = boot_disks(disks, [*opts, *sh("echo the program ran")], initrd=initrd, timeout=30)
        assert p.returncode == 125 and message in p.stderr, (opts, p)
        assert "the program ran" not in p.stdout and "panic" not in p.stderr.lower(), (opts, p)


# ---- osprey build --format ext4 ----

SCRIPT = """import os, sys
print("python", sys.version_info[0])
print("state before:", os.path.exists("/state"))
with open("/state", "w") as f:
    f.write("written by this run")
os.makedirs("/var/lib/app", exist_ok=True)
print("state after:", open("/state").read())
print("root:", [l.split()[:3] for l in open("/proc/self/mounts") if l.split()[1] == "/"])
"""


@pytest.fixture(scope="module")
def python_ext4(tmp_path_factory):
    py = pathlib.Path("/usr/bin/python3")
    stdlib = sorted(pathlib.Path("/usr/lib").glob("python3.[0-9]*"))
    if not py.exists() or not stdlib:
        pytest.skip("no Debian python3 on this host")
    d = tmp_path_factory.mktemp("pyext4")
    (d / "app.py").write_text(SCRIPT)
    img = d / "py.img"
    osprey_build(img, "--format", "ext4", "--from-host", py, "--from-host", stdlib[-1],
                 "--file", f"/app/app.py={d / 'app.py'}", "--", py, "/app/app.py", timeout=300)
    return img


def test_ext4_image_is_format_2_with_the_disk_section(python_ext4):
    p = osprey_cmd("inspect", python_ext4)
    assert p.returncode == 0, p
    assert "(format 2," in p.stdout and "checksums ok" in p.stdout, p.stdout
    m = re.search(r"rootfs:   ext4 disk, (\d+) bytes at offset (\d+)", p.stdout)
    assert m and int(m.group(2)) % 4096 == 0, p.stdout
    # the section is a file system e2fsck finds clean, with the files in it
    disk = pathlib.Path(f"{python_ext4}?offset={m.group(2)}")
    fsck = subprocess.run([E2FSCK, "-fn", str(disk)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    stat = subprocess.run([DEBUGFS, "-R", "stat /app/app.py", str(disk)], capture_output=True, text=True).stdout
    assert re.search(r"User:\s+0\s+Group:\s+0", stat) and "Type: regular    Mode:  0644" in stat, stat
    assert debugfs_cat(disk, "/app/app.py") == SCRIPT.encode()


@pytest.mark.parametrize("vmm", ["microvm", "q35"])
def test_ext4_image_runs_python_and_each_run_starts_afresh(python_ext4, vmm):
    before = python_ext4.stat()
    for _ in range(2):
        p = osprey_boot("--vmm", vmm, python_ext4, timeout=120)
        out = p.stdout.replace("\r", "").splitlines()
        assert p.returncode == 0, p
        assert out == ["python 3", "state before: False", "state after: written by this run",
                       "root: [['/dev/vblk0', '/', 'ext4']]"], p
    after = python_ext4.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns), "the image is untouched"


@pytest.fixture(scope="module")
def small_ext4(tmp_path_factory):
    d = tmp_path_factory.mktemp("bbext4")
    img = d / "bb.img"
    osprey_build(img, "--format", "ext4", "--disk-size", "64M", "--from-host", BUSYBOX, "--",
                 BUSYBOX, "sh", "-c", "busybox cat /etc/passwd")
    return img


def test_dry_run_attaches_the_disk_first_on_every_vmm(small_ext4, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    extra = data_disk(tmp_path, "extra", "x\n")
    p = osprey_cmd("run", "--dry-run", small_ext4, "--disk", extra, env=env)
    assert p.returncode == 0, p
    assert "--rootfs=/dev/vblk0" in p.stdout and " -initrd " not in p.stdout, p.stdout
    drive = re.search(r"-drive file=([^ ]+),if=none,id=root,format=raw,offset=(\d+),size=67108864,snapshot=on "
                      r"-device virtio-blk-device,drive=root -drive file=[^ ]*extra.img", p.stdout)
    assert drive and drive.group(1) == str(small_ext4), p.stdout
    q35 = osprey_cmd("run", "--dry-run", "--vmm", "q35", small_ext4, env=env)
    assert "-device virtio-blk-pci,drive=root" in q35.stdout, q35.stdout
    fc = osprey_cmd("run", "--dry-run", "--vmm", "firecracker", small_ext4, "--disk", extra, env=env)
    assert fc.returncode == 0, fc
    cfg = json.loads(fc.stdout)
    assert "--rootfs=/dev/vblk0" in cfg["boot-source"]["boot_args"] and "initrd_path" not in cfg["boot-source"]
    assert [d["drive_id"] for d in cfg["drives"]] == ["root", "disk0"], cfg
    copy = pathlib.Path(cfg["drives"][0]["path_on_host"])
    assert copy.stat().st_size == 64 << 20 and not cfg["drives"][0]["is_read_only"]
    assert copy.read_bytes()[1024 + 56:1024 + 58] == b"\x53\xef", "an ext4 superblock"
    assert copy.stat().st_blocks * 512 < 32 << 20, "the copy keeps the holes"
    chv = osprey_cmd("run", "--dry-run", "--vmm", "cloud-hypervisor", small_ext4, env=env)
    assert chv.returncode == 0 and re.search(r"--disk path=\S+/root\.ext4", chv.stdout), chv
    assert "--rootfs=/dev/vblk0" in chv.stdout and "--initramfs" not in chv.stdout, chv.stdout


def test_a_damaged_disk_section_never_boots(small_ext4, tmp_path):
    bad = tmp_path / "bad.img"
    subprocess.run(["cp", "--sparse=always", str(small_ext4), str(bad)], check=True)
    off = int(re.search(r"offset (\d+)", osprey_cmd("inspect", bad).stdout).group(1))
    with open(bad, "r+b") as f:
        f.seek(off + 1024 + 100)
        f.write(b"\xff")
    p = osprey_boot(bad, timeout=30)
    assert p.returncode == 125 and "checksum mismatch" in p.stderr, p
    assert osprey_cmd("inspect", bad).returncode == 125


def test_a_too_small_disk_size_is_refused(tmp_path):
    p = osprey_cmd("build", "-o", tmp_path / "x.img", "--format", "ext4", "--disk-size", "1M",
                   "--from-host", BUSYBOX, timeout=60)
    assert p.returncode == 125 and "--disk-size 1M is too small" in p.stderr, p
    assert not (tmp_path / "x.img").exists()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to drop to nobody")
def test_files_are_root_s_when_built_by_another_user():
    """mkfs.ext4 -d copies the owners of the files it is given: built as
    nobody, osprey runs it in a user namespace where nobody is root."""
    import tempfile
    d = pathlib.Path(tempfile.mkdtemp(prefix="osprey-nobody-"))
    try:
        d.chmod(0o777)
        p = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", f"TMPDIR={d}", OSPREY,
                 "build", "-q", "-o", d / "bb.img", "--format", "ext4", "--kernel", BUILD / "kernel.elf",
                 "--from-host", BUSYBOX, "--", BUSYBOX, "true"], 60)
        if "no user namespace here" in p.stderr:
            pytest.skip("user namespaces are disabled on this host")
        assert p.returncode == 0, p
        assert sorted(x.name for x in d.iterdir()) == ["bb.img"], "the work directory is removed"
        off = re.search(r"offset (\d+)", osprey_cmd("inspect", d / "bb.img").stdout).group(1)
        stat = subprocess.run([DEBUGFS, "-R", "stat /bin/busybox", f"{d / 'bb.img'}?offset={off}"],
                              capture_output=True, text=True).stdout
        assert re.search(r"User:\s+0\s+Group:\s+0", stat), stat
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_ext4_builds_are_reproducible(small_ext4, tmp_path):
    """The same inputs give the same bytes: mkfs.ext4's UUID, hash seed and
    clock, and the ctimes it copies from the files osprey wrote, are all
    pinned (a second later, so a stray clock reading would show)."""
    import time
    time.sleep(1.1)
    again = tmp_path / "bb.img"
    osprey_build(again, "--format", "ext4", "--disk-size", "64M", "--from-host", BUSYBOX, "--",
                 BUSYBOX, "sh", "-c", "busybox cat /etc/passwd")
    assert again.read_bytes() == small_ext4.read_bytes()
