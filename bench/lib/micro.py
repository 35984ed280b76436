"""In-guest micro-benchmarks and file reads: one osbench binary, run natively,
inside Osprey and inside the Linux guest (2 CPUs, 256 MiB, microvm); each
figure is over every timed run osbench makes, in several boots (rounds)."""
from common import log, osb_records, run
from guests import Guest
from report import Figure, Row

CPU_BENCHMARKS = [
    # name in osbench, label, better
    ("getpid", "getpid() round trip", "lower"),
    ("clock_gettime", "clock_gettime (vDSO)", "lower"),
    ("read_devzero", "read 1 byte of /dev/zero", "lower"),
    ("thread_create_join", "thread create + join", "lower"),
    ("futex_pingpong", "futex ping-pong, 2 CPUs", "lower"),
    ("mmap_touch_munmap_64m", "mmap+touch+munmap 64 MiB", "lower"),
    ("page_faults", "page faults (4 KiB)", "higher"),
]
FILE_BENCHMARKS = [
    ("file_seq_read", "tmpfs sequential read (64 KiB)", "higher"),
    ("file_random_read_4k", "tmpfs random read (4 KiB)", "higher"),
]
TIMEOUT = 600
# what osbench prints for each (bench/programs/micro.c and fileio.c)
UNITS = {"getpid": "ns", "clock_gettime": "ns", "read_devzero": "ns", "thread_create_join": "us",
         "futex_pingpong": "us", "mmap_touch_munmap_64m": "ms", "page_faults": "kfaults/s",
         "file_seq_read": "MiB/s", "file_random_read_4k": "MiB/s"}


def micro_args(ctx, names, directory):
    r = ctx.reps
    return ["micro", "-r", str(r["micro_runs"]), "-t", str(r["micro_ms"]), "-d", directory,
            "-f", str(r["file_mib"]), *names]


def parse(text):
    """name -> (unit, [values]) or name -> error text."""
    found = {}
    for rec in osb_records(text, "micro"):
        if "error" in rec:
            found[rec["name"]] = rec["error"]
        else:
            unit, values = found.setdefault(rec["name"], (rec["unit"], []))
            values.append(float(rec["value"]))
    return found


def run_everywhere(ctx, names):
    """Results by column (name -> (unit, values) or an error), and why a whole
    run failed where one did. The three environments take turns, round after
    round, so that a burst of load on the shared machine hits all of them."""
    guest = Guest("microvm", cpus=2, memory="256M")
    envs = [("baseline", lambda: run([ctx.osbench, *micro_args(ctx, names, "/dev/shm")], TIMEOUT)),
            ("osprey", lambda: guest.osprey(ctx.osprey_initrd,
                                            ["/osbench", *micro_args(ctx, names, "/tmp")], TIMEOUT))]
    if ctx.vmlinux:
        envs.append(("linux", lambda: guest.linux(ctx.vmlinux, ctx.linux_initrd,
                                                  micro_args(ctx, names, "/tmp"), TIMEOUT)))
    results, failed = {column: {} for column, _ in envs}, {}
    for round_no in range(ctx.reps["micro_rounds"]):
        turn = envs[round_no % len(envs):] + envs[:round_no % len(envs)]
        for column, start in turn:
            res = start()
            merge(results[column], parse(res.out))
            if res.status != 0:
                failed[column] = res.reason()
                log(f"micro: {column} run failed: {failed[column]}")
    return results, failed


def merge(into, found):
    for name, got in found.items():
        if isinstance(got, tuple) and isinstance(into.get(name), tuple):
            into[name][1].extend(got[1])
        elif name not in into or isinstance(got, tuple):
            into[name] = got


def rows_for(ctx, group, benchmarks, results, failed):
    cfg = f"microvm, 2 CPUs, 256M, {ctx.accel}; native: the host, files in /dev/shm"
    rows = []
    for name, label, better in benchmarks:
        row = Row(group, label, UNITS[name], better=better, config=cfg)
        for column, found in results.items():
            got = found.get(name)
            if isinstance(got, tuple):
                row.figures[column] = Figure(got[1])
            else:
                row.fail(column, got or failed.get(column, "no result"))
        rows.append(row)
    return rows


def micro_rows(ctx, with_cpu=True, with_file=True):
    chosen = (CPU_BENCHMARKS if with_cpu else []) + (FILE_BENCHMARKS if with_file else [])
    results, failed = run_everywhere(ctx, [n for n, _, _ in chosen])
    rows = []
    if with_cpu:
        rows += rows_for(ctx, "micro-benchmarks", CPU_BENCHMARKS, results, failed)
    if with_file:
        rows += rows_for(ctx, "file", FILE_BENCHMARKS, results, failed)
    return rows

