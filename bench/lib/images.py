"""What the benchmarks boot: the osbench program, initramfs archives for
Osprey and for the Linux guest, and the Linux guest's kernel (the ELF vmlinux
taken out of Debian's bzImage, so QEMU boots it through its PVH entry)."""
import gzip
import lzma
import os
import pathlib
import re
import shutil
import struct
import subprocess

from common import OUT, ROOT, log
from rootfs import Rootfs, cpio_entry, shared_libraries

PROGRAMS = ROOT / "bench" / "programs"
OSBENCH = OUT / "osbench"
PYTHON = pathlib.Path("/usr/bin/python3.11")
CFLAGS = ["-static", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-pthread"]
# character devices the Linux guest's /init needs before anything is mounted
LINUX_NODES = [("dev/console", 5, 1), ("dev/null", 1, 3), ("dev/zero", 1, 5)]


def build_osbench():
    """One static musl binary, run natively, in Osprey and in the Linux guest."""
    sources = sorted(PROGRAMS.glob("*.c"))
    deps = sources + sorted(PROGRAMS.glob("*.h"))
    if OSBENCH.exists() and all(OSBENCH.stat().st_mtime >= d.stat().st_mtime for d in deps):
        return OSBENCH
    OUT.mkdir(parents=True, exist_ok=True)
    log("building build/bench/osbench (musl-gcc -static)")
    subprocess.run(["musl-gcc", *CFLAGS, "-o", str(OSBENCH), *map(str, sources)], check=True)
    return OSBENCH


def device_entry(name, major, minor, ino):
    """A cpio newc entry for a character device (rootfs.py writes files only)."""
    name_b = name.encode() + b"\0"
    fields = [ino, 0o020600, 0, 0, 1, 0, 0, 0, 0, major, minor, len(name_b), 0]
    head = b"070701" + b"".join(b"%08x" % f for f in fields)
    return head + name_b + b"\0" * ((-(len(head) + len(name_b))) % 4)


def write_cpio(fs, path, linux):
    """Osprey's archive as is; the Linux guest's gets /dev nodes before the trailer."""
    data = fs.cpio()
    if linux:
        trailer = cpio_entry("TRAILER!!!", 0)
        assert data.endswith(trailer)
        nodes = b"".join(device_entry(n, a, b, 90000 + i) for i, (n, a, b) in enumerate(LINUX_NODES))
        data = data[: -len(trailer)] + nodes + trailer
    path.write_bytes(data)
    return path


def base_rootfs(linux):
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_file("/osbench", OSBENCH, 0o755)
    if linux:
        fs.add_file("/init", OSBENCH, 0o755)
        fs.add_dir("/dev")
        fs.add_dir("/proc", 0o555)
    return fs


def osbench_initrd(linux):
    name = "linux-osbench.cpio" if linux else "osprey-osbench.cpio"
    return write_cpio(base_rootfs(linux), OUT / name, linux)


def python_files():
    """Host files `python3 -c pass` opens: what `-v` reports loading, plus the
    landmarks Python looks for to find its prefix (os.py, lib-dynload/)."""
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    p = subprocess.run([str(PYTHON), "-v", "-c", "pass"], capture_output=True, text=True, env=env)
    files = set()
    for line in p.stderr.splitlines():
        m = re.match(r"# (\S+) matches (\S+)$", line)
        if m:
            files.update(m.groups())
    files.add("/usr/lib/python3.11/os.py")
    return sorted(files)


def python_initrd(linux):
    """Python 3 with just what `-c pass` needs, so the figure is about the kernel."""
    if not PYTHON.exists():
        return None
    fs = base_rootfs(linux)
    fs.add_program("/usr/bin/python3", PYTHON)
    fs.add_dir("/usr/lib/python3.11/lib-dynload")
    for f in python_files():
        if os.path.exists(f):
            fs.add_file(f, f)
    name = "linux-python.cpio" if linux else "osprey-python.cpio"
    return write_cpio(fs, OUT / name, linux)


def linux_bzimage():
    """The newest Debian cloud kernel in /boot (bench/setup installs it)."""
    found = sorted(pathlib.Path("/boot").glob("vmlinuz-*-cloud-amd64"),
                   key=lambda p: [int(x) if x.isdigit() else 0 for x in re.split(r"[.-]", p.name)])
    return found[-1] if found else None


def decompress(payload):
    """A bzImage payload: compressed vmlinux, then its size (u32) at the end."""
    size = struct.unpack("<I", payload[-4:])[0]
    if payload[:2] == b"\x1f\x8b":
        data = gzip.decompress(payload[:-4])
    elif payload[:6] == b"\xfd7zXZ\x00":
        data = lzma.decompress(payload[:-4])
    else:
        tools = {b"\x02\x21\x4c\x18": "lz4", b"\x28\xb5\x2f\xfd": "zstd"}
        tool = tools.get(payload[:4])
        if not tool or not shutil.which(tool):
            raise RuntimeError(f"cannot decompress this bzImage payload (magic {payload[:4].hex()})")
        # lz4 and zstd complain about the trailing size word, after writing everything
        p = subprocess.run([tool, "-dc"], input=payload, capture_output=True)
        data = p.stdout
    if len(data) != size or data[:4] != b"\x7fELF":
        raise RuntimeError("the bzImage payload did not decompress to its ELF vmlinux")
    return data


def linux_vmlinux(bzimage):
    """The ELF vmlinux inside a bzImage (its setup header says where the
    payload is), cached in build/bench/linux/."""
    out = OUT / "linux" / (bzimage.name.replace("vmlinuz", "vmlinux") + ".elf")
    if out.exists() and out.stat().st_mtime >= bzimage.stat().st_mtime:
        return out
    image = bzimage.read_bytes()
    if image[0x202:0x206] != b"HdrS":
        raise RuntimeError(f"{bzimage} is not a bzImage")
    setup_sects = image[0x1F1] or 4
    payload_offset, payload_length = struct.unpack_from("<II", image, 0x248)
    start = (setup_sects + 1) * 512 + payload_offset
    log(f"extracting the ELF vmlinux from {bzimage}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(decompress(image[start:start + payload_length]))
    return out


def pvh_entry(path):
    """The XEN_ELFNOTE_PHYS32_ENTRY address of a PVH kernel (ELF32 or ELF64)."""
    with open(path, "rb") as f:
        head = f.read(64)
        is64 = head[4] == 2
        if is64:
            phoff, = struct.unpack_from("<Q", head, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        else:
            phoff, = struct.unpack_from("<I", head, 0x1C)
            phentsize, phnum = struct.unpack_from("<HH", head, 0x2A)
        f.seek(phoff)
        phdrs = f.read(phentsize * phnum)
        for i in range(phnum):
            ph = phdrs[i * phentsize:(i + 1) * phentsize]
            if struct.unpack_from("<I", ph, 0)[0] != 4:  # PT_NOTE
                continue
            if is64:
                offset, = struct.unpack_from("<Q", ph, 8)
                size, = struct.unpack_from("<Q", ph, 32)
            else:
                offset, size = struct.unpack_from("<I", ph, 4)[0], struct.unpack_from("<I", ph, 16)[0]
            f.seek(offset)
            entry = find_pvh_note(f.read(size))
            if entry is not None:
                return entry
    return None


def find_pvh_note(notes):
    pos = 0
    while pos + 12 <= len(notes):
        namesz, descsz, kind = struct.unpack_from("<III", notes, pos)
        name = notes[pos + 12:pos + 12 + namesz]
        desc_at = pos + 12 + ((namesz + 3) & ~3)
        desc = notes[desc_at:desc_at + descsz]
        if name.rstrip(b"\0") == b"Xen" and kind == 18:
            return int.from_bytes(desc[:8] if descsz >= 8 else desc[:4], "little")
        pos = desc_at + ((descsz + 3) & ~3)
    return None


def build_plugin():
    """The instruction-counting TCG plugin (bench/qemu-plugin/insn_count.c)."""
    src = ROOT / "bench" / "qemu-plugin" / "insn_count.c"
    out = OUT / "insn_count.so"
    if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                    "-o", str(out), str(src)], check=True)
    return out


def elf_loaded_bytes(path):
    """Bytes an ELF64 kernel occupies in guest memory: its PT_LOAD segments' memsz."""
    with open(path, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        phdrs = f.read(phentsize * phnum)
    total = 0
    for i in range(phnum):
        ph = phdrs[i * phentsize:(i + 1) * phentsize]
        if struct.unpack_from("<I", ph, 0)[0] == 1:  # PT_LOAD
            total += struct.unpack_from("<Q", ph, 40)[0]
    return total
