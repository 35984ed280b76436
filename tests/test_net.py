"""Networking end to end, with QEMU user networking (`osprey run -n user`):
servers in Osprey reached from the host through port forwards (a C echo
server over TCP and UDP, a Go net/http server answering 1,000 requests),
guest clients fetching from a server on the host (10.0.2.2), and the
configuration the guest ends up with, by DHCP and by --ip."""
import hashlib
import http.server
import os
import pathlib
import queue
import socket
import subprocess
import threading
import time

import pytest

from conftest import BUILD, run, scaled
from test_apps import base_rootfs

PROGRAMS = BUILD / "tests" / "programs"
GO_HTTP = BUILD / "tests" / "go" / "nethttp"
HOST_FROM_GUEST = "10.0.2.2"  # what QEMU user networking calls the host


def fnv64(data):
    h = 1469598103934665603
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def net_initrd(tmp_path_factory):
    fs = base_rootfs()
    for name in ("net_echo", "net_http_get", "net_ifinfo"):
        path = PROGRAMS / name
        assert path.exists(), f"{path} missing: run make check"
        fs.add_program("/bin/" + name, path)
    if GO_HTTP.exists():
        fs.add_program("/bin/nethttp", GO_HTTP)
    return fs.write(tmp_path_factory.mktemp("net") / "root.cpio")


def osprey_net(osprey, initrd, argv, net=("-n", "user"), cpus=2, timeout=60, vmm=None):
    cmd = [str(osprey), "run", "-c", str(cpus), "-m", "256M", "--initrd", str(initrd), *net,
           "--timeout", str(int(scaled(timeout)))]
    if vmm:
        cmd += ["--vmm", vmm]
    return cmd + ["--", *argv]


class Guest:
    """A VM running in the background; its console lines arrive on a queue."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.out = []
        self.err = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, False), daemon=True).start()

    def _pump(self, stream, keep, to_queue):
        for line in stream:
            keep.append(line)
            if to_queue:
                self.lines.put(line)

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if text in line:
                return line
        raise AssertionError(f"guest never printed {text!r}:\n{self.log()}")

    def finish(self, timeout):
        try:
            self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(0.1)
        return self.proc.returncode

    def log(self):
        return "".join(self.out)[-3000:] + "".join(self.err)[-3000:]


def echo_roundtrip(port, payload, timeout=30):
    with socket.create_connection(("127.0.0.1", port), timeout=scaled(timeout)) as c:
        got = bytearray()

        def reader():
            while len(got) < len(payload):
                chunk = c.recv(65536)
                if not chunk:
                    break
                got.extend(chunk)

        t = threading.Thread(target=reader)
        t.start()
        c.sendall(payload)
        t.join(scaled(timeout))
        return bytes(got)


def test_tcp_and_udp_echo_server_reached_from_host(osprey, net_initrd):
    tport, uport = free_port(), free_port(socket.SOCK_DGRAM)
    g = Guest(osprey_net(osprey, net_initrd, ["/bin/net_echo", "7", "3"],
                         net=("-n", "user", "-p", f"{tport}:7", "-p", f"{uport}:7/udp")))
    try:
        g.wait_for("listening", 60)
        assert echo_roundtrip(tport, b"hello osprey\n") == b"hello osprey\n"
        big = os.urandom(2 << 20)
        assert echo_roundtrip(tport, big) == big, "2 MiB echoed intact"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(scaled(2))
            answers = 0
            for i in range(20):
                msg = b"datagram %d" % i
                u.sendto(msg, ("127.0.0.1", uport))
                try:
                    data, _ = u.recvfrom(65536)
                    answers += data == msg
                except socket.timeout:
                    pass
            assert answers >= 18, f"{answers} of 20 UDP echoes"
        small = b"".join(b"line %d\n" % i for i in range(2000))
        assert echo_roundtrip(tport, small) == small
        status = g.finish(60)
    finally:
        if g.proc.poll() is None:
            g.proc.kill()
    assert status == 0, g.log()
    assert "3 connections served" in "".join(g.out), g.log()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def host_http(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    blob = os.urandom(3 << 20)
    (root / "blob").write_bytes(blob)

    def handler(*args, **kw):
        return QuietHandler(*args, directory=str(root), **kw)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], blob
    server.shutdown()


@pytest.mark.parametrize("vmm", ["microvm", "q35"])
def test_guest_http_client_fetches_from_host(osprey, net_initrd, host_http, vmm):
    port, blob = host_http
    p = run(osprey_net(osprey, net_initrd, ["/bin/net_http_get", HOST_FROM_GUEST, str(port), "/blob"], vmm=vmm),
            120)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    assert f"body {len(blob)} fnv {fnv64(blob)}" in p.stdout, p.stdout[-2000:] + p.stderr[-2000:]


def ifinfo(osprey, net_initrd, boot_options=()):
    p = run(osprey_net(osprey, net_initrd, [*boot_options, "/bin/net_ifinfo"]), 90)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p.stdout.replace("\r", "")


def test_dhcp_configuration(osprey, net_initrd):
    out = ifinfo(osprey, net_initrd)
    assert "if eth0 addr 10.0.2.15 mask 255.255.255.0" in out, out
    assert "mac 52:54:00:12:34:56" in out, out
    assert "if lo addr 127.0.0.1 mask 255.0.0.0" in out, out
    assert "ifaddr eth0 10.0.2.15" in out, out  # getifaddrs: netlink
    assert "/etc/resolv.conf: nameserver 10.0.2.3" in out, out
    assert "/etc/hosts: 127.0.0.1\tlocalhost" in out, out


def test_static_configuration(osprey, net_initrd, host_http):
    opts = ["--ip=eth0,10.0.2.20,255.255.255.0", "--defaultgw=10.0.2.2", "--nameserver=10.0.2.3,1.1.1.1",
            "--hostname=static1"]
    out = ifinfo(osprey, net_initrd, opts)
    assert "if eth0 addr 10.0.2.20 mask 255.255.255.0" in out, out
    assert "hostname static1" in out, out
    assert "/etc/resolv.conf: nameserver 10.0.2.3\n/etc/resolv.conf: nameserver 1.1.1.1" in out, out
    assert "/etc/hosts: 10.0.2.20\tstatic1" in out, out
    port, blob = host_http
    p = run(osprey_net(osprey, net_initrd, [*opts, "/bin/net_http_get", HOST_FROM_GUEST, str(port), "/blob"]), 120)
    assert p.returncode == 0 and f"body {len(blob)}" in p.stdout, p.stdout[-2000:] + p.stderr[-3000:]


def test_bad_ip_option_stops_the_boot(osprey, net_initrd):
    p = run(osprey_net(osprey, net_initrd, ["--ip=eth0,10.0.2.300,24", "/bin/net_ifinfo"]), 60)
    assert p.returncode == 125, p
    assert "not an IPv4 address" in p.stderr, p.stderr[-2000:]


def http_get(port, path, conn=None):
    import http.client
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(20))
    c.request("GET", path)
    r = c.getresponse()
    return c, r.status, r.read()


def test_go_http_server_answers_1000_requests(osprey, net_initrd):
    if not GO_HTTP.exists():
        pytest.skip("the Go test program was not built (needs golang-go from scripts/setup)")
    port = free_port()
    g = Guest(osprey_net(osprey, net_initrd, ["/bin/nethttp", "8080"], net=("-n", "user", "-p", f"{port}:8080"),
                         timeout=240))
    errors = []
    try:
        g.wait_for("listening", 90)
        out = "".join(g.out)
        assert "interface lo" in out and "interface eth0" in out and "10.0.2.15" in out, g.log()

        def client(k):
            conn = None
            for i in range(250):
                try:
                    conn, status, body = http_get(port, f"/hello?n={k}-{i}", conn)
                    if status != 200 or body != f"hello {k}-{i}\n".encode():
                        errors.append((k, i, status, body[:80]))
                except Exception as e:  # noqa: BLE001 - any failure counts
                    errors.append((k, i, repr(e)))
                    conn = None

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(120))
        _, status, body = http_get(port, "/data?n=1000000")
        assert status == 200 and len(body) == 1000000 and body[:3] == bytes([0, 7, 14]), (status, len(body))
        http_get(port, "/quit")
        status = g.finish(60)
    finally:
        if g.proc.poll() is None:
            g.proc.kill()
    assert not errors, f"{len(errors)} failed requests, first: {errors[:3]}"
    assert status == 0, g.log()
