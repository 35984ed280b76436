"""docs/syscalls.md stays true: every Linux x86-64 system call is listed, with
the status the built kernel gives it (scripts/gen-syscall-doc --check)."""
from conftest import BUILD, ROOT, run


def test_syscall_table_matches_the_kernel():
    p = run([str(ROOT / "scripts" / "gen-syscall-doc"), str(BUILD / "kernel.elf"), "--check"], 60)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:] + "\nrun scripts/gen-syscall-doc build/kernel.elf"
