"""HTTP from the host: wrk against a server inside Osprey and inside the
Linux guest, both on microvm with QEMU user networking (`-netdev user` with
a `hostfwd` port, the options `osprey run -p` makes), and the smallest -m at
which the Go HTTP server still serves a request."""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import ioimages
import memory
from common import log
from guests import Guest, qemu_status
from report import Figure, Row

MEMORY = "256M"
CONNECTIONS, WRK_THREADS = 64, 1
SERVERS = {
    # program: (row name, Osprey argv, the Linux /init's argv after its options,
    #           port in the guest, path, text on the console once it listens)
    "go": ("Go net/http server", ["/nethttp", "8080"], ["spawn", "/nethttp", "8080"], 8080,
           "/hello?n=1", "listening on"),
    "nginx": ("nginx", ["/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf"],
              ["spawn", "/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf"], 80, "/index.html",
              "nginx/"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Background:
    """A VM left running while the host talks to it; console lines collected."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors="replace", start_new_session=True)
        self.out, self.err = [], []
        for stream, keep in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, k=keep: [k.append(l) for l in s],
                             daemon=True).start()

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.out):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def stop(self, timeout=0):
        """Wait up to `timeout` s for the VM to end, then kill its process group."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return None

    def why(self):
        lines = [l.strip() for l in self.out + self.err if l.strip()]
        telling = [l for l in lines if re.search(r"panic|error|fatal|refused|cannot", l, re.I)]
        return ((telling or lines or ["no output"])[-1])[:140]


def get(port, path, timeout=10.0, tries=50):
    """One HTTP GET from the host; the listener may come up just after the banner."""
    for _ in range(tries):
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout).read()
        except OSError:
            time.sleep(0.2)
    return None


UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(port, path, seconds):
    """wrk's requests/s and latency percentiles (ms), or an error text."""
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
           f"http://127.0.0.1:{port}{path}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    got = parse_wrk(p.stdout)
    if p.returncode != 0 or got is None:
        return f"wrk failed: {(p.stderr or p.stdout).strip()[:120]}"
    return got


def parse_wrk(text):
    """rps, p50 and p99 (ms) and any errors from wrk --latency's report."""
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if not m:
        return None
    got = {"rps": float(m.group(1))}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.0+)?%\s+([0-9.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            got[f"p{pct}"] = float(m.group(1)) * UNIT_MS[m.group(2)]
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    bad = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", text)
    if bad or m:
        got["errors"] = (f"{bad} non-2xx; " if bad else "") + (m.group(1) if m else "")
    return got


class Servers:
    """How to boot each server in each guest, with a fresh host port each time."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.linux_missing = None
        self.initrds = {}
        self.modules = ioimages.Modules(ctx.bzimage) if ctx.vmlinux else None
        if self.modules:
            self.linux_missing = self.modules.missing(ioimages.NET_MODULES)

    def initrd(self, program, linux):
        key = (program, linux)
        if key not in self.initrds:
            self.initrds[key] = ioimages.server_initrd(program, linux, self.modules)
        return self.initrds[key]

    def start(self, column, program, port, cpus=2, mem=MEMORY, timeout=600):
        _, osprey_argv, init_argv, guest_port, _, _ = SERVERS[program]
        extra = ["-p", f"{port}:{guest_port}"]
        guest = Guest("microvm", cpus=cpus, memory=mem)
        initrd, init = self.initrd(program, column == "linux")
        if column == "osprey":
            return Background(guest.osprey_cmd(initrd, osprey_argv, timeout, extra=extra))
        return Background(guest.linux_cmd(self.ctx.vmlinux, initrd, [*init, *init_argv],
                                          extra=extra))


def measure(servers, column, program, seconds, warmup):
    """Boot, wait for the listener, warm up, run wrk once; stop the VM."""
    name, _, _, _, path, ready = SERVERS[program]
    port = free_port()
    vm = servers.start(column, program, port, timeout=seconds + warmup + 300)
    try:
        if not vm.wait_for(ready, 120) or get(port, path) is None:
            return f"{name} did not answer: {vm.why()}"
        if warmup:
            wrk(port, path, warmup)
        got = wrk(port, path, seconds)
        log(f"network: {column} {program}: {got}")
        if isinstance(got, dict) and "rps" in got:
            get(port, "/quit", tries=1)  # the Go server exits; nginx is killed
        return got
    finally:
        vm.stop(5)


def network_rows(ctx):
    reps = ctx.reps
    seconds, warmup = reps["net_seconds"], reps["net_warmup_s"]
    cfg = (f"microvm, 2 CPUs, {MEMORY}, {ctx.accel}; QEMU -netdev user,hostfwd + virtio-net-device; "
           f"wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{seconds}s --latency from the host after a "
           f"{warmup} s warm-up; Linux guest: static 10.0.2.15/24; no native column")
    rows = []
    if not shutil.which("wrk"):
        note = "wrk is not installed (bench/setup installs it)"
        return [Row("network", f"HTTP requests/s, {SERVERS[p][0]}", "req/s", "higher", note=note)
                for p in SERVERS]
    servers = Servers(ctx)
    for program in SERVERS:
        name = SERVERS[program][0]
        rps = Row("network", f"HTTP requests/s, {name}", "req/s", "higher", config=cfg)
        p50 = Row("network", f"HTTP latency p50, {name}", "ms", "lower", config=cfg)
        p99 = Row("network", f"HTTP latency p99, {name}", "ms", "lower", config=cfg)
        rows += [rps, p50, p99]
        if program == "go" and ioimages.go_http_binary() is None:
            for r in (rps, p50, p99):
                r.note = "the Go server was not built (needs golang-go)"
            continue
        if program == "nginx" and not ioimages.NGINX.exists():
            for r in (rps, p50, p99):
                r.note = "nginx is not installed (nginx-light)"
            continue
        columns = ["osprey"] + (["linux"] if ctx.vmlinux and not servers.linux_missing else [])
        samples = {c: {"rps": [], "p50": [], "p99": []} for c in columns}
        for round_no in range(reps["net_rounds"]):
            for column in columns[round_no % 2:] + columns[:round_no % 2]:
                got = measure(servers, column, program, seconds, warmup)
                if isinstance(got, str):
                    for r in (rps, p50, p99):
                        r.fail(column, got)
                    continue
                for key in ("rps", "p50", "p99"):
                    if key in got:
                        samples[column][key].append(got[key])
                if "errors" in got:
                    rps.config += f"; {column}: {got['errors']}"
        for column, found in samples.items():
            for key, row in (("rps", rps), ("p50", p50), ("p99", p99)):
                if found[key]:
                    row.figures[column] = Figure(found[key])
                    row.failed.pop(column, None)
        if servers.linux_missing:
            for r in (rps, p50, p99):
                r.fail("linux", servers.linux_missing)
    return rows


def go_memory_row(ctx):
    """The smallest -m (1 CPU) at which the Go server boots, answers one GET
    from the host and exits 0 after /quit; the bisection of memory.py."""
    step = ctx.reps["memory_step"]
    row = Row("memory", "smallest -m: Go HTTP server", "MiB",
              config=f"microvm, 1 CPU, {ctx.accel}, bisection to {step} MiB from {memory.LOW} MiB; "
                     "boots, answers GET /hello from the host, exits 0 on /quit")
    if ioimages.go_http_binary() is None:
        row.note = "the Go server was not built (needs golang-go)"
        return row
    servers = Servers(ctx)

    def runs(column, who):
        def runs_at(mib, timeout):
            port = free_port()
            start = time.perf_counter()
            vm = servers.start(column, "go", port, cpus=1, mem=f"{mib}M", timeout=int(timeout) + 5)
            ok = vm.wait_for("listening on", timeout) and get(port, "/hello?n=1", tries=20) == b"hello 1\n"
            if ok:
                get(port, "/quit", tries=1)
            status = vm.stop(max(1.0, timeout - (time.perf_counter() - start)))
            if column == "linux":
                status = qemu_status(status)
            ok = ok and status == 0
            seconds = time.perf_counter() - start
            verdict = "serves" if ok else f"fails ({status})"
            if not ok:
                memory.last_failure[who] = vm.why()
            log(f"memory:   {who} Go server at {mib} MiB {verdict} in {seconds:.1f}s")
            return ok, seconds
        return runs_at

    row.figures["osprey"] = memory.smallest(ctx, "Osprey Go server", runs("osprey", "Osprey"))
    if row.figures["osprey"] is None:
        row.fail("osprey", memory.not_even("Osprey"))
    if ctx.vmlinux and not servers.linux_missing:
        row.figures["linux"] = memory.smallest(ctx, "Linux Go server", runs("linux", "Linux"))
        if row.figures["linux"] is None:
            row.fail("linux", memory.not_even("Linux"))
    elif servers.linux_missing:
        row.fail("linux", servers.linux_missing)
    return row
