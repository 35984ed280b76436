"""virtio-blk and the block layer on every transport: QEMU microvm (virtio-mmio
v1 and v2, from the command line and from ACPI), q35 and pc (virtio-pci modern
and legacy, MSI-X and INTx), 1 and 2 CPUs. Each run boots the in-kernel
self-test --test=blk (kernel/drivers/block/blk_selftest.c) on a disk image
holding a known pattern, then checks on the host what the guest wrote."""
import array
import hashlib
import re
import shlex

import pytest

from conftest import OSPREY, boot, debug_exit_status, run

DISK_MB = 8
# Where blk_selftest.c writes, as offsets from the middle of the disk.
W_PATTERN_OFF, W_PATTERN_LEN = 0, 256 << 10
W_UNALIGNED_OFF, W_UNALIGNED_LEN = (300 << 10) + 100, 700
W_BCACHE_OFF = 512 << 10
W_ZERO_OFF, W_ZERO_LEN = 1 << 20, 64 << 10


def make_disk(path, mb=DISK_MB):
    """The pattern the self-test expects: the 32-bit word at byte b is b / 4."""
    path.write_bytes(array.array("I", range(mb * (1 << 20) // 4)).tobytes())
    return path


def words(data):
    a = array.array("I")
    a.frombytes(data)
    return a


def check_written(path):
    """The guest's writes are on the host file, and nothing else changed."""
    d = path.read_bytes()
    mid = len(d) // 2
    assert d[:mid] == array.array("I", range(mid // 4)).tobytes(), "the first half must be untouched"
    w = words(d[mid + W_PATTERN_OFF:mid + W_PATTERN_OFF + W_PATTERN_LEN])
    base = (mid + W_PATTERN_OFF) // 4
    assert all(w[i] == (base + i) ^ 0xdeadbeef for i in range(len(w))), "256 KiB pattern write"
    u = mid + W_UNALIGNED_OFF
    assert d[u:u + W_UNALIGNED_LEN] == b"\x5a" * W_UNALIGNED_LEN, "unaligned write"
    assert d[u - 100:u] == array.array("I", range((u - 100) // 4, u // 4)).tobytes(), "bytes before it"
    c = mid + W_BCACHE_OFF
    assert d[c:c + 16] == b"osprey bcache ok", "block written back from the cache"
    z = mid + W_ZERO_OFF
    assert d[z:z + W_ZERO_LEN] == bytes(W_ZERO_LEN), "write-zeroes"


def qemu_cmd(vmm, cpus, kernel_args, devices, machine_opts=None):
    """osprey's QEMU command line for vmm, with our devices added (and
    machine options replaced, e.g. acpi=on on microvm)."""
    proc = run([OSPREY, "run", "--vmm", vmm, "-c", str(cpus), "--dry-run", "--", *kernel_args], 10)
    assert proc.returncode == 0, proc.stderr
    argv = shlex.split(proc.stdout)
    if machine_opts:
        i = argv.index("-M")
        argv[i + 1] = machine_opts(argv[i + 1])
    return argv + devices


def boot_qemu(argv, timeout=60):
    proc = run(argv, timeout)
    proc.status = debug_exit_status(proc.returncode)
    proc.log = proc.stderr
    return proc


def drive(path, n=0, extra=""):
    return ["-drive", f"file={path},if=none,id=d{n},format=raw{extra}"]


# (id, vmm, cpus, device, transport in the log, machine option rewrite, extra QEMU args)
TRANSPORTS = [
    ("microvm-mmio-legacy-1cpu", "microvm", 1, "virtio-blk-device", "mmio-legacy", None, []),
    ("microvm-mmio-legacy-2cpu", "microvm", 2, "virtio-blk-device", "mmio-legacy", None, []),
    ("microvm-mmio-v2-2cpu", "microvm", 2, "virtio-blk-device", "mmio", None,
     ["-global", "virtio-mmio.force-legacy=false"]),
    ("microvm-acpi", "microvm", 1, "virtio-blk-device", "mmio-legacy",
     lambda m: m.replace("acpi=off", "acpi=on"), []),
    ("q35-modern-1cpu", "q35", 1, "virtio-blk-pci", "pci", None, []),
    ("q35-modern-2cpu-2queues", "q35", 2, "virtio-blk-pci,num-queues=2,disable-legacy=on", "pci", None, []),
    ("q35-legacy-2cpu", "q35", 2, "virtio-blk-pci,disable-modern=on", "pci-legacy", None, []),
    ("pc-modern-intx", "pc", 1, "virtio-blk-pci,vectors=0", "pci", None, []),
    ("pc-legacy-intx-2cpu", "pc", 2, "virtio-blk-pci,disable-modern=on,vectors=0", "pci-legacy", None, []),
]


@pytest.mark.parametrize("vmm,cpus,device,transport,mopts,extra",
                         [t[1:] for t in TRANSPORTS], ids=[t[0] for t in TRANSPORTS])
def test_blk_selftest_reads_writes_and_flushes(osprey, tmp_path, vmm, cpus, device, transport, mopts, extra):
    disk = make_disk(tmp_path / "disk.img")
    argv = qemu_cmd(vmm, cpus, ["--verbose", "--test=blk"],
                    [*extra, *drive(disk), "-device", f"{device},drive=d0"], mopts)
    p = boot_qemu(argv)
    assert p.status == 0, p.log[-3000:]
    assert "selftest blk: passed" in p.log, p.log[-3000:]
    assert "FAIL" not in p.log
    m = re.search(r"vblk0: 8 MiB \(16384 sectors\), block size 512, read-write, (\d) queues? .*\((\S+)\)", p.log)
    assert m, p.log[-3000:]
    assert m.group(2) == transport, m.group(0)
    if "num-queues=2" in device:
        assert m.group(1) == "2", m.group(0)
    check_written(disk)


def test_blk_interrupt_modes_are_logged(osprey, tmp_path):
    disk = make_disk(tmp_path / "disk.img")
    for device, mode in (("virtio-blk-pci", "msi-x"), ("virtio-blk-pci,vectors=0", "intx")):
        p = boot_qemu(qemu_cmd("q35", 1, ["--verbose"], [*drive(disk), "-device", f"{device},drive=d0"]))
        assert p.status == 0, p.log[-2000:]
        assert re.search(rf"virtio0: features offered \S+, accepted \S+, interrupts {mode}\n", p.log), p.log[-2000:]


@pytest.mark.parametrize("vmm,device", [("microvm", "virtio-blk-device"), ("q35", "virtio-blk-pci")])
def test_read_only_disk_refuses_writes(osprey, tmp_path, vmm, device):
    disk = make_disk(tmp_path / "disk.img")
    before = hashlib.sha256(disk.read_bytes()).hexdigest()
    p = boot_qemu(qemu_cmd(vmm, 1, ["--verbose", "--test=blk"],
                           [*drive(disk, extra=",readonly=on"), "-device", f"{device},drive=d0"]))
    assert p.status == 0, p.log[-3000:]
    assert "vblk0: 8 MiB (16384 sectors), block size 512, read-only" in p.log, p.log[-3000:]
    assert "a write to the read-only disk fails with -EROFS" in p.log
    assert "selftest blk: passed" in p.log
    assert hashlib.sha256(disk.read_bytes()).hexdigest() == before


def test_4k_logical_blocks(osprey, tmp_path):
    disk = make_disk(tmp_path / "disk.img")
    dev = "virtio-blk-pci,drive=d0,logical_block_size=4096,physical_block_size=4096"
    p = boot_qemu(qemu_cmd("q35", 1, ["--verbose", "--test=blk"], [*drive(disk), "-device", dev]))
    assert p.status == 0, p.log[-3000:]
    assert "vblk0: 8 MiB (16384 sectors), block size 4096" in p.log, p.log[-3000:]
    assert "selftest blk: passed" in p.log
    check_written(disk)


@pytest.mark.parametrize("vmm,device", [("microvm", "virtio-blk-device"), ("q35", "virtio-blk-pci")])
def test_two_disks_are_named_with_their_sizes(osprey, tmp_path, vmm, device):
    a, b = make_disk(tmp_path / "a.img", 8), make_disk(tmp_path / "b.img", 3)
    p = boot_qemu(qemu_cmd(vmm, 2, ["--verbose"], [*drive(a, 0), "-device", f"{device},drive=d0",
                                                    *drive(b, 1), "-device", f"{device},drive=d1"]))
    assert p.status == 0, p.log[-3000:]
    sizes = dict(re.findall(r"(vblk\d): (\d+ MiB) \(", p.log))
    assert sorted(sizes.values()) == ["3 MiB", "8 MiB"], p.log[-3000:]
    assert set(sizes) == {"vblk0", "vblk1"}


def test_osprey_run_disk_option(osprey, tmp_path):
    """The host tool's --disk attaches the same devices."""
    for vmm in ("microvm", "q35"):
        disk = make_disk(tmp_path / f"{vmm}.img")
        b = boot(["--verbose", "--test=blk"], vmm=vmm, extra=["--disk", str(disk)])
        assert b.status == 0, b
        assert "vblk0: 8 MiB (16384 sectors)" in b.log, b
        assert "selftest blk: passed" in b.log, b
        check_written(disk)


def test_blk_selftest_without_a_disk_fails_cleanly(osprey):
    b = boot(["--test=blk"])
    assert b.status == 1, b
    assert "FAIL vblk0 exists" in b.log, b


@pytest.mark.parametrize("vmm", ["microvm", "q35"])
def test_application_uses_the_disk_through_a_device_file(osprey, tmp_path, vmm):
    """An unmodified program (tests/guest/blk_devfile.c) reads and writes vblk0
    through its device node (character device 254:0)."""
    from conftest import BUILD, scaled
    from rootfs import Rootfs
    exe = BUILD / "tests" / "guest" / "blk_devfile.musl"
    assert exe.exists(), "run make check"
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_program("/bin/blk_devfile", exe)
    initrd = fs.write(tmp_path / "root.cpio")
    disk = make_disk(tmp_path / "disk.img")
    p = run([OSPREY, "run", "--vmm", vmm, "--initrd", initrd, "--disk", disk,
             "--timeout", str(int(scaled(60))), "--", "/bin/blk_devfile", "/dev/vblk0", "254", "0"], 90)
    assert p.returncode == 0 and "FAIL" not in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]
    d = disk.read_bytes()
    w = len(d) // 2 + (2 << 20) + 3
    assert d[w:w + 8192] == b"\xc3" * 8192
    assert d[:len(d) // 2] == array.array("I", range(len(d) // 8)).tobytes()
