"""/proc and /sys as parsers read them. tests/guest/proc_dump prints a set of
/proc and /sys files from inside Osprey (3 CPUs), and here they are parsed
the way Python, psutil and libmount do, and their layout (key order, tab
padding, column widths) is compared with the host's own Linux /proc. The
in-guest checks are tests/guest/proc_self.c and proc_system.c."""
import pathlib
import re

import pytest

from conftest import BUILD, run, scaled
from rootfs import Rootfs

CPUS = 3
FLAVOURS = ["musl", "glibc"]


def parse_dump(text):
    """{path: content} from the @@@ begin/end markers, and the nprocs line."""
    files, nprocs, cur, lines = {}, None, None, []
    for line in text.splitlines():
        if line.startswith("@@@ begin "):
            cur, lines = line[10:], []
        elif line.startswith("@@@ end ") and cur:
            files[cur] = "\n".join(lines) + "\n"
            cur = None
        elif line.startswith("@@@ nprocs "):
            nprocs = dict(kv.split("=") for kv in line[11:].split())
        elif cur is not None:
            lines.append(line)
    return files, nprocs


@pytest.fixture(scope="module", params=FLAVOURS)
def dump(request, osprey, tmp_path_factory):
    exe = BUILD / "tests" / "guest" / f"proc_dump.{request.param}"
    assert exe.exists(), f"{exe} missing: run make check"
    fs = Rootfs()
    fs.add_dir("/tmp", 0o1777)
    fs.add_program("/bin/" + exe.name, exe)
    initrd = fs.write(tmp_path_factory.mktemp("procfs") / "root.cpio")
    p = run([osprey, "run", "-c", str(CPUS), "-m", "256M", "--initrd", initrd,
             "--timeout", str(int(scaled(60))), "--", "/bin/" + exe.name], 90)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return parse_dump(p.stdout)


def host(path):
    return pathlib.Path(path).read_text()


def keys_in_order(text, sep):
    return [l.split(sep, 1)[0] for l in text.splitlines() if sep in l]


def assert_same_order(ours, theirs):
    common = [k for k in ours if k in set(theirs)]
    theirs_common = [k for k in theirs if k in set(common)]
    assert common == theirs_common, (common, theirs_common)


def test_cpu_counts(dump):
    files, nprocs = dump
    assert nprocs == {"onln": "3", "conf": "3", "get_nprocs": "3", "get_nprocs_conf": "3"}
    assert files["/sys/devices/system/cpu/online"] == "0-2\n"
    assert files["/sys/devices/system/cpu/possible"] == "0-2\n"
    assert files["/sys/devices/system/cpu/cpu0/topology/core_siblings"] == "7\n"


def test_cpuinfo(dump):
    files, _ = dump
    blocks = [b for b in files["/proc/cpuinfo"].split("\n\n") if b.strip()]
    assert len(blocks) == CPUS
    # every "key\t: " prefix is spelled (tabs included) as the host spells it
    host_keys = set(re.findall(r"^([^\n:]+):", host("/proc/cpuinfo"), re.M))
    for i, block in enumerate(blocks):
        info = dict(l.split(":", 1) for l in block.splitlines())  # py-cpuinfo, psutil style
        assert set(info) <= host_keys, set(info) - host_keys
        assert int(info["processor\t"]) == i
        assert "fpu" in info["flags\t\t"].split() and "lm" in info["flags\t\t"].split()
        float(info["cpu MHz\t\t"])
        float(info["bogomips\t"])


def meminfo_shape(text):
    """Per line: the key and where the value ends (columns, as /proc/meminfo pads)."""
    shapes = {}
    for line in text.splitlines():
        m = re.fullmatch(r"(\S+:)( +)(\d+)( kB)?", line)
        assert m, line
        shapes[m.group(1)] = (len(m.group(1) + m.group(2) + m.group(3)), len(m.group(3)), m.group(4))
    return shapes


def test_meminfo(dump):
    files, _ = dump
    text = files["/proc/meminfo"]
    info = {l.split()[0].rstrip(":"): int(l.split()[1]) * 1024 for l in text.splitlines()}  # psutil
    for key in ("MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "Shmem", "Slab",
                "SReclaimable", "Active", "Inactive", "SwapTotal", "SwapFree"):
        assert key in info, key
    assert info["MemTotal"] >= info["MemFree"] > 0
    ours, theirs = meminfo_shape(text), meminfo_shape(host("/proc/meminfo"))
    for key, (end, digits, unit) in ours.items():
        if key in theirs and key != "HardwareCorrupted:":
            assert end == max(24, 16 + digits), (key, end)
            assert unit == theirs[key][2], key
    assert_same_order(list(ours), list(theirs))


def test_stat_uptime_loadavg(dump):
    files, _ = dump
    lines = files["/proc/stat"].splitlines()
    cpu = [l.split() for l in lines if l.startswith("cpu")]
    assert lines[0].startswith("cpu  ") and len(cpu) == CPUS + 1
    assert all(len(c) == 11 and all(x.isdigit() for x in c[1:]) for c in cpu)
    named = {l.split()[0]: l.split()[1:] for l in lines}
    for key in ("intr", "ctxt", "btime", "processes", "procs_running", "procs_blocked", "softirq"):
        assert key in named and named[key][0].isdigit(), key
    up, idle = map(float, files["/proc/uptime"].split())
    assert up > 0 and idle >= 0
    assert re.fullmatch(r"\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+\n", files["/proc/loadavg"])


def test_self_status_and_stat(dump):
    files, _ = dump
    status = files["/proc/self/status"]
    fields = dict(l.split(":\t", 1) for l in status.splitlines())  # psutil splits on ":\t"
    assert fields["Name"] == "proc_dump." + ("musl" if "musl" in fields["Name"] else "glibc")
    assert len(fields["Uid"].split()) == 4 and len(fields["Gid"].split()) == 4
    assert fields["Cpus_allowed_list"] == "0-2" and fields["Cpus_allowed"] == "7"
    assert int(fields["voluntary_ctxt_switches"]) >= 0
    assert re.fullmatch(r" *\d+ kB", fields["VmRSS"]) and len(fields["VmRSS"]) == 11
    assert_same_order(keys_in_order(status, ":\t"), keys_in_order(host("/proc/self/status"), ":\t"))
    stat = files["/proc/self/stat"]
    rest = stat[stat.rfind(")") + 2:].split()  # psutil's parse
    assert len(rest) == 50 and rest[0] == "R"
    assert all(re.fullmatch(r"-?\d+", x) for x in rest[1:])
    statm = files["/proc/self/statm"].split()
    assert len(statm) == 7 and all(x.isdigit() for x in statm)


def test_limits_table(dump):
    files, _ = dump
    ours = files["/proc/self/limits"].splitlines()
    theirs = host("/proc/self/limits").splitlines()
    assert ours[0] == theirs[0]
    assert [l[:26] for l in ours] == [l[:26] for l in theirs]  # the names column
    for line in ours[1:]:
        assert line[25] == " " and line[46] == " " and line[67] == " ", line


def test_mountinfo(dump):
    files, _ = dump
    mounts = {}
    for line in files["/proc/self/mountinfo"].splitlines():  # libmount's split
        left, right = line.split(" - ")
        mid, parent, dev, root, point, opts = left.split()[:6]
        fstype, source, super_opts = right.split()
        assert re.fullmatch(r"\d+:\d+", dev) and int(mid) > 0 and int(parent) > 0
        mounts[point] = (fstype, source, opts.split(","), super_opts)
    assert mounts["/proc"][0] == "proc" and "nosuid" in mounts["/proc"][2]
    assert mounts["/sys"][0] == "sysfs"
    assert "/" in mounts
    table = [l.split() for l in files["/proc/self/mounts"].splitlines()]
    assert all(len(t) == 6 for t in table)
    assert ["proc", "/proc", "proc"] == [t for t in table if t[1] == "/proc"][0][:3]


def test_misc_files(dump):
    files, _ = dump
    assert files["/proc/self/cgroup"] == "0::/\n"
    assert re.fullmatch(r"pos:\t\d+\nflags:\t0[0-7]+\nmnt_id:\t\d+\nino:\t\d+\n", files["/proc/self/fdinfo/0"])
    assert re.fullmatch(r"\[always\] madvise never\n", files["/sys/kernel/mm/transparent_hugepage/enabled"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n",
                        files["/proc/sys/kernel/random/boot_id"])
    assert files["/proc/version"].startswith("Linux version 6.1.0-osprey ")
    assert "nodev\tproc\n" in files["/proc/filesystems"]
    maps = files["/proc/self/maps"].splitlines()
    assert any(l.endswith("[vdso]") for l in maps) and any(l.endswith("[stack]") for l in maps)
    assert files["/proc/self/smaps_rollup"].splitlines()[1].startswith("Rss:")
