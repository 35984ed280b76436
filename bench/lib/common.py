"""Shared pieces of the benchmark suite: where things are, running a command
with a time limit (killing its whole process group), parsing "OSB" lines."""
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
OUT = BUILD / "bench"
OSPREY = BUILD / "osprey"
KERNEL = BUILD / "kernel.elf"
PVH_FIXTURE = BUILD / "tests" / "fixtures" / "pvh_fixture.elf"

sys.path.insert(0, str(ROOT / "tests"))  # rootfs.py: cpio archives from host files


class Result:
    """One finished command: exit status (None after a timeout), output, seconds."""

    def __init__(self, status, out, err, seconds):
        self.status, self.out, self.err, self.seconds = status, out, err, seconds

    @property
    def timed_out(self):
        return self.status is None

    def reason(self):
        """One line on why a run failed, for the table's "Failed runs"."""
        if self.timed_out:
            return f"no result within {self.seconds:.0f}s"
        lines = [l.strip() for l in self.err.splitlines() if l.strip() and not l.startswith("OSB")]
        telling = [l for l in lines if re.search(r"panic|error|fatal|refused|cannot", l, re.I)]
        line = (telling or lines or [""])[0][:140]
        return f"exit status {self.status}" + (f": {line}" if line else "")

    def __repr__(self):
        tail = self.err.strip().splitlines()[-3:]
        return f"<status {self.status} after {self.seconds:.2f}s; stderr tail {tail}>"


def run(cmd, timeout, stdin=subprocess.DEVNULL):
    """Run cmd in its own process group; on timeout the group is killed.
    QEMU never exits by itself after a KVM internal error, so that text on
    stderr also ends the run (as a failure)."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        status = None
    seconds = time.perf_counter() - start
    if "KVM internal error" in err:
        status = None
    return Result(status, out, err, seconds)


def osb_records(text, kind):
    """The key=value fields of every "OSB <kind> ..." line in text."""
    records = []
    for line in text.replace("\r", "").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "OSB" and words[1] == kind:
            records.append(dict(w.split("=", 1) for w in words[2:] if "=" in w))
    return records


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)
