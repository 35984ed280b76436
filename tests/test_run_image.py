"""`osprey run` beyond the bare kernel: --rootfs DIR packed on the fly, stdin
piped to the guest with end of file, disks and networks on the QEMU command
line, and the Firecracker and Cloud Hypervisor back ends (their --dry-run
output, a stand-in VMM that checks osprey takes the kernel's records out of
the serial console, and the line for a VMM that is not installed)."""
import json
import os
import shlex
import stat

import pytest

from conftest import compile_prog, one_line_error, osprey_boot as boot, osprey_build as build, osprey_cmd as osprey


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory):
    root = tmp_path_factory.mktemp("rootfs")
    exe = compile_prog(root / "prog", static=True)
    if not exe:
        pytest.skip("musl-gcc is not installed")
    return root


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    d = tmp_path_factory.mktemp("img")
    exe = compile_prog(d / "prog")
    build(d / "prog.img", "--from-host", f"{exe}=/app/prog", "--", "/app/prog", "say", "hi")
    return d / "prog.img"


def test_rootfs_directory_boots_and_leaves_nothing_behind(rootfs, tmp_path):
    tmp = tmp_path / "t"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    p = boot("--rootfs", rootfs, "-e", "GREETING=hey", "--cwd", "/tmp", "--", "/prog", "say", "a b", env=env)
    assert p.returncode == 0, p
    assert p.stdout.splitlines() == ["say: a b", "GREETING=hey", "cwd=/tmp"], p
    assert list(tmp.iterdir()) == [], "the packed root filesystem is deleted"


def test_rootfs_exit_status(rootfs):
    assert boot("--rootfs", rootfs, "--", "/prog", "exit", "3").returncode == 3


def test_rootfs_missing_program_is_127(rootfs):
    p = boot("--rootfs", rootfs, "--", "/nonexistent")
    assert p.returncode == 127, p


def test_stdin_reaches_the_program_and_ends(image):
    p = boot(image, "--", "/app/prog", "cat", input="line one\nline two\n")
    assert p.returncode == 0, p
    assert p.stdout.replace("\r", "") == "line one\nline two\neof\n", p


def test_stdin_from_dev_null_is_end_of_file(image):
    p = boot(image, "--", "/app/prog", "cat")
    assert p.returncode == 0 and p.stdout.replace("\r", "") == "eof\n", p


def test_strace_reaches_the_kernel(image, tmp_path):
    p = osprey("run", "--dry-run", "--strace", image, "--", "/app/prog", env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert p.returncode == 0 and "--strace" in p.stdout, p


@pytest.mark.parametrize("vmm,bus", [("microvm", "device"), ("q35", "pci")])
def test_disks_and_ports_on_the_qemu_command_line(image, tmp_path, vmm, bus):
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    p = osprey("run", "--dry-run", "--vmm", vmm, "--disk", disk, "-p", "8080:80", "-p", "5353:53/udp", image,
               env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert p.returncode == 0, p
    argv = shlex.split(p.stdout)
    assert f"file={disk},if=none,id=disk0,format=raw" in argv, argv
    assert f"virtio-blk-{bus},drive=disk0" in argv and f"virtio-net-{bus},netdev=net0" in argv, argv
    assert "user,id=net0,hostfwd=tcp::8080-:80,hostfwd=udp::5353-:53" in argv, argv
    i = argv.index("-kernel")
    assert os.path.exists(argv[i + 1]), "a dry run keeps the extracted kernel for the printed command"


def test_tap_networking(image, tmp_path):
    p = osprey("run", "--dry-run", "-n", "tap:tap7", image, env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert "tap,id=net0,ifname=tap7,script=no,downscript=no" in shlex.split(p.stdout), p


def test_firecracker_dry_run_prints_its_json_config(image, tmp_path):
    disk = tmp_path / "d.raw"
    disk.write_bytes(b"\0" * 512)
    p = osprey("run", "--dry-run", "--vmm", "firecracker", "-m", "256M", "-c", "2", "--disk", disk,
               "-n", "tap:tap0", "-e", "A=b c", image, "--", "/app/prog", "say", "two words",
               env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert p.returncode == 0, p
    cfg = json.loads(p.stdout)
    boot_src = cfg["boot-source"]
    assert os.path.exists(boot_src["kernel_image_path"]) and os.path.exists(boot_src["initrd_path"])
    assert '"--env=A=b c" /app/prog say "two words"' in boot_src["boot_args"], boot_src
    assert cfg["machine-config"] == {"vcpu_count": 2, "mem_size_mib": 256}
    assert cfg["drives"] == [{"drive_id": "disk0", "path_on_host": str(disk), "is_root_device": False,
                              "is_read_only": False}]
    assert cfg["network-interfaces"] == [{"iface_id": "eth0", "host_dev_name": "tap0"}]
    assert "firecracker --no-api --config-file" in p.stderr, p


def test_cloud_hypervisor_dry_run_prints_its_command(image, tmp_path):
    p = osprey("run", "--dry-run", "--vmm", "cloud-hypervisor", "-m", "1G", "-c", "4", image,
               env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert p.returncode == 0, p
    argv = shlex.split(p.stdout)
    assert argv[0].endswith("cloud-hypervisor"), argv
    for opt, value in [("--cpus", "boot=4"), ("--memory", "size=1024M"), ("--serial", "tty"),
                       ("--console", "off")]:
        assert argv[argv.index(opt) + 1] == value, argv
    assert os.path.exists(argv[argv.index("--kernel") + 1]) and os.path.exists(argv[argv.index("--initramfs") + 1])
    assert argv[argv.index("--cmdline") + 1].endswith("/app/prog say hi"), argv


FAKE_VMM = """#!/bin/sh
# A stand-in for Firecracker: prints what it was given and what the kernel
# would print on a serial console without a debug console, records included.
printf 'args:'; printf ' %s' "$@"; printf '\\n'
printf 'console output\\n\\036exit=42\\n'
exit 0
"""


def fake_vmm(tmp_path, name):
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    f = d / name
    f.write_text(FAKE_VMM)
    f.chmod(f.stat().st_mode | stat.S_IXUSR)
    return dict(os.environ, PATH=f"{d}:{os.environ['PATH']}", TMPDIR=str(tmp_path))


@pytest.mark.parametrize("vmm,binary", [("firecracker", "firecracker"), ("cloud-hypervisor", "cloud-hypervisor")])
def test_records_are_taken_out_of_the_serial_console(image, tmp_path, vmm, binary):
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("/dev/kvm is not usable: osprey refuses Firecracker and Cloud Hypervisor without it")
    p = osprey("run", "--vmm", vmm, image, env=fake_vmm(tmp_path, binary))
    assert p.returncode == 42, p
    assert "console output\n" in p.stdout and "\x1e" not in p.stdout and "exit=42" not in p.stdout, p


@pytest.mark.parametrize("vmm,message", [
    ("firecracker", "firecracker is not installed"),
    ("cloud-hypervisor", "cloud-hypervisor is not installed"),
])
def test_an_uninstalled_vmm_gets_one_clear_line(image, tmp_path, vmm, message):
    env = dict(os.environ, PATH=str(tmp_path), TMPDIR=str(tmp_path))
    env.pop("OSPREY_FIRECRACKER", None)
    env.pop("OSPREY_CLOUD_HYPERVISOR", None)
    one_line_error(osprey("run", "--vmm", vmm, image, env=env), message)


@pytest.mark.parametrize("args,message", [
    (["--vmm", "firecracker", "-n", "user"], "Firecracker has no user networking"),
    (["--vmm", "firecracker", "-p", "80:80"], "Firecracker has no user networking (so no -p)"),
    (["--vmm", "cloud-hypervisor", "--accel", "tcg"], "Cloud Hypervisor runs on KVM only"),
    (["--vmm", "firecracker", "--gdb", "1234"], "--gdb works with the QEMU machines only"),
    (["-n", "tap:tap0", "-p", "80:80"], "-p needs user networking"),
    (["-p", "80"], 'bad -p value "80"'),
    (["-p", "80:80/sctp"], 'bad -p value "80:80/sctp"'),
    (["-n", "bridge"], 'unknown --net "bridge"'),
    (["-n", "tap:bad,name"], "bad tap device name"),
    (["--disk", "/nonexistent.raw"], "disk not found: /nonexistent.raw"),
    (["--rootfs", "/nonexistent"], "--rootfs /nonexistent: No such file"),
    (["--rootfs", "/etc/hostname"], "--rootfs /etc/hostname is not a directory"),
    (["-e", "=x"], 'bad --env value "=x"'),
    (["--cwd", "relative"], 'bad --cwd value "relative"'),
])
def test_bad_run_input_gets_one_clear_line(image, tmp_path, args, message):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    one_line_error(osprey("run", "--dry-run", *args, *([] if "--rootfs" in args else [image]), env=env), message)


def test_image_and_rootfs_together_are_refused(image, rootfs):
    one_line_error(osprey("run", image, "--rootfs", rootfs), "give one of IMAGE, --rootfs DIR and --initrd FILE")


@pytest.mark.parametrize("vmm", ["q35", "pc"])
def test_images_boot_on_the_pc_machines(image, vmm):
    p = boot("--vmm", vmm, image)
    assert p.returncode == 0 and "say: hi" in p.stdout, p
