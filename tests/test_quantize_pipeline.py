"""State scale sharing (verified, with fallback), the .keras front end, reports and the CLI."""

import json

import numpy as np
import pytest

from hearsep.cli.main import main
from hearsep.model.contract import read_contract
from hearsep.quantize.convert import convert, share_state_quantization, verify_state_sharing, stream_calibration_inputs
from hearsep.runtime.separator import TFLiteSeparator
from quantize_models import calibration, contract, step_model


@pytest.mark.parametrize("mode,dtype", [("int8", np.int8), ("int16x8", np.int16)])
def test_state_scales_shared_and_runtime_copies_raw(mode, dtype):
    c = contract()
    blob = convert(step_model("gru"), c, mode, calibration())
    info = read_contract(blob).info
    assert info["quantization"] == mode and info["state_copy"] == "raw"
    assert info["state_check"]["raw_copy_ok"] is True and info["state_check"]["frames"] == 400
    sep = TFLiteSeparator(blob, xnnpack=False)
    assert sep.state_copy_raw == [True]
    sin, sout = sep.inputs["state"], sep.outputs["state_out"]
    assert sin.dtype == sout.dtype == dtype
    assert (sin.scale, sin.zero_point) == (sout.scale, sout.zero_point)


def _scale_state_tensors(blob: bytes, names: tuple[str, ...], factor: float) -> bytes:
    """Multiply the quantization scale of the named state tensors by ``factor``."""
    from hearsep.quantize.convert import set_quantization

    runner = TFLiteSeparator(blob, xnnpack=False).interpreter.get_signature_runner()
    details = {**runner.get_input_details(), **runner.get_output_details()}
    return set_quantization(blob, contract(), {n: (details[n]["quantization"][0] * factor, details[n]["quantization"][1])
                                               for n in names})


def test_verification_rejects_a_raw_copy_that_costs_accuracy():
    c = contract()
    model = step_model("gru")
    float_blob = convert(model, c, "float32")
    int8 = convert(model, c, "int8", calibration(), verify_state=False)
    samples = stream_calibration_inputs(float_blob, c, calibration())
    good = verify_state_sharing(int8, int8, float_blob, c, samples)
    assert good["raw_copy_ok"] and good["shared_in_model"] and good["frames"] == 400
    assert good["mask_rmse_raw"] < 1 / 256  # below one int8 step of the [0, 1] mask
    # shared scales, but 16x coarser: the raw copy is allowed by the runtime and costs accuracy
    coarse = verify_state_sharing(_scale_state_tensors(int8, ("state", "state_out"), 16.0), int8, float_blob, c,
                                  samples)
    assert coarse["shared_in_model"] and not coarse["raw_copy_ok"]
    assert coarse["mask_rmse_raw"] > 1.5 / 256 and coarse["mask_rmse_requantize"] < 1 / 256
    # input scale alone changed: the runtime would requantize, so no raw copy to approve
    broken = verify_state_sharing(_scale_state_tensors(int8, ("state",), 4.0), int8, float_blob, c, samples)
    assert not broken["shared_in_model"] and not broken["raw_copy_ok"]


def test_share_state_quantization_reports_before_and_after():
    c = contract()
    blob = convert(step_model("gru"), c, "int8", calibration(), verify_state=False)
    patched, report = share_state_quantization(blob, c)
    (r,) = report
    assert r["state"] == "state" and len(r["shared"]) == 2


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    path = d / "tiny.keras"
    step_model("gru").save(path)
    (d / "tiny.contract.json").write_text(contract().to_json())
    return path


@pytest.mark.slow
def test_cli_all_modes_writes_models_reports_and_meets_quality_bounds(keras_file, tmp_path, capsys):
    out = tmp_path / "all"
    rc = main(["quantize", str(keras_file), "--all-modes", "-o", str(out), "--calib-seconds", "3",
               "--eval-items", "3", "--eval-seconds", "2", "--invokes", "50", "--quiet"])
    assert rc == 0
    captured = capsys.readouterr()
    assert "done in" in captured.out
    # no --calib/--eval: both are synthetic, and the user is told that this is not speech
    assert "warning: calibrated on synthetic speech-like signals, not speech" in captured.err
    assert "warning: quality measured on synthetic signals, not speech" in captured.err
    for mode in ("float32", "float16", "dynamic", "int8", "int16x8"):
        m = out / f"tiny_{mode}.tflite"
        assert read_contract(m).info["quantization"] == mode
        for ext in ("json", "md", "png"):
            assert (out / f"tiny_{mode}.report.{ext}").stat().st_size > 100
    comp = json.loads((out / "comparison.json").read_text())
    rows = {r["mode"]: r for r in comp["rows"]}
    assert rows["float32"]["delta_si_sdri_db"] == 0.0
    assert rows["int8"]["edgetpu_eligible"] and not rows["float32"]["edgetpu_eligible"]
    assert rows["int8"]["state_copy"] == "raw"
    assert abs(rows["int8"]["delta_si_sdri_db"]) <= 0.3
    assert abs(rows["int16x8"]["delta_si_sdri_db"]) <= 0.1
    assert rows["int8"]["mask_abs_error_mean"] < 0.02 and rows["int16x8"]["mask_abs_error_mean"] < 0.002
    assert rows["int16x8"]["output_snr_vs_float_db"] > rows["int8"]["output_snr_vs_float_db"] > 20
    r8 = json.loads((out / "tiny_int8.report.json").read_text())
    r32 = json.loads((out / "tiny_float32.report.json").read_text())
    assert r8["parameter_bytes"] < 0.5 * r32["parameter_bytes"]  # file size of a tiny model is mostly metadata
    assert r8["latency"]["xnnpack"]["invokes"] == 50 and r8["latency"]["builtin"]["p99_us"] > 0
    assert "NOT speech" in r8["calibration"] and "NOT speech" in r8["evaluation"]
    assert "say nothing about quality on speech" in r8["evaluation"]
    assert rows["float32"]["output_snr_vs_float_db"] is None  # identical output: infinite SNR, null in JSON
    md = (out / "comparison.md").read_text()
    assert "| int8 |" in md and "Whole run" in md


@pytest.mark.slow
def test_cli_single_mode_with_audio_folder_calibration(keras_file, tmp_path, capsys):
    import soundfile as sf

    from hearsep.quantize.calibration import synthetic_items

    audio = tmp_path / "audio"
    audio.mkdir()
    for i, item in enumerate(synthetic_items(2, 1.5, 16000, seed=5)):
        sf.write(audio / f"rec{i}.wav", item.noisy, 16000)
    out = tmp_path / "m.tflite"
    rc = main(["quantize", str(keras_file), "--mode", "int8", "-o", str(out), "--calib", str(audio),
               "--eval-items", "2", "--eval-seconds", "1", "--invokes", "20", "--quiet"])
    assert rc == 0
    r = json.loads((tmp_path / "m.report.json").read_text())
    assert "audio files" in r["calibration"]
    assert r["quality"]["scores"]["scored_items"] == 0  # recordings have no clean reference ...
    assert r["quality"]["vs_float"]["mask_abs_error_mean"] < 0.02  # ... but the error vs float is measured
    assert "warning" not in capsys.readouterr().err  # real audio: nothing to warn about


def test_outputs_are_checked_before_any_work(keras_file, tmp_path, capsys):
    (tmp_path / "taken.tflite").mkdir()
    assert main(["quantize", str(keras_file), "--mode", "int8", "-o", str(tmp_path / "taken.tflite")]) == 2
    assert capsys.readouterr().err == f"hearsep quantize: error: cannot write {tmp_path / 'taken.tflite'}: it is a directory\n"
    (tmp_path / "m.report.png").mkdir()  # the report cannot be written: refused before converting
    assert main(["quantize", str(keras_file), "--mode", "int8", "-o", str(tmp_path / "m.tflite")]) == 2
    assert "m.report.png: it is a directory" in capsys.readouterr().err
    assert not (tmp_path / "m.tflite").exists()


def test_cli_errors_are_one_line(keras_file, tmp_path, capsys):
    lonely = tmp_path / "lonely.keras"
    lonely.write_bytes(keras_file.read_bytes())
    assert main(["quantize", str(lonely), "--mode", "int8", "-o", str(tmp_path / "x.tflite")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no contract" in err and "lonely.contract.json" in err and "\n" not in err

    norm = tmp_path / "norm.keras"
    step_model("layernorm").save(norm)
    (tmp_path / "norm.contract.json").write_text(contract().to_json())
    assert main(["quantize", str(norm), "--mode", "int8", "-o", str(tmp_path / "n.tflite"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hearsep quantize: error:") and "\n" not in err
    assert "'norm' (LayerNormalization)" in err and "BatchNormalization" in err
    assert not (tmp_path / "n.tflite").exists()

    assert main(["quantize", str(keras_file), "--all-modes", "-o", str(tmp_path / "x.tflite")]) == 2
    assert "folder" in capsys.readouterr().err


def test_convert_falls_back_to_requantizing_when_the_check_fails(monkeypatch):
    import hearsep.quantize.convert as conv

    def failing(*args, **kwargs):
        return {"raw_copy_ok": False, "shared_in_model": True, "mask_rmse_raw": 0.5,
                "mask_rmse_requantize": 0.01, "frames": 10}

    monkeypatch.setattr(conv, "verify_state_sharing", failing)
    blob = convert(step_model("gru"), contract(), "int8", calibration())
    info = read_contract(blob).info
    assert info["state_copy"] == "requantize" and info["int8_state_copy"] is False
    assert "int8_state_quantization" not in info
    # the converter's own output ships: for this tiny GRU its state scales already agree
    # (0.00733, zero point -3), so the runtime's own check still finds a raw copy safe
    sep = TFLiteSeparator(blob, xnnpack=False)
    sin, sout = sep.inputs["state"], sep.outputs["state_out"]
    assert sin.scale == pytest.approx(0.00733, rel=0.01) and (sin.scale, sin.zero_point) == (sout.scale, sout.zero_point)
    assert sep.state_copy_raw == [True]
