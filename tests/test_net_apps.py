"""Real network servers from Debian's packages, unmodified, inside Osprey and
reached from the host through port forwards: redis-server answering
redis-cli, nginx (daemon off, master_process off) serving files whose
checksums match."""
import hashlib
import os
import pathlib
import shutil
import subprocess
import urllib.request

import pytest

from conftest import scaled
from test_apps import base_rootfs
from test_net import Guest, free_port, osprey_net

REDIS = pathlib.Path("/usr/bin/redis-server")
REDIS_CLI = shutil.which("redis-cli")
NGINX = pathlib.Path("/usr/sbin/nginx")

NGINX_CONF = b"""daemon off;
master_process off;
worker_processes 1;
error_log stderr notice;
pid /tmp/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path /tmp/body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    server {
        listen 80;
        root /www;
    }
}
"""


def server_rootfs():
    fs = base_rootfs()
    fs.add_bytes("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n")
    fs.add_bytes("/etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return fs


def redis_cli(port, *args):
    p = subprocess.run([REDIS_CLI, "-p", str(port), *args], capture_output=True, text=True,
                       timeout=scaled(20))
    return p.stdout.strip()


def test_redis_set_get_from_host(osprey, tmp_path):
    if not REDIS.exists() or not REDIS_CLI:
        pytest.skip("redis-server and redis-tools are not installed (scripts/setup installs them)")
    fs = server_rootfs()
    fs.add_program("/usr/bin/redis-server", REDIS)
    initrd = fs.write(tmp_path / "redis.cpio")
    port = free_port()
    g = Guest(osprey_net(osprey, initrd, ["/usr/bin/redis-server", "--port", "6379", "--save", "",
                                          "--appendonly", "no", "--protected-mode", "no"],
                         net=("-n", "user", "-p", f"{port}:6379"), timeout=120))
    try:
        g.wait_for("Ready to accept connections", 90)
        assert redis_cli(port, "SET", "greeting", "hello from the host") == "OK", g.log()
        assert redis_cli(port, "GET", "greeting") == "hello from the host"
        for _ in range(20):
            redis_cli(port, "INCR", "counter")
        assert redis_cli(port, "GET", "counter") == "20"
        value = "x" * 100000  # one argument: at most 128 KiB
        assert redis_cli(port, "SET", "big", value) == "OK"
        assert redis_cli(port, "STRLEN", "big") == "100000"
        redis_cli(port, "SHUTDOWN", "NOSAVE")
        status = g.finish(60)
    finally:
        if g.proc.poll() is None:
            g.proc.kill()
    assert status == 0, g.log()


def test_nginx_serves_files(osprey, tmp_path):
    if not NGINX.exists():
        pytest.skip("nginx is not installed (scripts/setup installs nginx-light)")
    fs = server_rootfs()
    fs.add_program("/usr/sbin/nginx", NGINX)
    fs.add_bytes("/etc/nginx/nginx.conf", NGINX_CONF)
    fs.add_dir("/var/log/nginx")
    fs.add_dir("/var/lib/nginx")
    blob = os.urandom(4 << 20)
    fs.add_bytes("/www/blob.bin", blob)
    fs.add_bytes("/www/index.html", b"<h1>osprey</h1>\n")
    initrd = fs.write(tmp_path / "nginx.cpio")
    port = free_port()
    g = Guest(osprey_net(osprey, initrd, ["/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf"],
                         net=("-n", "user", "-p", f"{port}:80"), timeout=120))
    try:
        g.wait_for("nginx/", 90)
        base = f"http://127.0.0.1:{port}"
        body = None
        for _ in range(50):  # the listener comes up just after the banner
            try:
                body = urllib.request.urlopen(base + "/index.html", timeout=scaled(10)).read()
                break
            except OSError:
                import time
                time.sleep(0.2)
        assert body == b"<h1>osprey</h1>\n", g.log()
        for _ in range(3):
            got = urllib.request.urlopen(base + "/blob.bin", timeout=scaled(30)).read()
            assert hashlib.sha256(got).hexdigest() == hashlib.sha256(blob).hexdigest()
        try:
            urllib.request.urlopen(base + "/missing", timeout=scaled(10))
            assert False, "a missing file must be 404"
        except urllib.error.HTTPError as e:
            assert e.code == 404
    finally:
        g.proc.kill()
        g.proc.wait()
