"""`osprey build` end to end: images from host programs (dynamic glibc and
static musl, Debian's busybox, Python with its standard library), from a
directory and a manifest; the image format's checks; and the one-line errors
for bad input (malformed ELF, missing library, bad options)."""
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import compile_prog, one_line_error, osprey_boot as boot, osprey_build as build, osprey_cmd as osprey


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    exe = compile_prog(tmp_path_factory.mktemp("prog") / "prog")
    assert exe, "gcc is needed to build the test program"
    return exe


@pytest.fixture(scope="module")
def image(tmp_path_factory, prog):
    img = tmp_path_factory.mktemp("img") / "prog.img"
    build(img, "--from-host", f"{prog}=/app/prog", "-e", "GREETING=hello", "--cwd", "/etc",
          "--", "/app/prog", "say", "from the image")
    return img


def test_dynamic_program_runs_from_its_image(image):
    p = boot(image)
    assert p.returncode == 0, p
    assert p.stdout.splitlines() == ["say: from the image", "GREETING=hello", "cwd=/etc"], p


def test_command_after_dashes_replaces_the_default(image):
    p = boot(image, "--", "/app/prog", "exit", "42")
    assert p.returncode == 42, p


@pytest.mark.parametrize("status", [0, 1, 255])
def test_exit_status_comes_back(image, status):
    p = boot(image, "--", "/app/prog", "exit", str(status))
    assert p.returncode == status, p


def test_killed_by_a_signal_is_128_plus_the_signal(image):
    p = boot(image, "--", "/app/prog", "kill")
    assert p.returncode == 128 + 9, p


def test_run_options_override_the_image_settings(image):
    p = boot("-e", "GREETING=bonjour", "--cwd", "/root", image, "--", "/app/prog", "say", "x")
    assert p.returncode == 0, p
    assert "GREETING=bonjour" in p.stdout and "cwd=/root" in p.stdout, p


def test_the_image_has_the_files_a_program_expects(image):
    p = boot(image, "--", "/app/prog", "passwd")
    assert p.returncode == 0 and "root home: /root" in p.stdout, p
    listing = osprey("inspect", image).stdout
    for path in ("/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf"):
        assert path in listing, listing
    assert "drwxrwxrwt" in listing and " /tmp" in listing, listing


def test_inspect_shows_the_command_settings_and_libraries(image):
    p = osprey("inspect", image)
    assert p.returncode == 0, p
    assert "command:  /app/prog say 'from the image'" in p.stdout, p.stdout
    assert "env:      GREETING=hello" in p.stdout and "cwd:      /etc" in p.stdout, p.stdout
    assert "libc.so.6" in p.stdout and "/app/prog" in p.stdout, p.stdout
    assert "ld-linux-x86-64.so.2 -> " in p.stdout, "the interpreter's symlink chain is kept"


def test_static_musl_program(tmp_path):
    exe = compile_prog(tmp_path / "prog", static=True)
    if not exe:
        pytest.skip("musl-gcc is not installed")
    img = tmp_path / "static.img"
    build(img, "--from-host", f"{exe}=/prog", "--", "/prog", "exit", "7")
    assert boot(img).returncode == 7
    assert "libc.so.6" not in osprey("inspect", img).stdout


def test_debian_busybox(tmp_path):
    found = [p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p)]
    if not found:
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    img = tmp_path / "bb.img"
    build(img, "--from-host", found[0], "--", found[0], "echo", "hello", "busybox")
    p = boot(img)
    assert p.returncode == 0 and "hello busybox" in p.stdout, p


def test_python_with_its_standard_library(tmp_path):
    py = pathlib.Path("/usr/bin/python3")
    stdlib = sorted(pathlib.Path("/usr/lib").glob("python3.[0-9]*"))
    if not py.exists() or not stdlib:
        pytest.skip("no Debian python3 on this host")
    img = tmp_path / "py.img"
    build(img, "--from-host", py, "--from-host", stdlib[-1], "--", py, "-c", "print(6*7)", timeout=120)
    p = boot(img, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "42", p


def test_directory_and_manifest_inputs(tmp_path, prog):
    tree = tmp_path / "tree"
    (tree / "data").mkdir(parents=True)
    (tree / "data" / "a.txt").write_text("a\n")
    os.symlink("a.txt", tree / "data" / "b.txt")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "app.conf").write_text("x=1\n")
    manifest = tmp_path / "app.manifest"
    manifest.write_text("[manifest]\n# comment\n/srv/conf/**: conf/**\n/srv/app.conf: conf/app.conf\n"
                        "/srv/link: ->/srv/app.conf\n")
    img = tmp_path / "m.img"
    build(img, "--from-host", f"{prog}=/app/prog", "--dir", f"{tree}=/srv/tree", "--manifest", manifest,
          "--file", f"/etc/extra={manifest}", "--", "/app/prog", "say", "m")
    listing = osprey("inspect", img).stdout
    for line in ("/srv/tree/data/a.txt", "/srv/tree/data/b.txt -> a.txt", "/srv/conf/app.conf",
                 "/srv/link -> /srv/app.conf", "/etc/extra"):
        assert line in listing, listing
    p = boot(img, "--cwd", "/srv/tree/data")
    assert p.returncode == 0 and "cwd=/srv/tree/data" in p.stdout, p


def test_builds_are_reproducible(tmp_path, prog):
    a, b = tmp_path / "a.img", tmp_path / "b.img"
    for img in (a, b):
        build(img, "--from-host", f"{prog}=/app/prog", "--", "/app/prog")
    assert a.read_bytes() == b.read_bytes()


def test_the_only_program_is_the_default_command(tmp_path, prog):
    img = tmp_path / "d.img"
    build(img, "--from-host", f"{prog}=/bin/prog")
    p = boot(img)
    assert p.returncode == 0 and "say:" in p.stdout, p


def damaged(image, tmp_path, how):
    data = bytearray(image.read_bytes())
    out = tmp_path / "bad.img"
    if how == "flip":
        data[len(data) // 2] ^= 0xff
    elif how == "truncate":
        data = data[:len(data) - 5000]
    elif how == "magic":
        data[0:8] = b"NOTANIMG"
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize("how,message", [
    ("flip", "is corrupt: checksum mismatch"),
    ("truncate", "is truncated"),
    ("magic", "is not an Osprey image"),
])
def test_damaged_images_are_refused(image, tmp_path, how, message):
    bad = damaged(image, tmp_path, how)
    one_line_error(boot(bad), message)
    one_line_error(osprey("inspect", bad), message)


def test_malformed_elf_gets_one_clear_line(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x03\x00\x3e\x00" + b"\0" * 20)
    one_line_error(osprey("build", "-o", tmp_path / "x.img", "--from-host", bad),
                   f"{bad} is a malformed ELF file: shorter than its ELF header")
    assert not (tmp_path / "x.img").exists()
    assert not list(tmp_path.glob("x.img.tmp*")), "no half-written image is left"


def test_missing_library_is_named(tmp_path):
    lib_src, main_src = tmp_path / "lib.c", tmp_path / "main.c"
    lib_src.write_text("int osprey_answer(void) { return 42; }\n")
    main_src.write_text("int osprey_answer(void);\nint main(void) { return osprey_answer(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", tmp_path / "libospreytest.so", lib_src], check=True)
    subprocess.run(["gcc", "-o", tmp_path / "main", main_src, f"-L{tmp_path}", "-lospreytest"], check=True)
    (tmp_path / "libospreytest.so").unlink()
    one_line_error(osprey("build", "-o", tmp_path / "x.img", "--from-host", tmp_path / "main"),
                   f"cannot find libospreytest.so, needed by {tmp_path}/main")


def test_a_library_found_through_runpath_origin(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib.c").write_text("int osprey_answer(void) { return 42; }\n")
    (tmp_path / "main.c").write_text("int osprey_answer(void);\nint main(void) { return osprey_answer(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,-soname,libanswer.so.1", "-o",
                    tmp_path / "lib" / "libanswer.so.1.0", tmp_path / "lib.c"], check=True)
    os.symlink("libanswer.so.1.0", tmp_path / "lib" / "libanswer.so.1")
    os.symlink("libanswer.so.1", tmp_path / "lib" / "libanswer.so")
    subprocess.run(["gcc", "-o", tmp_path / "main", tmp_path / "main.c", f"-L{tmp_path}/lib", "-lanswer",
                    "-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib"], check=True)
    img = tmp_path / "o.img"
    build(img, "--from-host", f"{tmp_path}/main=/opt/main")
    listing = osprey("inspect", img).stdout
    assert "/opt/lib/libanswer.so.1 -> libanswer.so.1.0" in listing, listing
    assert boot(img).returncode == 42


@pytest.mark.parametrize("args,message", [
    (["--from-host", "/bin/true"], "osprey build needs -o IMAGE"),
    (["-o", "x.img"], "nothing to put in the image"),
    (["-o", "x.img", "--from-host", "/nonexistent/prog"], "--from-host /nonexistent/prog: No such file"),
    (["-o", "x.img", "--from-host", "/etc/hostname"], "/etc/hostname is not an ELF executable or a #! script"),
    (["-o", "x.img", "--dir", "/nonexistent"], "--dir /nonexistent: No such file"),
    (["-o", "x.img", "--file", "relative=/etc/hostname"], 'bad --file value "relative=/etc/hostname"'),
    (["-o", "x.img", "--manifest", "/nonexistent.manifest"], "cannot read manifest /nonexistent.manifest"),
    (["-o", "x.img", "--format", "xfs", "--dir", "/etc"], 'unknown --format "xfs" (use initrd or ext4)'),
    (["-o", "x.img", "--format", "ext4", "--disk-size", "lots", "--dir", "/etc"], 'bad --disk-size value "lots"'),
    (["-o", "x.img", "--disk-size", "64M", "--dir", "/etc"], "--disk-size is for --format ext4"),
    (["-o", "x.img", "-e", "NOVALUE", "--dir", "/etc"], 'bad --env value "NOVALUE"'),
    (["-o", "x.img", "--frobnicate"], "unknown option --frobnicate"),
    (["-o", "x.img", "--file", "/a=/etc/hostname"], "no command: give it after --"),
])
def test_bad_build_input_gets_one_clear_line(tmp_path, args, message):
    one_line_error(osprey("build", *args, cwd=tmp_path), message)


def test_a_bad_manifest_line_is_located(tmp_path):
    m = tmp_path / "bad.manifest"
    m.write_text("/ok: /etc/hostname\nnot-absolute: x\n")
    one_line_error(osprey("build", "-o", tmp_path / "x.img", "--manifest", m),
                   f"{m}:2: the guest path must be absolute")


def test_help_for_every_command():
    for cmd, text in [("help", "build      package a program"), ("build --help", "--from-host PATH[=GUEST]"),
                      ("run --help", "--rootfs DIR"), ("inspect --help", "usage: osprey inspect IMAGE")]:
        p = osprey(*cmd.split())
        assert p.returncode == 0 and text in p.stdout, (cmd, p)
