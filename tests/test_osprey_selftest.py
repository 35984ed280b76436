"""The osprey host tool's C unit tests (tools/osprey/selftest: the cpio
writer, the file tree, the ELF reader, ld.so.cache, the dependency walk,
manifests, image files, the serial record filter), run as one binary."""
from conftest import BUILD, run

SELFTEST = BUILD / "osprey-selftest"


def test_osprey_unit_tests(tmp_path):
    assert SELFTEST.exists(), f"{SELFTEST} missing: run make"
    p = run([SELFTEST], 120, env={"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.rstrip().endswith(", 0 failed"), p.stdout
