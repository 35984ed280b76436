"""Older and smaller CPU models: without SMAP/SMEP (stac/clac patched out),
without XSAVE (FXSAVE), without AVX; signals must still save and restore the
FPU state, and user copies must still work. QEMU runs the same kernel with
another -cpu."""
import shlex

import pytest

from conftest import BUILD, OSPREY, debug_exit_status, run
from test_guest import guest_rootfs

MODELS = ["qemu64", "Nehalem", "Haswell-noTSX"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("program", ["signals", "threads"])
def test_guest_program_on_cpu_model(osprey, tmp_path, model, program):
    exe = BUILD / "tests" / "guest" / f"{program}.musl"
    initrd = guest_rootfs(tmp_path, exe)
    dry = run([OSPREY, "run", "--dry-run", "--accel", "tcg", "-c", "2", "-m", "256M", "--initrd", initrd,
               "--", "--cwd=/tmp", "/bin/" + exe.name], 10)
    argv = shlex.split(dry.stdout)
    argv[argv.index("-cpu") + 1] = model
    p = run(argv, 120)
    failures = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
    assert debug_exit_status(p.returncode) == 0 and not failures, p.stdout[-3000:] + p.stderr[-3000:]
