"""What the disk and network benchmarks boot: an ext4 disk image holding one
1 GiB file, initramfs archives with the Go HTTP server or nginx, and for the
Linux guest the virtio kernel modules its /init loads (Debian's cloud kernel
builds virtio, virtio-mmio, virtio-blk and virtio-net as modules)."""
import os
import pathlib
import shutil
import subprocess

from common import OUT, ROOT, log
from images import base_rootfs, write_cpio

BUILD_GO_HTTP = "tests/go/nethttp"  # the Go net/http server tests/test_net.py uses
NGINX = pathlib.Path("/usr/sbin/nginx")
SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/sbin", "/usr/sbin"])
DISK_FILE = "big"               # the file on the image, /mnt/big in the guests
DISK_FILE_MIB = 1024
DISK_IMAGE_MIB = 1280           # room for the file, its extent tree, the journal
# tests/test_ext4.py's ext4 feature set, which Osprey mounts read-write
EXT4_FEATURES = ("-b 4096 -O none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,"
                 "flex_bg,sparse_super,large_file,huge_file,dir_nlink,extra_isize,metadata_csum,64bit")
# the modules each guest needs; what they depend on comes from modules.dep
DISK_MODULES = ["virtio_mmio", "virtio_blk"]
NET_MODULES = ["virtio_mmio", "virtio_net"]
GUEST_ADDR = "10.0.2.15/24,10.0.2.2"  # QEMU user networking's guest address and gateway

NGINX_CONF = b"""daemon off;
master_process off;
worker_processes 1;
error_log stderr notice;
pid /tmp/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
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
INDEX_HTML = b"<!DOCTYPE html>\n<html><body><h1>osprey</h1><p>" + b"benchmark page " * 38 + b"</p></body></html>\n"


def go_http_binary():
    """build/tests/go/nethttp, built by make (needs Debian's golang-go)."""
    from common import BUILD
    path = BUILD / BUILD_GO_HTTP
    if not path.exists() and shutil.which("go"):
        subprocess.run(["make", "-C", str(ROOT), f"BUILD={BUILD}", str(path)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return path if path.exists() else None


class Modules:
    """The Linux guest kernel's module files, found through its modules.dep."""

    def __init__(self, bzimage, directory=None):
        release = bzimage.name.split("-", 1)[1] if bzimage else ""
        self.dir = pathlib.Path(directory or pathlib.Path("/lib/modules") / release)
        self.paths, self.deps = {}, {}
        dep = self.dir / "modules.dep"
        if dep.exists():
            for line in dep.read_text().splitlines():
                rel, _, needs = line.partition(":")
                self.paths[self.name(rel)] = rel
                self.deps[self.name(rel)] = [self.name(d) for d in needs.split()]

    @staticmethod
    def name(rel):
        return pathlib.Path(rel).name.split(".ko")[0].replace("-", "_")

    def load_order(self, names):
        """names and everything they need, each after its dependencies (as
        modprobe: modules.dep lists a module's dependencies nearest first)."""
        order = []

        def visit(n):
            for d in reversed(self.deps.get(n, [])):
                visit(d)
            if n not in order:
                order.append(n)
        for n in names:
            visit(n)
        return order

    def missing(self, names):
        """Why these modules cannot be loaded by /init, or None."""
        if not self.paths:
            return f"no {self.dir}/modules.dep for the Linux guest's kernel"
        for n in self.load_order(names):
            rel = self.paths.get(n)
            if rel is None:
                return f"module {n} not found in {self.dir}"
            if not rel.endswith(".ko"):
                return f"module {n} is compressed ({rel}); /init loads plain .ko files only"
        return None

    def add(self, fs, names):
        """Put the modules in the archive; return /init's --insmod options."""
        args = []
        for n in self.load_order(names):
            guest = "/lib/modules/" + pathlib.Path(self.paths[n]).name
            fs.add_file(guest, self.dir / self.paths[n])
            args += ["--insmod", guest]
        return args


def linux_disk_initrd(modules):
    """osbench as /init with the disk modules; returns (archive, init options)."""
    fs = base_rootfs(linux=True)
    fs.add_dir("/mnt")
    insmod = modules.add(fs, DISK_MODULES)
    return write_cpio(fs, OUT / "linux-disk.cpio", True), [*insmod, "--devtmpfs"]


def server_rootfs(linux, program):
    """An archive for a server: "go" (the Go HTTP server at /nethttp) or "nginx"."""
    fs = base_rootfs(linux)
    fs.add_bytes("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n")
    fs.add_bytes("/etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    if program == "go":
        fs.add_file("/nethttp", go_http_binary(), 0o755)
    else:
        fs.add_program("/usr/sbin/nginx", NGINX)
        fs.add_bytes("/etc/nginx/nginx.conf", NGINX_CONF)
        fs.add_dir("/var/log/nginx")
        fs.add_dir("/var/lib/nginx")
        fs.add_bytes("/www/index.html", INDEX_HTML)
    return fs


def server_initrd(program, linux, modules=None):
    """(archive, the Linux /init's options before `spawn`) for a server."""
    fs = server_rootfs(linux, program)
    init = []
    if linux:
        init = [*modules.add(fs, NET_MODULES), "--ifup", GUEST_ADDR]
    name = f"{'linux' if linux else 'osprey'}-{program}.cpio"
    return write_cpio(fs, OUT / name, linux), init


def disk_image():
    """build/bench/disk-1g.img: ext4 holding /big, 1 GiB of non-zero data
    (mkfs.ext4 -d leaves zero blocks out as holes, which would not be read
    from the disk). Made once and reused; None without mkfs.ext4."""
    img = OUT / "disk-1g.img"
    stamp = OUT / "disk-1g.done"
    if img.exists() and stamp.exists():
        return img
    mkfs = shutil.which("mkfs.ext4", path=SBIN)
    if not mkfs:
        return None
    log(f"making {img} ({DISK_FILE_MIB} MiB file on ext4, mkfs.ext4 -d)")
    src = OUT / "disk-src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    block = bytearray(os.urandom(1 << 20))
    with open(src / DISK_FILE, "wb") as f:
        for i in range(DISK_FILE_MIB):
            block[:8] = (i + 1).to_bytes(8, "little")
            f.write(block)
    stamp.unlink(missing_ok=True)
    with open(img, "wb") as f:
        f.truncate(DISK_IMAGE_MIB << 20)
    subprocess.run([mkfs, "-q", "-F", *EXT4_FEATURES.split(), "-d", str(src), str(img)], check=True,
                   capture_output=True)
    shutil.rmtree(src)
    stamp.write_text("ok\n")
    return img
