"""firmware_bridge/firmware (C99 reference): built with gcc, checked on the shared vectors, fuzzed."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).parents[1] / "firmware_bridge/firmware"
VECTORS = Path(__file__).parents[1] / "firmware_bridge/vectors/vectors.json"
SOURCES = ["fb_crc.c", "fb_cobs.c", "fb_frame.c", "fb_device.c"]
CFLAGS = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found: the C reference cannot be built")


def _sanitizers_work(tmp: Path) -> bool:
    src = tmp / "probe.c"
    src.write_text("int main(void) { return 0; }\n")
    r = subprocess.run(["gcc", *SANITIZE, "-o", str(tmp / "probe"), str(src)], capture_output=True)
    return r.returncode == 0 and subprocess.run([str(tmp / "probe")], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("fbc")
    flags = CFLAGS + (SANITIZE if _sanitizers_work(out) else [])
    exes = {}
    for main in ("test_vectors", "fuzz"):
        exe = out / main
        r = subprocess.run(["gcc", *flags, "-o", str(exe), f"{main}.c", *SOURCES], cwd=FIRMWARE,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        exes[main] = exe
    return exes


def test_c_reference_passes_the_shared_vectors(build):
    r = subprocess.run([str(build["test_vectors"]), str(VECTORS)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "crc32 4, cobs 10, frames 8, bad_frames 6, exchanges 37; 83 checks, 0 failures" in r.stdout


def test_c_fuzz_harness_accepts_no_corrupt_frame(build):
    r = subprocess.run([str(build["fuzz"]), "20000", "7"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    counts = dict(re.findall(r"(random accepted|corrupt accepted|resync failures|bad replies) (\d+)", r.stdout))
    assert counts == {"random accepted": "0", "corrupt accepted": "0", "resync failures": "0", "bad replies": "0"}


def test_makefile_builds_with_plain_make(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make not found")
    r = subprocess.run(["make", "-s", f"BUILD={tmp_path}", "SANITIZE=", "test"], cwd=FIRMWARE,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 failures" in r.stdout
