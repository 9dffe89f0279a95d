import json

import pytest
import soundfile as sf

from hearsep.cli.main import main
from speechlike import noise_like, speech_like


@pytest.fixture(scope="module")
def model(tiny_model_path):
    return tiny_model_path


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    (root / "clean").mkdir(), (root / "noisy").mkdir()
    for i, snr in enumerate([2.0, 12.0]):
        s = speech_like(2.0, seed=i)
        n = noise_like(2.0, seed=10 + i, level_dbfs=-25.0 - snr)
        sf.write(root / "clean" / f"utt{i}.wav", s, 16000, subtype="FLOAT")
        sf.write(root / "noisy" / f"utt{i}.wav", s + n, 16000, subtype="FLOAT")
    return root


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("src")
    (root / "speech").mkdir(), (root / "noise").mkdir()
    for i in range(3):
        sf.write(root / "speech" / f"s{i}.wav", speech_like(1.5, seed=30 + i), 16000)
    sf.write(root / "noise" / "n.wav", noise_like(3.0, seed=40), 16000)
    return root


def _run(capsys, *argv):
    code = main(["evaluate", *map(str, argv)])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _error_line(err):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("hearsep evaluate: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_paired_folders_give_a_table_json_and_plot(capsys, model, pairs, tmp_path):
    code, out, err = _run(capsys, model, "--clean", pairs / "clean", "--noisy", pairs / "noisy",
                          "--out", tmp_path / "rep", "--quiet")
    assert code == 0, err
    assert "SI-SDRi dB" in out and "[0, 5)" in out and "[10, 15]" in out and "\nall " in out
    doc = json.loads((tmp_path / "rep" / "evaluation.json").read_text())
    ev = doc["evaluations"][0]
    assert ev["overall"]["files"] == 2 and sorted(ev["bands"]) == ["[0, 5)", "[10, 15]"]
    assert [f["input_snr_db"] for f in ev["files"]] == pytest.approx([2.0, 12.0], abs=0.05)
    assert ev["info"]["latency_ms"] == pytest.approx(4.0)
    for f in ev["files"]:
        assert f["si_sdri_db"] == pytest.approx(f["si_sdr_db"] - f["si_sdr_in_db"], abs=1e-9)
        assert 1.0 <= f["pesq"] <= 4.65 and 0.0 <= f["stoi"] <= 1.0
    assert (tmp_path / "rep" / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| input SNR band dB |" in (tmp_path / "rep" / "evaluation.md").read_text()


def test_generated_mixtures_with_json_output(capsys, model, sources):
    code, out, err = _run(capsys, model, "--mixtures", 4, "--speech", sources / "speech", "--noise", sources / "noise",
                          "--seconds", 1.0, 2.0, "--seed", 3, "--json", "--quiet")
    assert code == 0, err
    ev = json.loads(out)["evaluations"][0]
    assert ev["overall"]["files"] == 4 and ev["info"]["seed"] == 3
    assert all(-5.0 <= f["input_snr_db"] <= 15.0 for f in ev["files"])
    assert len(ev["bands"]) == 4  # stratified SNRs: one mixture per band


@pytest.mark.parametrize("argv,message", [
    ([], "no audio to score"),
    (["--clean", "{p}/clean"], "--clean and --noisy go together"),
    (["--clean", "{p}/nope", "--noisy", "{p}/noisy"], "clean folder not found: "),
    (["--clean", "{p}/clean", "--noisy", "{p}/nope"], "noisy folder not found: "),
    (["--clean", "{p}/clean", "--noisy", "{p}/noisy", "--mixtures", "3"], "not both"),
    (["--mixtures", "3"], "--mixtures needs --speech DIR and --noise DIR"),
    (["--speech", "{p}/clean", "--noise", "{p}/noisy"], "need --mixtures N"),
    (["--mixtures", "3", "--corpus", "{p}"], "has no manifest.csv"),
    (["--mixtures", "3", "--corpus", "{p}/nope"], "corpus folder not found"),
    (["--mixtures", "0", "--speech", "{p}/clean", "--noise", "{p}/noisy"], "must be positive"),
    (["--mixtures", "2", "--speech", "{p}/clean", "--noise", "{p}/noisy", "--snr-range", "5", "-5"], "LO < HI"),
])
def test_bad_arguments_give_one_line_and_exit_2(capsys, model, pairs, argv, message):
    code, out, err = _run(capsys, model, *[a.format(p=pairs) for a in argv])
    assert code == 2
    assert message in _error_line(err)


def test_unpaired_files_are_named(capsys, model, pairs, tmp_path):
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    sf.write(noisy / "utt0.wav", speech_like(2.0), 16000)
    sf.write(noisy / "extra.wav", speech_like(2.0), 16000)
    code, _, err = _run(capsys, model, "--clean", pairs / "clean", "--noisy", noisy)
    assert code == 2
    line = _error_line(err)
    assert "1 clean file(s) without a noisy partner (e.g. utt1)" in line
    assert "1 noisy file(s) without a clean partner (e.g. extra)" in line


def test_missing_model_is_reported_after_audio_checks(capsys, pairs, tmp_path):
    code, _, err = _run(capsys, tmp_path / "none.tflite", "--clean", pairs / "clean", "--noisy", pairs / "noisy")
    assert code == 2
    assert "model file not found" in _error_line(err)


def test_unwritable_out_fails_before_the_evaluation(capsys, model, pairs, tmp_path, monkeypatch):
    import hearsep.eval.evaluate as ev

    def never(*args, **kwargs):
        raise AssertionError("evaluation ran although --out cannot be written")

    monkeypatch.setattr(ev, "evaluate", never)
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "evaluation.png").mkdir()  # the plot cannot be written
    code, out, err = _run(capsys, model, "--clean", pairs / "clean", "--noisy", pairs / "noisy",
                          "--out", tmp_path / "rep", "--quiet")
    assert code == 2
    assert _error_line(err) == f"hearsep evaluate: error: cannot write {tmp_path / 'rep' / 'evaluation.png'}: it is a directory"
    (tmp_path / "file").write_text("x")
    code, out, err = _run(capsys, model, "--clean", pairs / "clean", "--noisy", pairs / "noisy",
                          "--out", tmp_path / "file", "--quiet")
    assert code == 2 and "it is a file, not a folder" in _error_line(err)
