"""ext4 inside Osprey: images made here with mkfs.ext4 -d are mounted by a
guest program (tests/guest/ext4_rw.c) that reads every file back against a
manifest, then writes, renames, links and truncates, and checks it all again
after a remount. The image travels in the initrd and is mounted as a file
(as with mount -o loop), so this needs no disk device; corrupt images must be
refused with a log line, never a crash. The host unit tests
(tests/unit/test_ext4*.c) cover the on-disk format in depth."""
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import BUILD, run, scaled
from rootfs import Rootfs

SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/sbin", "/usr/sbin"])
MKFS = shutil.which("mkfs.ext4", path=SBIN)
E2FSCK = shutil.which("e2fsck", path=SBIN)
pytestmark = pytest.mark.skipif(MKFS is None, reason="mkfs.ext4 missing (install e2fsprogs)")

FEATURES = {
    "ext4": "-b 4096 -O none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg,sparse_super,"
            "large_file,huge_file,dir_nlink,extra_isize,metadata_csum,64bit",
    "ext4-1k": "-b 1024 -O none,ext_attr,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file,"
               "dir_nlink,extra_isize,metadata_csum",
    "ext2": "-b 1024 -I 128 -O none,ext_attr,resize_inode,filetype,sparse_super,large_file",
}
NOCSUM = "-b 4096 -O none,ext_attr,dir_index,filetype,extent,flex_bg,sparse_super,large_file,dir_nlink,extra_isize"


FNV_PRIME, FNV_START, MASK = 0x100000001b3, 0xcbf29ce484222325, (1 << 64) - 1


def fnv(data, h=FNV_START):
    """FNV-1a 64, as tests/guest/ext4_rw.c computes it."""
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def fnv_zeros(n, h=FNV_START):
    """fnv() of n zero bytes: each only multiplies by the prime."""
    return (h * pow(FNV_PRIME, n, 1 << 64)) & MASK


def make_tree(root):
    """A tree with the interesting cases, and its manifest lines."""
    root.mkdir()
    lines = []

    def add_file(rel, data):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        lines.append(f"f {rel} {len(data)} {fnv(data):x}")

    for size in (0, 1, 4095, 4096, 4097, 300000):
        add_file(f"files/size-{size}", bytes((i * 7 + size) & 0xFF for i in range(size)))
    add_file("files/random", os.urandom(1 << 20))
    deep = "/".join(f"d{i}" for i in range(30))
    add_file(f"{deep}/bottom", b"at the bottom\n")
    big = root / "big"
    big.mkdir()
    for i in range(3000):
        (big / f"entry-{i:05d}-with-a-long-name").touch()
    lines.append("d big 3000")
    (root / "fast").symlink_to("files/size-1")
    (root / "slow").symlink_to("x" * 100 + "/target")
    lines.append("l fast files/size-1")
    lines.append("l slow " + "x" * 100 + "/target")
    with open(root / "sparse", "wb") as f:
        f.seek(50 << 20)
        f.write(b"sparse end")
    lines.append(f"f sparse {(50 << 20) + 10} {fnv(b'sparse end', fnv_zeros(50 << 20)):x}")
    return "\n".join(lines) + "\n"


def make_image(tmp_path, kind, size_mb=160):
    src = tmp_path / "src"
    manifest = make_tree(src)
    img = tmp_path / f"{kind}.img"
    with open(img, "wb") as f:
        f.truncate(size_mb << 20)
    cmd = [MKFS, "-q", "-F", *FEATURES.get(kind, NOCSUM).split(), "-d", str(src), str(img)]
    subprocess.run(cmd, check=True, capture_output=True)
    if "ext4" in kind:  # index the large directory, as a long-lived file system has it
        subprocess.run([E2FSCK, "-fyD", str(img)], capture_output=True)
    return img, manifest


def boot_with_image(tmp_path, img, args, memory="512M", timeout=240):
    exe = BUILD / "tests" / "guest" / "ext4_rw.musl"
    assert exe.exists(), f"{exe} missing: run make check"
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_program("/bin/ext4_rw", exe)
    fs.add_bytes("/disk.img", pathlib.Path(img).read_bytes())
    for name, data in args.get("files", {}).items():
        fs.add_bytes(name, data.encode())
    initrd = fs.write(tmp_path / "root.cpio")
    cmd = [BUILD / "osprey", "run", "-m", memory, "--initrd", initrd, "--timeout", str(int(scaled(timeout))),
           "--", "--verbose", "/bin/ext4_rw", *args["argv"]]
    return run(cmd, timeout + 60)


@pytest.mark.parametrize("kind", sorted(FEATURES))
def test_guest_reads_and_writes_ext4(tmp_path, osprey, kind):
    img, manifest = make_image(tmp_path, kind)
    p = boot_with_image(tmp_path, img, {"argv": ["/disk.img", "/mnt", "/manifest"], "files": {"/manifest": manifest}})
    failures = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
    assert p.returncode == 0 and not failures, p.stdout[-5000:] + p.stderr[-3000:]
    assert "files of the manifest read back" in p.stdout
    assert "ext4: /disk.img: mounted read-write" in p.stderr, p.stderr[-2000:]


def corrupt(img, offset, data):
    with open(img, "r+b") as f:
        f.seek(offset)
        f.write(data)


DAMAGE = [  # (checksums?, what, offset, bytes, the log line that names it)
    (False, "magic", 1024 + 0x38, b"\x00\x00", "no ext2/ext3/ext4 superblock"),
    (False, "block size", 1024 + 0x18, b"\x09\x00\x00\x00", "block size"),
    (False, "incompat feature", 1024 + 0x60 + 3, b"\x80", "unsupported incompatible features"),
    (False, "inode count", 1024 + 0x00, b"\x01\x00\x00\x00", "inodes do not match"),
    (True, "superblock checksum", 1024 + 0x100, b"\xff", "superblock checksum mismatch"),
    (True, "group descriptor", 4096 + 8, b"\xff\xff\xff\x7f", "group 0 descriptor checksum mismatch"),
]


def test_damaged_images_are_refused(tmp_path, osprey):
    """One boot, one damaged image per case: each mount fails with a log line
    naming the defect, and the kernel carries on."""
    src = tmp_path / "small"
    src.mkdir()
    (src / "file").write_bytes(b"x" * 10000)
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_program("/bin/ext4_rw", BUILD / "tests" / "guest" / "ext4_rw.musl")
    names = []
    for i, (csum, what, offset, data, _) in enumerate(DAMAGE):
        img = tmp_path / f"d{i}.img"
        with open(img, "wb") as f:
            f.truncate(8 << 20)
        opts = FEATURES["ext4"] if csum else NOCSUM
        subprocess.run([MKFS, "-q", "-F", *opts.split(), "-d", str(src), str(img)], check=True, capture_output=True)
        corrupt(img, offset, data)
        fs.add_bytes(f"/d{i}.img", img.read_bytes())
        names.append(f"/d{i}.img")
    initrd = fs.write(tmp_path / "root.cpio")
    p = run([BUILD / "osprey", "run", "-m", "256M", "--initrd", initrd, "--timeout", str(int(scaled(60))),
             "--", "/bin/ext4_rw", "--refused", *names], 90)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    lines = p.stderr.splitlines()
    for (_, what, _, _, message), name in zip(DAMAGE, names):
        assert any(f"ext4: {name[1:]}: refused:" in l and message in l for l in lines), (what, p.stderr[-3000:])
    assert "panic" not in p.stderr.lower(), p.stderr[-3000:]


def pattern(n, seed):
    """What ext4_rw.c writes: byte i is i*31 + seed + i/4096 (mod 256)."""
    return bytes((i * 31 + seed + (i >> 12)) & 0xFF for i in range(n))


def debugfs_cat(img, path):
    p = subprocess.run([shutil.which("debugfs", path=SBIN), "-R", f"cat {path}", str(img)], capture_output=True)
    return p.stdout


@pytest.mark.parametrize("vmm", ["microvm", "q35"])
def test_guest_writes_reach_the_disk(tmp_path, osprey, vmm):
    """A virtio-blk disk: after the VM stops, e2fsck finds the file system
    clean and the guest's files are on it, byte for byte."""
    img, manifest = make_image(tmp_path, "ext4")
    exe = BUILD / "tests" / "guest" / "ext4_rw.musl"
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_program("/bin/ext4_rw", exe)
    fs.add_bytes("/manifest", manifest.encode())
    initrd = fs.write(tmp_path / "root.cpio")
    cmd = [BUILD / "osprey", "run", "--vmm", vmm, "-m", "512M", "--initrd", initrd, "--disk", img,
           "--timeout", str(int(scaled(240))), "--", "--verbose", "/bin/ext4_rw", "/dev/vblk0", "/mnt", "/manifest"]
    p = run(cmd, 300)
    failures = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
    assert p.returncode == 0 and not failures, p.stdout[-5000:] + p.stderr[-3000:]
    assert "ext4: /dev/vblk0: mounted read-write" in p.stderr, p.stderr[-2000:]
    fsck = subprocess.run([E2FSCK, "-fn", str(img)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    for i, size in enumerate((0, 1, 4095, 4096, 100000, 3 << 20)):
        idx = (0, 1, 4095, 4096, 4097, 100000, 1 << 20, 3 << 20).index(size)
        assert debugfs_cat(img, f"/osprey-written/size-{size}") == pattern(size, idx), f"size-{size}"
    assert debugfs_cat(img, "/osprey-written/hard") == pattern(4097, 4)
    assert debugfs_cat(img, "/osprey-written/size-1048576") == pattern(1000, 6)
    assert debugfs_cat(img, "/files/size-300000") == (tmp_path / "src/files/size-300000").read_bytes()


@pytest.mark.parametrize("vmm,transport,globals_", [
    ("q35", "pci-legacy", ["-global", "virtio-blk-pci.disable-modern=on"]),
    ("microvm", "mmio", ["-global", "virtio-mmio.force-legacy=false"]),
])
def test_guest_writes_reach_the_disk_on_other_transports(tmp_path, osprey, vmm, transport, globals_):
    """The same program on legacy virtio-pci and modern virtio-mmio (the test
    above covers modern PCI on q35 and legacy MMIO on microvm)."""
    import shlex
    from conftest import debug_exit_status
    img, manifest = make_image(tmp_path, "ext4")
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_program("/bin/ext4_rw", BUILD / "tests" / "guest" / "ext4_rw.musl")
    fs.add_bytes("/manifest", manifest.encode())
    initrd = fs.write(tmp_path / "root.cpio")
    dry = run([BUILD / "osprey", "run", "--dry-run", "--vmm", vmm, "-m", "512M", "--initrd", initrd, "--disk", img,
               "--", "--verbose", "/bin/ext4_rw", "/dev/vblk0", "/mnt", "/manifest"], 10)
    assert dry.returncode == 0, dry.stderr
    p = run(shlex.split(dry.stdout) + globals_, scaled(240))
    failures = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
    assert debug_exit_status(p.returncode) == 0 and not failures, p.stdout[-4000:] + p.stderr[-3000:]
    assert f"({transport})" in p.stderr, p.stderr[-3000:]
    fsck = subprocess.run([E2FSCK, "-fn", str(img)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert debugfs_cat(img, "/osprey-written/size-4096") == pattern(4096, 3)
    assert debugfs_cat(img, "/osprey-written/hard") == pattern(4097, 4)


def test_boot_mounts_fstab_and_shutdown(tmp_path, osprey):
    """The in-kernel self-test --test=ext4 on two disks: --mount-fs syntax,
    an fstab, one mount per disk, sync; at the end both disks are marked
    clean although never unmounted, and the file written is on the disk."""
    disks = []
    for name in ("a", "b"):
        src = tmp_path / f"src-{name}"
        src.mkdir()
        (src / "hello").write_bytes(b"hello\n")
        img = tmp_path / f"{name}.img"
        with open(img, "wb") as f:
            f.truncate(16 << 20)
        subprocess.run([MKFS, "-q", "-F", *FEATURES["ext4"].split(), "-d", str(src), str(img)], check=True,
                       capture_output=True)
        disks += ["--disk", str(img)]
    p = run([BUILD / "osprey", "run", "-m", "256M", *disks, "--timeout", str(int(scaled(60))),
             "--", "--test=ext4"], 90)
    assert p.returncode == 0 and "FAIL" not in p.stdout + p.stderr, p.stdout[-3000:] + p.stderr[-3000:]
    dumpe2fs = shutil.which("dumpe2fs", path=SBIN)
    for name in ("a", "b"):
        img = tmp_path / f"{name}.img"
        fsck = subprocess.run([E2FSCK, "-fn", str(img)], capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout
        head = subprocess.run([dumpe2fs, "-h", str(img)], capture_output=True, text=True).stdout
        assert "Filesystem state:         clean" in head, head
    assert debugfs_cat(tmp_path / "a.img", "/written") == b"written by the self-test\n"
