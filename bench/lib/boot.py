"""Boot: time to the program's main as the guest sees it, whole-process wall
time beside QEMU's floor (an empty guest), and the exact number of guest
instructions to main (TCG with -icount and the counting plugin)."""
import images
from common import KERNEL, log
from guests import Guest, boot_record, bootchart_ms, plugin_counts
from report import Figure, Row

MACHINES = ("microvm", "q35")
TIMEOUT = 60
ICOUNT_TIMEOUT = 180


def hello_ok(res):
    return res.status == 0 and "hello, world" in res.out and boot_record(res) is not None


class Samples(dict):
    """Measurements by name ("osprey_wall"), and the last failure of each guest."""

    def __init__(self):
        super().__init__()
        self.errors = {}

    def add(self, key, value):
        self.setdefault(key, []).append(value)

    def failed(self, who, reason):
        self.errors[who] = reason
        log(f"{who}: {reason}")

    def figure(self, key, **kw):
        return Figure(self[key], **kw) if self.get(key) else None


def one_round(ctx, guest, s):
    """Osprey, the Linux guest and the floor once each, back to back, so that
    the machine's noise falls on all three alike."""
    res = guest.osprey(ctx.osprey_initrd, ["/osbench", "hello"], TIMEOUT, bootchart=True)
    if hello_ok(res):
        rec = boot_record(res)
        s.add("osprey_wall", res.seconds * 1e3)
        s.add("osprey_tsc", ctx.tsc_ms(rec["tsc"]))
        s.add("osprey_clock", rec["mono_ns"] / 1e6)
        if bootchart_ms(res.err) is not None:
            s.add("osprey_bootchart", bootchart_ms(res.err))
    else:
        s.failed("osprey", res.reason())
    if ctx.vmlinux:
        res = guest.linux(ctx.vmlinux, ctx.linux_initrd, ["hello"], TIMEOUT)
        if hello_ok(res):
            rec = boot_record(res)
            s.add("linux_wall", res.seconds * 1e3)
            s.add("linux_tsc", ctx.tsc_ms(rec["tsc"]))
            s.add("linux_clock", rec["boottime_ns"] / 1e6)
        else:
            s.failed("linux", res.reason())
    res = guest.floor(TIMEOUT)
    if res.status == 0:
        s.add("floor_wall", res.seconds * 1e3)
    else:
        s.failed("floor", res.reason())


def boot_rows(ctx):
    rows = []
    for vmm in MACHINES:
        guest = Guest(vmm, cpus=1, memory="128M")
        one_round(ctx, guest, Samples())  # warm the page cache; not counted
        s = Samples()
        for _ in range(ctx.reps["boot_reps"]):
            one_round(ctx, guest, s)
        cfg = f"{vmm}, 1 CPU, 128M, {ctx.accel}"
        g = f"boot: {vmm}"
        rows += [
            Row(g, "reset to main, guest TSC", "ms", osprey=s.figure("osprey_tsc"),
                linux=s.figure("linux_tsc"), config=cfg),
            Row(g, "to main, kernel's own clock", "ms", osprey=s.figure("osprey_clock"),
                linux=s.figure("linux_clock"), config=cfg),
            Row(g, "Osprey bootchart total", "ms", osprey=s.figure("osprey_bootchart"),
                config=cfg),
            Row(g, "whole process, static hello", "ms", osprey=s.figure("osprey_wall"),
                linux=s.figure("linux_wall"), baseline=s.figure("floor_wall"), config=cfg),
        ]
        mark_failures(rows[-4:], s)
    return rows


def mark_failures(rows, s):
    """Columns left without a figure get the reason of their guest's last failure."""
    whose = {"osprey": "osprey", "linux": "linux", "baseline": "floor"}
    for row in rows:
        for column, who in whose.items():
            if row.figures[column] is None and who in s.errors:
                row.fail(column, s.errors[who])


def counted(ctx, guest, linux):
    """One deterministic run: instruction counts at kernel entry and main."""
    if linux:
        plugin = f"{ctx.plugin},entry={images.pvh_entry(ctx.vmlinux):#x}"
        res = guest.linux(ctx.vmlinux, ctx.linux_initrd, ["hello"], ICOUNT_TIMEOUT, icount=True,
                          plugin=plugin)
    else:
        plugin = f"{ctx.plugin},entry={images.pvh_entry(KERNEL):#x}"
        res = guest.osprey_icount(ctx.osprey_initrd, ["/osbench", "hello"], ICOUNT_TIMEOUT,
                                  plugin=plugin)
    counts = plugin_counts()
    if not hello_ok(res) or "main" not in counts or "entry" not in counts:
        return res.reason() + ("" if counts.get("main") else "; the plugin saw no main")
    return counts


def icount_rows(ctx):
    rows = []
    for vmm in MACHINES:
        guest = Guest(vmm, cpus=1, memory="128M", accel="tcg")
        s = Samples()
        for _ in range(ctx.reps["icount_reps"]):
            for linux, name in ((False, "osprey"), (True, "linux")):
                if linux and not ctx.vmlinux:
                    continue
                c = counted(ctx, guest, linux)
                if isinstance(c, str):
                    s.failed(name, c)
                else:
                    s.add(f"{name}_main", c["main"])
                    s.add(f"{name}_kernel", c["main"] - c["entry"])
                    s.add(f"{name}_firmware", c["entry"])
        g = f"boot instructions: {vmm}"
        cfg = f"{vmm}, 1 CPU, 128M, tcg -icount shift=0,sleep=off + bench/qemu-plugin"
        new = [Row(g, label, "instructions", osprey=s.figure(f"osprey_{k}", exact=True),
                   linux=s.figure(f"linux_{k}", exact=True), config=cfg)
               for k, label in (("kernel", "kernel entry to main"), ("main", "reset to main"),
                                ("firmware", "firmware: reset to kernel entry"))]
        mark_failures(new, s)
        rows += new
    return rows
