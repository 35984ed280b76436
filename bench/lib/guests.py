"""How each guest is started. Osprey: `osprey run`. The Linux guest and the
empty floor guest: the very QEMU command `osprey run --dry-run` prints (same
machine, accelerator, CPU model, memory, CPUs and devices), with only the
kernel, initrd and command line swapped. Under `-icount` every command gets
QEMU's instruction-counting clock."""
import re
import shlex

from common import KERNEL, OSPREY, OUT, PVH_FIXTURE, Result, osb_records, run

ICOUNT = ["-icount", "shift=0,sleep=off"]
ICOUNT_KHZ = 1000000  # under -icount shift=0 the TSC ticks once per instruction: 1 GHz


def dry_run(vmm, cpus, memory, initrd, argv, accel=None, kernel=KERNEL, extra=()):
    """`extra`: more `osprey run` options (`--disk FILE`, `-p H:G`), so that
    both guests get the same devices and back ends."""
    cmd = [OSPREY, "run", "--dry-run", "--vmm", vmm, "-c", cpus, "-m", memory,
           "--kernel", kernel, *(["--accel", accel] if accel else []),
           *(["--initrd", initrd] if initrd else []), *extra, "--", *argv]
    p = run(cmd, 30)
    if p.status != 0:
        raise RuntimeError(f"osprey run --dry-run failed: {p.err.strip()}")
    return shlex.split(p.out.strip().splitlines()[-1])


def option(cmd, flag):
    return cmd[cmd.index(flag) + 1] if flag in cmd else None


def replace_option(cmd, flag, value):
    cmd = list(cmd)
    if flag in cmd:
        cmd[cmd.index(flag) + 1] = value
    else:
        cmd += [flag, value]
    return cmd


def host_tsc_khz(cmd):
    """The TSC rate osprey hands the kernel under TCG (None under KVM)."""
    m = re.search(r"--tsc-khz=(\d+)", option(cmd, "-append") or "")
    return int(m.group(1)) if m else None


def accel_of(cmd):
    return option(cmd, "-accel") or "tcg"


PLUGIN_LOG = OUT / "insn_count.log"


def with_icount(cmd, plugin=None):
    """-icount makes the run deterministic; the plugin ("path,entry=ADDR")
    counts, logging to its own file (the kernel log shares stderr)."""
    cmd = list(cmd)
    at = cmd.index("-accel") + 2
    extra = ICOUNT
    if plugin:
        PLUGIN_LOG.unlink(missing_ok=True)
        extra += ["-d", "plugin", "-D", str(PLUGIN_LOG), "-plugin", plugin]
    return cmd[:at] + extra + cmd[at:]


def plugin_counts():
    """What bench/qemu-plugin/insn_count.c reported: entry, main, total."""
    text = PLUGIN_LOG.read_text() if PLUGIN_LOG.exists() else ""
    return {k: int(v) for k, v in re.findall(r"^OSB-PLUGIN (\w+)=(\d+)$", text, re.M)}


class Guest:
    """One guest configuration: machine type, CPUs, memory."""

    def __init__(self, vmm="microvm", cpus=1, memory="128M", accel=None):
        self.vmm, self.cpus, self.memory, self.accel = vmm, str(cpus), memory, accel

    def osprey_cmd(self, initrd, argv, timeout, bootchart=False, extra=()):
        return [OSPREY, "run", "--vmm", self.vmm, "-c", self.cpus, "-m", self.memory,
                *(["--accel", self.accel] if self.accel else []), "--initrd", initrd,
                "--timeout", str(int(timeout)), *extra, "--",
                *(["--bootchart"] if bootchart else []), *argv]

    def osprey(self, initrd, argv, timeout, bootchart=False, extra=()):
        """`osprey run` itself, as a user runs it."""
        return run(self.osprey_cmd(initrd, argv, timeout, bootchart, extra), timeout + 15)

    def osprey_icount(self, initrd, argv, timeout, plugin=None):
        """Osprey's QEMU command under -icount, its TSC rate set to 1 GHz so
        that nanoseconds on the guest's clocks are instructions."""
        cmd = dry_run(self.vmm, self.cpus, self.memory, initrd, ["--bootchart", *argv], accel="tcg")
        append = re.sub(r"--tsc-khz=\d+", f"--tsc-khz={ICOUNT_KHZ}", option(cmd, "-append"))
        return qemu_result(run(replace_option(with_icount(cmd, plugin), "-append", append), timeout))

    def linux_cmd(self, vmlinux, initrd, init_argv, icount=False, plugin=None, extra=()):
        accel = "tcg" if icount else self.accel
        cmd = dry_run(self.vmm, self.cpus, self.memory, initrd, ["/osbench"], accel=accel,
                      extra=extra)
        khz = ICOUNT_KHZ if icount else host_tsc_khz(cmd)
        cmdline = linux_cmdline(khz, init_argv)
        cmd = replace_option(replace_option(cmd, "-kernel", str(vmlinux)), "-append", cmdline)
        machine = option(cmd, "-M")
        if "acpi=off" in machine:
            # Linux finds its interrupt controllers only in ACPI (microvm has no MP table)
            cmd = replace_option(cmd, "-M", machine.replace("acpi=off", "acpi=on"))
        return with_icount(cmd, plugin) if icount else cmd

    def linux(self, vmlinux, initrd, init_argv, timeout, icount=False, plugin=None, extra=()):
        return qemu_result(run(self.linux_cmd(vmlinux, initrd, init_argv, icount, plugin, extra),
                               timeout))

    def floor(self, timeout):
        """QEMU alone: the PVH fixture guest, which exits as soon as it starts."""
        cmd = dry_run(self.vmm, self.cpus, self.memory, None, ["exit", "0"], accel=self.accel,
                      kernel=PVH_FIXTURE)
        return qemu_result(run(cmd, timeout))


def linux_cmdline(tsc_khz, init_argv):
    """A lean but ordinary command line: serial console, quiet, no reboot loop.
    tsc=reliable: under TCG the jiffies watchdog lags and would demote the TSC
    (and the vDSO clock) for no reason; cryptomgr.notests: no crypto self-tests
    at boot (0.88 G instructions); tsc_early_khz: microvm has no PIT or HPET
    to calibrate against, so Linux gets the rate osprey gives Osprey."""
    words = ["console=ttyS0", "quiet", "panic=-1", "tsc=reliable", "cryptomgr.notests"]
    if tsc_khz:
        words.append(f"tsc_early_khz={tsc_khz}")
    return " ".join(words + ["--", "--init", *init_argv])


def qemu_status(status):
    """A raw QEMU exit status: isa-debug-exit gives (status << 1) | 1; turn it back."""
    if status is not None and status & 1:
        return status >> 1
    if status is not None:
        return 256 + status  # QEMU's own status (e.g. 0 after a guest reset)
    return status


def qemu_result(res):
    res.status = qemu_status(res.status)
    return res


def boot_record(res):
    recs = osb_records(res.out, "boot")
    return {k: int(v) for k, v in recs[0].items()} if recs else None


def bootchart_ms(stderr, phase="total"):
    m = re.search(rf"^\s*{phase}: ([0-9.]+)ms", stderr, re.M)
    return float(m.group(1)) if m else None


__all__ = ["Guest", "Result", "boot_record", "bootchart_ms", "accel_of", "dry_run", "host_tsc_khz",
           "plugin_counts"]
