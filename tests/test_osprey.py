"""The `osprey run` host tool on its own, with a tiny PVH guest
(tests/fixtures/pvh_fixture.S) whose command line picks what it does: exit
statuses, console and log streams, panics, --timeout, signals, --dry-run and
the error lines for bad input."""
import os
import signal
import subprocess
import time

import pytest

from conftest import BUILD, run, scaled

FIXTURE = BUILD / "tests" / "fixtures" / "pvh_fixture.elf"


def fixture_run(osprey, words, extra=(), timeout=20, **kw):
    cmd = [osprey, "run", "--kernel", FIXTURE, "--timeout", str(int(scaled(timeout))), *extra, "--", *words]
    return run(cmd, timeout + 10, **kw)


@pytest.mark.parametrize("status", [0, 3, 255])
def test_exit_status_is_returned(osprey, status):
    p = fixture_run(osprey, ["exit", str(status)])
    assert p.returncode == status, p


def test_console_is_stdout_and_log_is_stderr(osprey):
    p = fixture_run(osprey, ["exit", "0"])
    assert p.stdout == "hello from the console\n", p
    assert "a kernel log line" in p.stderr, p
    assert "\x1e" not in p.stderr, "records for osprey are not shown"


def test_status_without_a_record_comes_from_debug_exit(osprey):
    p = fixture_run(osprey, ["raw", "5"])
    assert p.returncode == 5, p


@pytest.mark.parametrize("vmm", ["microvm", "q35", "pc"])
def test_every_qemu_machine_boots(osprey, vmm):
    p = fixture_run(osprey, ["exit", "7"], extra=["--vmm", vmm])
    assert p.returncode == 7, p


def test_panic_gives_status_70_and_its_text(osprey):
    p = fixture_run(osprey, ["panic"])
    assert p.returncode == 70, p
    assert "Kernel panic on cpu0: fixture panic" in p.stderr, p


def test_stdin_reaches_the_guest_console(osprey):
    p = fixture_run(osprey, ["echo"], input="hi there\n")
    assert p.returncode == 0, p
    assert p.stdout.replace("\r", "") == "hi there\n", p


def test_timeout_stops_the_vm_with_124(osprey):
    start = time.monotonic()
    p = run([osprey, "run", "--kernel", FIXTURE, "--timeout", "1", "--", "hang"], 20)
    assert p.returncode == 124, p
    assert "--timeout 1 s" in p.stderr, p
    assert time.monotonic() - start < scaled(10)


def test_ctrl_c_stops_the_vm(osprey):
    proc = subprocess.Popen([str(osprey), "run", "--kernel", str(FIXTURE), "--", "hang"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=scaled(10))
    assert proc.returncode == 128 + signal.SIGINT, err


def proc_stat_fields(pid):
    """/proc/PID/stat after the command name (state, ppid...), or None once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None


def test_killed_osprey_takes_the_vm_with_it(osprey):
    """SIGKILL cannot be caught to stop the VMM: the VMM must die with osprey."""
    proc = subprocess.Popen([str(osprey), "run", "--kernel", str(FIXTURE), "--", "hang"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1)
    children = [d for d in os.listdir("/proc") if d.isdigit() and (proc_stat_fields(d) or ["", ""])[1] == str(proc.pid)]
    assert children, "osprey runs the VMM as its child"
    proc.kill()
    proc.communicate(timeout=scaled(10))
    deadline = time.monotonic() + scaled(10)
    alive = children
    while alive and time.monotonic() < deadline:
        alive = [c for c in children if (proc_stat_fields(c) or ["Z"])[0] != "Z"]
        time.sleep(0.1)
    assert not alive, f"the VMM {alive} outlived osprey"


def test_dry_run_prints_the_qemu_command(osprey):
    p = run([osprey, "run", "--dry-run", "--kernel", FIXTURE, "--vmm", "q35", "-m", "1G", "-c", "3",
             "--accel", "tcg", "--", "--bootchart", "/prog", "two words"], 10)
    assert p.returncode == 0, p
    line = p.stdout.strip()
    assert line.startswith("/") and "qemu-system-x86_64 -M q35 " in line, line
    for part in ("-accel tcg", "-m 1024M", "-smp 3", "-kernel " + str(FIXTURE), "isa-debug-exit"):
        assert part in line, line
    assert "--power-off-on-abort" in line and "--bootchart /prog" in line, line
    assert '"two words"' in line, "a word with a space reaches the kernel quoted"


def test_gdb_waits_for_the_debugger_and_keeps_a_panic_inspectable(osprey):
    p = run([osprey, "run", "--dry-run", "--kernel", FIXTURE, "--gdb", "1234"], 10)
    assert " -gdb tcp::1234 -S" in p.stdout, p
    assert "--power-off-on-abort" not in p.stdout, p


@pytest.mark.parametrize("args,message", [
    (["--frobnicate"], "unknown option --frobnicate"),
    (["-m", "lots"], 'bad --memory value "lots"'),
    (["-m", "0"], 'bad --memory value "0"'),
    (["-m", "1M"], "--memory 1M is too small"),
    (["-c", "0"], 'bad --cpus value "0"'),
    (["-c", "65"], 'bad --cpus value "65"'),
    (["--vmm", "bochs"], 'unknown --vmm "bochs"'),
    (["--accel", "hvf"], 'unknown --accel "hvf"'),
    (["--timeout", "-1"], 'bad --timeout value "-1"'),
    (["--kernel", "/nonexistent/kernel.elf"], "kernel not found: /nonexistent/kernel.elf"),
    (["--initrd", "/nonexistent/initrd"], "initrd not found: /nonexistent/initrd"),
    (["--qemu", "/nonexistent/qemu"], "QEMU not found at /nonexistent/qemu"),
    (["stray"], "image not found: stray"),
    (["a.img", "b.img"], 'unexpected argument "b.img"'),
    (["--vmm"], "option --vmm needs a value"),
])
def test_bad_input_gets_one_clear_line(osprey, args, message):
    p = run([osprey, "run", "--kernel", FIXTURE, *args], 10)
    assert p.returncode == 125, p
    assert p.stderr.startswith("osprey: ") and message in p.stderr, p
    assert p.stderr.count("\n") == 1, p


def test_missing_qemu_in_path_is_explained(osprey):
    env = dict(os.environ, PATH="/nonexistent")
    env.pop("OSPREY_QEMU", None)
    p = run([osprey, "run", "--kernel", FIXTURE, "--", "exit", "0"], 10, env=env)
    assert p.returncode == 125, p
    assert "qemu-system-x86_64 not found in PATH" in p.stderr and "scripts/setup" in p.stderr, p


def test_help_and_version(osprey):
    p = run([osprey, "run", "--help"], 10)
    assert p.returncode == 0 and "--vmm microvm|q35|pc" in p.stdout, p
    p = run([osprey, "version"], 10)
    assert p.returncode == 0 and p.stdout.startswith("osprey "), p
    p = run([osprey, "launch"], 10)
    assert p.returncode == 125 and 'unknown command "launch"' in p.stderr, p
