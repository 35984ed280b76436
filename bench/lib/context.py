"""Everything the benchmarks share in one run: options, images, the
accelerator, the TSC rate, and how many repetitions each figure gets."""
import subprocess

import images
from common import OSPREY, OUT, log, osb_records
from guests import accel_of, dry_run

# micro_runs measured runs inside each of micro_rounds boots per environment
FULL = {"boot_reps": 15, "icount_reps": 2, "micro_rounds": 3, "micro_runs": 5, "micro_ms": 100,
        "file_mib": 16, "memory_step": 1, "disk_rounds": 3, "disk_random_s": 10,
        "net_rounds": 2, "net_seconds": 30, "net_warmup_s": 5}
QUICK = {"boot_reps": 3, "icount_reps": 1, "micro_rounds": 1, "micro_runs": 3, "micro_ms": 30,
         "file_mib": 8, "memory_step": 4, "disk_rounds": 1, "disk_random_s": 3,
         "net_rounds": 1, "net_seconds": 5, "net_warmup_s": 2}


class Context:
    def __init__(self, quick):
        self.quick = quick
        self.reps = QUICK if quick else FULL
        self.osbench = images.build_osbench()
        self.plugin = images.build_plugin()
        self.osprey_initrd = images.osbench_initrd(linux=False)
        self.linux_initrd = images.osbench_initrd(linux=True)
        self.bzimage = images.linux_bzimage()
        self.vmlinux = images.linux_vmlinux(self.bzimage) if self.bzimage else None
        if not self.vmlinux:
            log("no Debian cloud kernel in /boot (bench/setup installs linux-image-cloud-amd64): "
                "the Linux guest column stays empty")
        self.accel = accel_of(dry_run("microvm", "1", "128M", None, ["/osbench"]))
        self.tsc_khz = self.native_tsc_khz()
        self._python = {}

    def native_tsc_khz(self):
        """The guest TSC ticks at the host's rate under TCG and (unscaled) KVM."""
        p = subprocess.run([str(self.osbench), "tsc-khz"], capture_output=True, text=True, check=True)
        return int(osb_records(p.stdout, "tsc")[0]["khz"])

    def python_initrd(self, linux):
        if linux not in self._python:
            self._python[linux] = images.python_initrd(linux)
        return self._python[linux]

    def tsc_ms(self, ticks):
        return ticks / self.tsc_khz

    def describe(self):
        return {"accel": self.accel, "tsc_khz": self.tsc_khz, "quick": self.quick,
                "repetitions": self.reps, "osprey": str(OSPREY),
                "linux_kernel": str(self.bzimage) if self.bzimage else None,
                "out": str(OUT)}
