"""Booting the kernel: every machine type and CPU count starts all its CPUs and
exits cleanly; boot options are parsed as documented."""
import re

import pytest

from conftest import boot, debug_exit_status, qemu_argv, run

MACHINES = [("microvm", 1), ("microvm", 2), ("microvm", 4), ("q35", 1), ("q35", 2), ("q35", 4)]


@pytest.mark.parametrize("vmm,cpus", MACHINES, ids=[f"{m}-{c}cpu" for m, c in MACHINES])
def test_boot_starts_every_cpu_and_exits_0(osprey, vmm, cpus):
    b = boot(["--verbose"], vmm=vmm, cpus=cpus)
    assert b.status == 0, b
    assert f"smp: {cpus} of {cpus} CPUs online" in b.log, b
    assert "boot protocol: pvh" in b.log, b


def test_bootchart_prints_phases_and_total(osprey):
    b = boot(["--bootchart"], cpus=4)
    assert b.status == 0, b
    phases = re.findall(r"^\s*([\w ]+): (\d+\.\d\d)ms, \(\+(\d+\.\d\d)ms\)$", b.log, re.M)
    names = [p[0].strip() for p in phases]
    for expected in ("memory", "interrupts and clock", "SMP", "init"):
        assert expected in names, b
    times = [float(p[1]) for p in phases]
    assert times == sorted(times), "phases must be in time order"
    total = re.search(r"^\s*total: (\d+\.\d\d)ms", b.log, re.M)
    assert total and float(total.group(1)) == times[-1], b


def test_quiet_by_default(osprey):
    b = boot([])
    assert b.status == 0, b
    assert b.out == "", "the console belongs to the application: the kernel prints nothing there"
    assert "boot protocol" not in b.log, "informational messages need --verbose"


def test_unknown_boot_option_is_refused(osprey):
    b = boot(["--no-such-option", "/prog"])
    assert b.status == 125, b
    assert 'unknown boot option "--no-such-option"' in b.log, b


@pytest.mark.parametrize("args,message", [
    (["--verbose=1"], "boot option --verbose takes no value"),
    (["--console=vga"], 'boot option --console: "vga" is not one of serial|none'),
    (["--tsc-khz=fast"], 'boot option --tsc-khz: "fast" is not a number'),
    (["--test"], "boot option --test needs a value"),
])
def test_bad_boot_option_values_are_refused(osprey, args, message):
    b = boot(args)
    assert b.status == 125, b
    assert message in b.log, b


def test_unterminated_quote_is_refused(osprey):
    """osprey quotes words itself, so this line goes to QEMU as written."""
    p = run(qemu_argv(["--accel", "tcg"], "--verbose /x 'unterminated"), 30)
    assert debug_exit_status(p.returncode) == 125, p
    assert "unterminated quote in the command line" in p.stderr, p


def test_help_lists_boot_options(osprey):
    b = boot(["--help"])
    assert b.status == 0, b
    for opt in ("--bootchart", "--verbose", "--nopci", "--console=VALUE", "--power-off-on-abort", "--test=VALUE"):
        assert opt in b.log, b


def test_boots_in_small_memory(osprey):
    b = boot(["--verbose"], memory="16M")
    assert b.status == 0, b
    assert "mm: " in b.log


def kernel_load_end():
    """The highest physical address kernel.elf's PT_LOAD segments take (bss too)."""
    import struct
    from conftest import BUILD
    data = (BUILD / "kernel.elf").read_bytes()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    end = 0
    for i in range(phnum):
        p_type, _, _, _, p_paddr, _, p_memsz = struct.unpack_from("<IIQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            end = max(end, p_paddr + p_memsz)
    return end


def test_too_little_memory_for_the_kernel_is_said_clearly(osprey):
    mib = -(-kernel_load_end() // (1 << 20)) - 1  # the last whole MiB the image does not fit in
    if mib < 2:
        pytest.skip("the kernel fits below 2 MiB; osprey refuses less than 2M itself")
    b = boot([], memory=f"{mib}M")
    assert b.status == 125, b
    assert "does not fit in the VM's RAM: give it more memory (-m)" in b.log, b


@pytest.mark.parametrize("vmm,source", [("q35", "acpi"), ("microvm", "mptable")])
def test_platform_comes_from_firmware_tables(osprey, vmm, source):
    """q35 describes itself in ACPI; microvm as `osprey run` starts it
    (acpi=off) only in qboot's MP table."""
    b = boot(["--verbose"], vmm=vmm, cpus=2)
    assert b.status == 0, b
    assert f"platform: {source}, 2 CPUs, 1 IOAPIC" in b.log, b


def qemu_command_without_debug_exit(osprey, vmm, cpus):
    """The QEMU command `osprey run` would use, minus isa-debug-exit (so the
    kernel must power off through ACPI) and minus -no-reboot (so that a reset
    fallback would reboot and loop instead of ending QEMU)."""
    import shlex
    from conftest import run
    dry = run([osprey, "run", "--vmm", vmm, "-c", str(cpus), "--dry-run", "--", "--verbose"], 30)
    assert dry.returncode == 0, dry.stderr
    line = next(l for l in dry.stdout.splitlines() if "qemu-system" in l)
    args = shlex.split(line)
    i = next(i for i, a in enumerate(args) if a.startswith("isa-debug-exit"))
    assert args[i - 1] == "-device"
    del args[i - 1:i + 1]
    if "-no-reboot" in args:
        args.remove("-no-reboot")
    return args


@pytest.mark.parametrize("vmm,machine_edit,expect", [
    ("q35", None, "ACPI S5"),
    # microvm with ACPI is hardware-reduced: S5 goes through the GED's sleep register
    ("microvm", (",acpi=off", ""), "ACPI S5 (hardware-reduced)"),
])
def test_acpi_s5_powers_off_without_debug_exit(osprey, vmm, machine_edit, expect):
    import subprocess
    from conftest import scaled
    args = qemu_command_without_debug_exit(osprey, vmm, 2)
    if machine_edit:
        m = args.index("-M") + 1
        assert machine_edit[0] in args[m]
        args[m] = args[m].replace(*machine_edit)
    try:
        proc = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=scaled(30))
    except subprocess.TimeoutExpired as e:
        log = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        pytest.fail(f"QEMU did not power off by itself within {scaled(30)}s; log: {log[-2000:]}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "platform: acpi" in proc.stderr and expect in proc.stderr, proc.stderr[-2000:]
    assert "\x1eexit=0" in proc.stderr, proc.stderr[-2000:]
