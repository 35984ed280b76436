"""ext4 on virtio-blk: one disk image (a 1 GiB file on ext4), attached with
`osprey run --disk` to Osprey and with the same QEMU options to the Linux
guest, mounted read-only by osbench itself (`osbench disk -m`). Every figure
comes from a fresh boot, so the file's data is read from the device, never
from the guest's page cache: 256 MiB of guest memory cannot hold the file."""
import ioimages
from common import log, osb_records
from guests import Guest
from report import Figure, Row

TIMEOUT = 900
MEMORY = "256M"
BENCHMARKS = [
    # osbench disk mode, row label, unit
    ("seq", "ext4 on virtio-blk, sequential read (1 MiB)", "MiB/s"),
    ("random", "ext4 on virtio-blk, random read 4 KiB", "IOPS"),
]
OSPREY_DISK, LINUX_DISK = "/dev/vblk0", "/dev/vda"


def disk_args(ctx, device, mode):
    seconds = ctx.reps["disk_random_s"]
    return ["disk", "-m", f"{device}:/mnt", "-s", str(seconds), mode, f"/mnt/{ioimages.DISK_FILE}"]


def config(ctx):
    return (f"microvm, 2 CPUs, {MEMORY}, {ctx.accel}; {ioimages.DISK_IMAGE_MIB} MiB raw image, "
            f"ext4 (4 KiB blocks) mounted read-only, a {ioimages.DISK_FILE_MIB} MiB file; "
            f"QEMU -drive format=raw (host page cache: cache=writeback) + virtio-blk-device "
            f"(virtio-mmio); one fresh boot per figure; random: {ctx.reps['disk_random_s']} s of "
            f"4 KiB preads at random offsets, buffered (no O_DIRECT); no native column")


def disk_rows(ctx):
    img = ioimages.disk_image()
    rows = [Row("file", label, unit, "higher", config=config(ctx)) for _, label, unit in BENCHMARKS]
    if img is None:
        for r in rows:
            r.note = "mkfs.ext4 is not installed (e2fsprogs)"
        return rows
    extra = ["--disk", str(img)]
    guest = Guest("microvm", cpus=2, memory=MEMORY)
    envs = [("osprey", lambda mode: guest.osprey(ctx.osprey_initrd,
                                                 ["/osbench", *disk_args(ctx, OSPREY_DISK, mode)],
                                                 TIMEOUT, extra=extra))]
    linux_missing = None
    if ctx.vmlinux:
        modules = ioimages.Modules(ctx.bzimage)
        linux_missing = modules.missing(ioimages.DISK_MODULES)
        if not linux_missing:
            initrd, init = ioimages.linux_disk_initrd(modules)
            envs.append(("linux", lambda mode: guest.linux(
                ctx.vmlinux, initrd, [*init, *disk_args(ctx, LINUX_DISK, mode)], TIMEOUT,
                extra=extra)))
    for (mode, label, _), row in zip(BENCHMARKS, rows):
        samples = {column: [] for column, _ in envs}
        for round_no in range(ctx.reps["disk_rounds"]):
            turn = envs[round_no % len(envs):] + envs[:round_no % len(envs)]
            for column, start in turn:
                res = start(mode)
                recs = osb_records(res.out, "disk")
                if res.status == 0 and recs:
                    samples[column].append(float(recs[0]["value"]))
                    log(f"file: {column} {mode}: {recs[0]}")
                else:
                    row.fail(column, res.reason())
                    log(f"file: {column} {mode} failed: {res.reason()}; {res!r}")
        for column, values in samples.items():
            if values:
                row.figures[column] = Figure(values)
                row.failed.pop(column, None)
        if linux_missing:
            row.fail("linux", linux_missing)
    return rows
