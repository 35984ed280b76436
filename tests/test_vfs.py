"""The VFS self-test (--test=vfs) with and without an initrd, and the initrd
refusing malformed cpio archives with one clear log line. The archives are
written here in Python (cpio newc), so no host cpio tool is needed."""
import pytest

from conftest import boot


def cpio_entry(name, mode, data=b"", ino=0, nlink=1, uid=0, gid=0, mtime=1234567890,
               rdev=(0, 0), magic="070701", namesize=None, check=0, raw_name=None):
    name_b = raw_name if raw_name is not None else name.encode() + b"\0"
    fields = (ino, mode, uid, gid, nlink, mtime, len(data), 0, 0, rdev[0], rdev[1],
              len(name_b) if namesize is None else namesize, check)
    out = (magic + "".join(f"{v:08X}" for v in fields)).encode() + name_b
    out += b"\0" * (-len(out) % 4) + data
    return out + b"\0" * (-len(out) % 4)


def cpio_archive(*entries, trailer=True):
    return b"".join(entries) + (cpio_entry("TRAILER!!!", 0, mtime=0) if trailer else b"")


DIR, REG, LNK, CHR, FIFO = 0o40000, 0o100000, 0o120000, 0o20000, 0o10000
BIG = bytes(i % 251 for i in range(100000))


def selftest_initrd():
    """What kernel/fs/fs_selftest_more.c expects under /selftest and /deep."""
    return cpio_archive(
        cpio_entry(".", DIR | 0o755),
        cpio_entry("selftest", DIR | 0o755),
        cpio_entry("selftest/hello", REG | 0o640, b"hello from the initrd\n", uid=1000, gid=100),
        cpio_entry("selftest/link", LNK | 0o777, b"hello"),
        # as GNU cpio writes hard links: the data comes with the last one
        cpio_entry("selftest/hard1", REG | 0o644, b"", ino=77, nlink=2),
        cpio_entry("selftest/hard2", REG | 0o644, b"shared data\n", ino=77, nlink=2),
        cpio_entry("selftest/private", DIR | 0o700),
        cpio_entry("selftest/private/secret", REG | 0o600, b"s\n"),
        cpio_entry("deep/a/b/c/file", REG | 0o644, b"deep\n"),  # no parent entries
        cpio_entry("./selftest/dotted", REG | 0o644),
        cpio_entry("/selftest/abs", REG | 0o644),
        cpio_entry("selftest/fifo", FIFO | 0o644),
        cpio_entry("selftest/null", CHR | 0o666, rdev=(1, 3)),
        cpio_entry("selftest/big", REG | 0o644, BIG),
    )


def run_vfs(tmp_path, initrd_bytes, cpus=1, verbose=False):
    """--verbose shows the initrd summary (an info-level line)."""
    extra = ()
    if initrd_bytes is not None:
        path = tmp_path / "initrd.cpio"
        path.write_bytes(initrd_bytes)
        extra = ("--initrd", str(path))
    args = ["--verbose"] if verbose else []
    return boot(args + ["--test=vfs"], cpus=cpus, timeout=60, extra=extra)


@pytest.mark.parametrize("cpus", [1, 2])
def test_vfs_selftest_with_initrd(osprey, tmp_path, cpus):
    b = run_vfs(tmp_path, selftest_initrd(), cpus, verbose=True)
    assert b.status == 0, b
    assert "selftest vfs: passed" in b.log, b
    assert "FAIL" not in b.log, b
    assert "initrd: 14 entries" in b.log, b
    assert "its checks skipped" not in b.log, "the initrd checks must run"
    assert "vfs selftest: hello on the console" in b.out, "console writes reach the serial port"


def test_vfs_selftest_without_initrd(osprey, tmp_path):
    b = run_vfs(tmp_path, None)
    assert b.status == 0, b
    assert "selftest vfs: passed" in b.log, b
    assert "initrd:" not in b.log


def test_crc_archive_is_accepted(osprey, tmp_path):
    data = b"checked\n"
    archive = cpio_archive(cpio_entry("f", REG | 0o644, data, magic="070702", check=sum(data)))
    b = run_vfs(tmp_path, archive, verbose=True)
    assert b.status == 0 and "initrd: 1 entries" in b.log, b


GOOD = cpio_entry("etc", DIR | 0o755) + cpio_entry("etc/passwd", REG | 0o644, b"root:x:0:0::/:/bin/sh\n")

MALFORMED = {
    "bad magic": (b"070799" + GOOD[6:] + cpio_archive(), "bad magic"),
    "odc format": (b"070707" + GOOD[6:], "need newc"),
    "truncated": (cpio_archive(GOOD)[:150], "truncated header"),
    "no trailer": (cpio_archive(GOOD, trailer=False), "without TRAILER"),
    "name without NUL": (cpio_archive(cpio_entry("x", REG, raw_name=b"abcd")), "not NUL-terminated"),
    "size past the end": (cpio_archive(cpio_entry("f", REG, b"abcdefgh"))[:116], "data runs past the end"),
    "dotdot": (cpio_archive(cpio_entry("../escape", REG | 0o644, b"x")), "\"..\" component"),
    "bad hex": (cpio_archive(GOOD)[:20] + b"zz" + cpio_archive(GOOD)[22:], "bad hex digits"),
    "bad checksum": (cpio_archive(cpio_entry("f", REG, b"abc", magic="070702", check=1)), "checksum mismatch"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_initrd_is_refused(osprey, tmp_path, name):
    archive, reason = MALFORMED[name]
    b = run_vfs(tmp_path, archive)
    line = next((l for l in b.log.splitlines() if "initrd: refused" in l), None)
    assert line is not None, b
    assert reason in line, line
    assert "booting with an empty root" in line
    # nothing was mounted half-way: the root is empty and everything else works
    assert b.status == 0 and "selftest vfs: passed" in b.log, b
    assert "its checks skipped" in b.log
