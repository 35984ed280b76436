"""Seed corpus for the cpio fuzzer: small valid newc archives (files, dirs,
symlinks, hard links, the CRC variant, two archives back to back)."""
import pathlib
import sys


def entry(name, mode, data=b"", ino=0, nlink=1, magic="070701", check=0):
    name_b = name.encode() + b"\0"
    hdr = (magic + "".join(f"{v:08X}" for v in (
        ino, mode, 0, 0, nlink, 1700000000, len(data), 0, 0, 1, 3, len(name_b), check))).encode()
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4) + data
    return out + b"\0" * (-len(out) % 4)


def archive(*entries):
    return b"".join(entries) + entry("TRAILER!!!", 0)


SEEDS = {
    "basic": archive(entry(".", 0o40755), entry("bin", 0o40755), entry("bin/sh", 0o100755, b"#!x\n"),
                     entry("lib", 0o120777, b"bin")),
    "hardlinks": archive(entry("a", 0o100644, b"", 7, 2), entry("b", 0o100644, b"data", 7, 2)),
    "crc": archive(entry("c", 0o100644, b"abc", magic="070702", check=sum(b"abc"))),
    "devices": archive(entry("dev", 0o40755), entry("dev/null", 0o20666), entry("fifo", 0o10644)),
    "concat": archive(entry("x", 0o100644, b"1")) + b"\0" * 512 + archive(entry("y", 0o100644, b"2")),
}

if __name__ == "__main__":
    d = pathlib.Path(sys.argv[1])
    d.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (d / f"seed-{name}").write_bytes(data)
