"""Root filesystems for guest tests: a cpio newc archive (what the kernel
unpacks at boot) built from host files, with the ELF interpreter and shared
libraries a dynamic executable needs found the way ldd finds them."""
import os
import pathlib
import stat
import subprocess

REG, DIR, LNK = 0o100000, 0o040000, 0o120000


def cpio_entry(name, mode, data=b"", ino=0, mtime=0):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, mtime, len(data), 0, 0, 0, 0, len(name_b), 0]
    head = b"070701" + b"".join(b"%08x" % f for f in fields)
    pad_name = (-(len(head) + len(name_b))) % 4
    return head + name_b + b"\0" * pad_name + data + b"\0" * ((-len(data)) % 4)


def shared_libraries(exe):
    """Host paths of the interpreter and libraries `exe` loads (empty if static)."""
    out = subprocess.run(["ldd", str(exe)], capture_output=True, text=True)
    libs = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if "=>" in line:
            target = line.split("=>", 1)[1].split("(")[0].strip()
            if target.startswith("/"):
                libs.append(target)
        elif line.startswith("/"):
            libs.append(line.split("(")[0].strip())
    return libs


class Rootfs:
    """Files by guest path; add() follows host symlinks for libraries so the
    guest sees both the link and its target, as on the host."""

    def __init__(self):
        self.entries = {}

    def add_dir(self, guest, mode=0o755):
        parts = pathlib.PurePosixPath(guest).parts[1:]
        for i in range(1, len(parts) + 1):
            self.entries.setdefault("/" + "/".join(parts[:i]), (DIR | mode, b""))

    def add_bytes(self, guest, data, mode=0o644):
        self.add_dir(str(pathlib.PurePosixPath(guest).parent))
        self.entries[guest] = (REG | mode, data)

    def add_file(self, guest, host, mode=None):
        host = pathlib.Path(host)
        st = os.lstat(host)
        self.add_dir(str(pathlib.PurePosixPath(guest).parent))
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(host)
            self.entries[guest] = (LNK | 0o777, target.encode())
            real = (host.parent / target) if not target.startswith("/") else pathlib.Path(target)
            guest_real = str(pathlib.PurePosixPath(guest).parent / target) if not target.startswith("/") else target
            self.add_file(os.path.normpath(guest_real), real)
            return
        self.entries[guest] = (REG | (mode if mode is not None else stat.S_IMODE(st.st_mode)), host.read_bytes())

    def add_program(self, guest, host):
        """An executable and everything it loads, at the host's paths."""
        self.add_file(guest, host, 0o755)
        for lib in shared_libraries(host):
            self.add_file(lib, lib)

    def cpio(self):
        out = [cpio_entry(name.lstrip("/") or ".", mode, data, ino=i + 1)
               for i, (name, (mode, data)) in enumerate(sorted(self.entries.items()))]
        out.append(cpio_entry("TRAILER!!!", 0))
        return b"".join(out)

    def write(self, path):
        pathlib.Path(path).write_bytes(self.cpio())
        return path
