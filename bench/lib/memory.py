"""Memory: the smallest -m at which a program still runs (bisection in MiB),
and the sizes of what each guest boots."""
import images
from common import KERNEL, log
from guests import Guest
from report import Figure, Row

TIMEOUT = 60
LOW, START, LIMIT = 2, 128, 1024   # osprey run refuses less than 2 MiB


def bisect(runs_at, step):
    """The smallest MiB (to within `step`) at which runs_at(MiB, timeout) is
    true, assuming it stays true above; None when even LIMIT MiB fails. A
    guest short of memory may hang rather than fail, so once one run has
    succeeded the others get four times its duration (at least 8 s)."""
    high, timeout = START, TIMEOUT
    while True:
        ok, seconds = runs_at(high, timeout)
        if ok:
            break
        if high >= LIMIT:
            return None
        high *= 2
    timeout = max(8.0, 4 * seconds)
    if runs_at(LOW, timeout)[0]:
        return LOW
    low = LOW
    while high - low > step:
        mid = (low + high) // 2
        if runs_at(mid, timeout)[0]:
            high = mid
        else:
            low = mid
    return high


last_failure = {}  # who -> reason of the latest failed attempt


def attempt(who, mib, res, ok):
    verdict = "runs" if ok else ("timed out" if res.timed_out else f"fails ({res.status})")
    if not ok:
        last_failure[who] = res.reason()
    log(f"memory:   {who} at {mib} MiB {verdict} in {res.seconds:.1f}s")
    return ok, res.seconds


def osprey_runs(initrd, argv, expect):
    def runs_at(mib, timeout):
        res = Guest("microvm", 1, f"{mib}M").osprey(initrd, argv, timeout)
        return attempt("Osprey", mib, res, res.status == 0 and expect in res.out)
    return runs_at


def linux_runs(ctx, initrd, init_argv, expect):
    def runs_at(mib, timeout):
        res = Guest("microvm", 1, f"{mib}M").linux(ctx.vmlinux, initrd, init_argv, timeout)
        ok = res.status == 0 and expect in res.out and "OSB exit status=0" in res.out
        return attempt("Linux", mib, res, ok)
    return runs_at


def smallest(ctx, label, runs_at):
    mib = bisect(runs_at, ctx.reps["memory_step"])
    log(f"memory: {label}: {mib} MiB")
    return Figure([mib]) if mib is not None else None


def not_even(who):
    return f"did not run even with {LIMIT} MiB: {last_failure.get(who, '')}"


HELLO = (["/osbench", "hello"], ["hello"], "hello, world")
PYTHON = (["/usr/bin/python3", "-c", "pass"], ["spawn", "/usr/bin/python3", "-c", "pass"], "")


def memory_row(ctx, label, program, osprey_initrd, linux_initrd):
    """Bisect Osprey and the Linux guest for one program: (osprey argv, the
    Linux /init's argv, text the console must show)."""
    osprey_argv, init_argv, expect = program
    step = ctx.reps["memory_step"]
    row = Row("memory", f"smallest -m: {label}", "MiB",
              config=f"microvm, 1 CPU, {ctx.accel}, bisection to {step} MiB from {LOW} MiB",
              osprey=smallest(ctx, f"Osprey {label}", osprey_runs(osprey_initrd, osprey_argv, expect)))
    if ctx.vmlinux:
        row.figures["linux"] = smallest(ctx, f"Linux {label}",
                                        linux_runs(ctx, linux_initrd, init_argv, expect))
    for column in ("osprey", "linux"):
        if row.figures[column] is None and (column == "osprey" or ctx.vmlinux):
            row.fail(column, not_even("Osprey" if column == "osprey" else "Linux"))
    return row


def memory_rows(ctx):
    rows = [memory_row(ctx, "static hello", HELLO, ctx.osprey_initrd, ctx.linux_initrd)]
    if ctx.python_initrd(False) is None:
        rows.append(Row("memory", "smallest -m: python3 -c pass", "MiB",
                        note="python3.11 is not installed on the host"))
    else:
        rows.append(memory_row(ctx, "python3 -c pass", PYTHON, ctx.python_initrd(False),
                               ctx.python_initrd(True)))
    import network  # it uses this module's bisection
    rows.append(network.go_memory_row(ctx))
    return rows


def mib(path):
    return Figure([path.stat().st_size / 2**20]) if path and path.exists() else None


def loaded_mib(path):
    return Figure([images.elf_loaded_bytes(path) / 2**20]) if path and path.exists() else None


def total(*figs):
    return Figure([sum(f.median for f in figs)]) if all(figs) else None


def size_rows(ctx):
    cfg = "Osprey: build/kernel.elf (with its debug info); Linux: Debian's bzImage"
    return [
        Row("size", "kernel file", "MiB", osprey=mib(KERNEL), linux=mib(ctx.bzimage), config=cfg),
        Row("size", "kernel in guest memory (PT_LOAD)", "MiB", osprey=loaded_mib(KERNEL),
            linux=loaded_mib(ctx.vmlinux), config="memsz of the ELF segments QEMU loads"),
        Row("size", "initramfs of static hello", "MiB", osprey=mib(ctx.osprey_initrd),
            linux=mib(ctx.linux_initrd), config="cpio newc, uncompressed"),
        Row("size", "kernel file + initramfs, hello", "MiB", config=cfg,
            osprey=total(mib(KERNEL), mib(ctx.osprey_initrd)),
            linux=total(mib(ctx.bzimage), mib(ctx.linux_initrd))),
    ]
