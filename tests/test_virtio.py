"""Device discovery: PCI enumeration, virtio over PCI and MMIO, virtio-rng,
--nopci, and descriptions that are wrong (a bad virtio_mmio.device= word, a
window with no device), which are logged and skipped."""
import re
import shlex

import pytest

from conftest import OSPREY, boot, debug_exit_status, run


def qemu_cmd(vmm, kernel_args, devices, cpus=1):
    proc = run([OSPREY, "run", "--vmm", vmm, "-c", str(cpus), "--dry-run", "--", *kernel_args], 10)
    assert proc.returncode == 0, proc.stderr
    return shlex.split(proc.stdout) + devices


def with_append(argv, more):
    """Add words to the kernel command line (what a VMM would append)."""
    argv = list(argv)
    i = argv.index("-append")
    argv[i + 1] += " " + more
    return argv


def boot_qemu(argv, timeout=60):
    proc = run(argv, timeout)
    return debug_exit_status(proc.returncode), proc.stderr


RNG = [("microvm", "virtio-rng-device", "mmio-legacy"), ("q35", "virtio-rng-pci", "pci"),
       ("pc", "virtio-rng-pci,disable-modern=on", "pci-legacy")]


@pytest.mark.parametrize("vmm,device,transport", RNG, ids=[r[0] + "-" + r[2] for r in RNG])
def test_virtio_rng_seeds_the_pool(osprey, vmm, device, transport):
    status, log = boot_qemu(qemu_cmd(vmm, ["--verbose"], ["-device", device]))
    assert status == 0, log[-2000:]
    assert re.search(rf"virtio0: entropy device \(id 4\) at \S+.*transport {transport}\n", log), log[-2000:]
    assert "virtio-rng: virtio0: 64 bytes of host entropy mixed into the random pool" in log, log[-2000:]


def test_pci_enumeration_lists_functions(osprey):
    status, log = boot_qemu(qemu_cmd("q35", ["--verbose"], ["-device", "virtio-rng-pci"]))
    assert status == 0, log[-2000:]
    assert re.search(r"pci: \d+ functions \(config access: ECAM\)", log), log[-2000:]
    assert re.search(r"pci: 0000:00:00\.0 8086:29c0 class 06\.00\.00", log), "the q35 host bridge"
    assert re.search(r"pci: 0000:00:\S+ 1af4:1005 .* msi-x", log), log[-2000:]


def test_pci_behind_a_bridge(osprey):
    """A device on a bus behind a PCI-to-PCI bridge is found."""
    devs = ["-device", "pci-bridge,id=br0,chassis_nr=1,bus=pcie.0", "-device", "virtio-rng-pci,bus=br0,addr=3"]
    status, log = boot_qemu(qemu_cmd("q35", ["--verbose"], devs))
    assert status == 0, log[-2000:]
    assert re.search(r"virtio0: entropy device \(id 4\) at 0000:0[1-9]:03\.0", log), log[-3000:]


def test_pc_uses_port_config_access(osprey):
    status, log = boot_qemu(qemu_cmd("pc", ["--verbose"], []))
    assert status == 0, log[-2000:]
    assert re.search(r"pci: \d+ functions \(config access: port 0xcf8\)", log), log[-2000:]


def test_nopci_skips_pci(osprey, tmp_path):
    disk = tmp_path / "d.img"
    disk.write_bytes(bytes(1 << 20))
    status, log = boot_qemu(qemu_cmd("q35", ["--verbose", "--nopci"],
                                     ["-drive", f"file={disk},if=none,id=d0,format=raw",
                                      "-device", "virtio-blk-pci,drive=d0"]))
    assert status == 0, log[-2000:]
    assert "pci: not scanned (--nopci)" in log
    assert "vblk0" not in log


def test_no_devices_no_noise(osprey):
    b = boot(["--verbose"])
    assert b.status == 0, b
    assert "virtio" not in b.log.replace("virtio_mmio.device", ""), b


def test_bad_mmio_descriptions_are_skipped(osprey):
    argv = with_append(qemu_cmd("microvm", ["--verbose"], ["-device", "virtio-rng-device"]),
                       "virtio_mmio.device=bogus virtio_mmio.device=4K@0xfeb40000:9")
    status, log = boot_qemu(argv)
    assert status == 0, log[-2000:]
    assert "cannot parse virtio_mmio.device=bogus" in log, log[-2000:]
    assert "virtio: mmio@0xfeb40000: no virtio device" in log, log[-2000:]
    assert "64 bytes of host entropy" in log, "the real device still works"


def test_unknown_virtio_device_has_no_driver(osprey):
    status, log = boot_qemu(qemu_cmd("microvm", ["--verbose"], ["-device", "virtio-balloon-device"]))
    assert status == 0, log[-2000:]
    assert re.search(r"virtio0: balloon device \(id 5\) at mmio@\S+ irq \d+, transport mmio-legacy, no driver", log), \
        log[-2000:]
