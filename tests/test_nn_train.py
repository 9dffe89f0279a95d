import csv
import json

import pytest

from hearsep.cli import main as cli
from hearsep.errors import ConfigError
from hearsep.model.contract import read_contract
from hearsep.nn.train import TrainConfig, export_int8, export_run, train
from nn_fixtures import write_corpus


def _config(root, run_dir, max_steps, model=None):
    return TrainConfig.from_dict({
        "data": {"manifest": str(root / "manifest.csv"), "segment_s": 0.25, "babble_prob": 0.5, "reverb_prob": 0.5},
        "model": {"architecture": "gru", "units": 8, "input_units": 8, "layers": 1, **(model or {})},
        "train": {"batch_size": 2, "max_steps": max_steps, "time_budget_min": 5, "eval_every_steps": 2,
                  "dev_mixtures": 2, "dev_segment_s": 0.25, "eval_mixtures": 1, "eval_segment_s": 0.25,
                  "calibration_frames": 50, "warmup_steps": 1},
        "output": {"run_dir": str(run_dir)},
    })


@pytest.mark.slow
def test_train_resume_and_artefacts(tmp_path):
    write_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    summary = train(_config(tmp_path / "corpus", run, 2))
    assert summary["steps"] == 2
    with pytest.raises(ConfigError):  # an existing run is never overwritten
        train(_config(tmp_path / "corpus", run, 4))
    summary = train(_config(tmp_path / "corpus", run, 4), resume=True)
    assert summary["steps"] == 4 and summary["examples"] == 8
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [r["step"] for r in rows] == ["0", "2", "4"]
    c = read_contract(run / "model.tflite")
    assert c.info["int8_state_copy"] and c.latency_ms == 4.0
    stats = json.loads((run / "feature_stats.json").read_text())
    assert c.features.mean == stats["mean"] and c.features.std == stats["std"] > 0
    assert (run / "model.keras").is_file() and (run / "model_float.tflite").is_file()
    assert set(summary["eval"]) >= {"float32", "int8"}
    # 50 frames of 2 ms need one 4 s calibration mixture; the card quotes this line
    assert summary["int8_calibration"] == "50 frames: 1 x 4 s training mixtures (no reverb/babble)"
    assert json.loads((run / "summary.json").read_text())["int8_calibration"] == summary["int8_calibration"]
    # export_int8 re-exports the int8 file from model.keras as the trainer did (the int8 step form)
    again = export_int8(run, _config(tmp_path / "corpus", run, 4))
    assert read_contract(again).info == c.info and len(again) == (run / "model.tflite").stat().st_size


def test_export_only_exports_a_finished_run_again_with_the_recipes_graph_parameters(tmp_path, capsys):
    """A run trained with one int8 mask tensor, exported again with ``split_taps`` (the default now):
    new files with two outputs, the same weights, steps and training log; no run: one line, exit 2."""
    import keras
    import numpy as np

    write_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    df = {"architecture": "gru-df", "output": "deep-filter", "df_order": 2, "df_bins": 8}
    train(_config(tmp_path / "corpus", run, 1, model={**df, "split_taps": False}))
    assert read_contract(run / "model.tflite").taps_output == ""
    log = (run / "log.csv").read_text()
    weights = keras.models.load_model(run / "model.keras", compile=False).get_weights()
    summary = export_run(_config(tmp_path / "corpus", run, 1, model=df))
    for name in ("model.tflite", "model_float.tflite"):
        assert read_contract(run / name).taps_output == "df_taps"
    assert summary["steps"] == 1 and summary["model_params"]["split_taps"] is True
    assert json.loads((run / "summary.json").read_text())["eval"] == summary["eval"]
    assert (run / "log.csv").read_text() == log
    for a, b in zip(keras.models.load_model(run / "model.keras", compile=False).get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ConfigError, match="does not fit"):  # other shapes: not this run's model
        export_run(_config(tmp_path / "corpus", run, 1, model={**df, "units": 6}))
    recipe = tmp_path / "r.toml"
    recipe.write_text(f"[data]\nmanifest = '{tmp_path / 'corpus' / 'manifest.csv'}'\n"
                      f"[output]\nrun_dir = '{tmp_path / 'none'}'\n")
    assert cli.main(["train", str(recipe), "--export-only"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no model.keras" in err and not (tmp_path / "none").exists()


def test_cli_bad_config(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\narchitecture = 'nope'\n")
    assert cli.main(["train", str(bad)]) == 2
    assert "unknown architecture" in capsys.readouterr().err
    assert cli.main(["train", str(tmp_path / "missing.toml")]) == 2


def test_recipe_without_its_corpus_says_what_data_it_needs(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    recipe = Path(__file__).parents[1] / "tools/recipes/smoke.toml"
    monkeypatch.chdir(tmp_path)  # no ../shared here
    assert cli.main(["train", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{recipe}: data.manifest ../shared/corpus/manifest.csv not found" in err
    assert "columns path,kind,split" in err and "data.speech_dirs = [...] and data.noise_dirs = [...]" in err
    assert f"run in ({tmp_path})" in err
    assert not (tmp_path / "runs").exists()  # nothing written


def test_missing_data_folders_are_named(tmp_path):
    from hearsep.nn.train import check_data

    (tmp_path / "speech").mkdir()
    cfg = TrainConfig.from_dict({"data": {"speech_dirs": [str(tmp_path / "speech")],
                                          "noise_dirs": [str(tmp_path / "noise")]}})
    with pytest.raises(ConfigError, match=r"data.noise_dirs folder\(s\) not found: .*noise\. This recipe trains on"):
        check_data(cfg)


def test_compressed_spectrum_loss_is_level_invariant_and_zero_at_the_target():
    import numpy as np
    import tensorflow as tf

    from hearsep.nn.train import compressed_spectrum_loss

    rng = np.random.default_rng(0)
    s = tf.complex(*[tf.constant(rng.normal(size=(2, 6, 9)), tf.float32) for _ in range(2)])
    y = s + 0.3 * tf.complex(*[tf.constant(rng.normal(size=(2, 6, 9)), tf.float32) for _ in range(2)])
    loss = float(compressed_spectrum_loss(s, y, 70.0, 30.0))
    assert loss > 0.1
    assert float(compressed_spectrum_loss(s, s, 70.0, 30.0)) < 1e-6
    louder = float(compressed_spectrum_loss(s * 100, y * 100, 70.0, 30.0))  # +40 dB, both
    assert louder == pytest.approx(loss, rel=1e-3)
    # the magnitude term ignores phase, the complex one does not
    flipped = -s
    assert float(compressed_spectrum_loss(s, flipped, 1.0, 0.0)) < 1e-6
    assert float(compressed_spectrum_loss(s, flipped, 0.0, 1.0)) > 1.0


def test_init_from_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="init_from"):
        TrainConfig.from_dict({"data": {"manifest": "x.csv"}, "model": {"architecture": "gru-df",
                                                                        "init_from": str(tmp_path / "no.keras")}})


def test_warm_start_inherits_the_feature_normalisation(tmp_path):
    from hearsep.model.contract import ModelContract
    from hearsep.nn.train import inherited_features

    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    contract = ModelContract.from_json((repo / "models" / "default" / "model.contract.json").read_text())
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "model.contract.json").write_text(contract.to_json())
    assert inherited_features(str(shipped / "model.keras")) == contract.features
    assert inherited_features("") is None
    assert inherited_features(str(tmp_path / "model.keras")) is None  # no contract beside it


def test_thread_settings_are_recipe_keys():
    cfg = TrainConfig.from_dict({"data": {"manifest": "x.csv"}, "train": {"intra_op_threads": 1, "inter_op_threads": 1}})
    assert (cfg.train.intra_op_threads, cfg.train.inter_op_threads) == (1, 1)
    with pytest.raises(ConfigError, match="unknown keys"):
        TrainConfig.from_dict({"data": {"manifest": "x.csv"}, "train": {"threads": 1}})


def test_frozen_layers_keep_their_weights_and_the_head_learns():
    import keras
    import numpy as np
    import tensorflow as tf

    from hearsep.nn import architectures
    from hearsep.nn.train import freeze_layers

    model = architectures.get("gru-df", units=8, input_units=8, layers=1, df_bins=4).sequence(9)
    freeze_layers(model, ["encoder", "gru0"])
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers if layer.weights}
    optimizer = keras.optimizers.Adam(1e-2)
    x = tf.random.normal((2, 5, 9), seed=1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x, training=True) - 0.3))
    optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
    for name, weights in before.items():
        same = all(np.array_equal(a, b) for a, b in zip(weights, model.get_layer(name).get_weights()))
        assert same == (name in ("encoder", "gru0")), name
    with pytest.raises(ConfigError, match="train.freeze: no layers \\['gru7'\\]"):
        freeze_layers(model, ["gru7"])
    cfg = TrainConfig.from_dict({"data": {"manifest": "x.csv"}, "train": {"freeze": ["encoder"]}})
    assert cfg.train.freeze == ["encoder"]


def test_data_seed_draws_new_training_mixtures_and_keeps_the_dev_set(tmp_path):
    import numpy as np

    from hearsep.nn.train import _batch, _sources, dev_generator, train_generator

    root = tmp_path / "corpus"
    write_corpus(root)

    def batches(**train):
        cfg = TrainConfig.from_dict({"data": {"manifest": str(root / "manifest.csv"), "segment_s": 0.25},
                                     "train": train})
        speech, noise = _sources(cfg, cfg.data.train_split)
        return (_batch(train_generator(cfg, speech, noise), 0, 2)[0],
                _batch(dev_generator(cfg, 0.25, seed=cfg.train.seed + 1), 0, 2)[0])

    base_train, base_dev = batches(seed=5)
    new_train, new_dev = batches(seed=5, data_seed=9)
    assert not np.allclose(new_train, base_train)  # new training mixtures ...
    np.testing.assert_array_equal(new_dev, base_dev)  # ... the same dev set
    np.testing.assert_array_equal(batches(seed=5, data_seed=5)[0], base_train)  # 0 means train.seed


@pytest.mark.slow
def test_export_int8_model_params_shape_only_the_exported_graph(tmp_path):
    """``model_params`` override the sidecar's graph-only parameters: the same trained weights exported
    with ``split_taps`` (the default) give the gains and the taps as two outputs, and without it as one."""
    write_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    cfg = _config(tmp_path / "corpus", run, 1, model={"architecture": "gru-df", "output": "deep-filter",
                                                     "df_order": 2, "df_bins": 8})
    train(cfg)
    trained = read_contract(run / "model.tflite")
    assert trained.taps_output and trained.taps_output != trained.mask_output  # split by default
    assert trained.info["int8_state_copy"]
    joined = tmp_path / "joined.tflite"
    joined.write_bytes(export_int8(run, cfg, model_params={"split_taps": False}))
    assert read_contract(joined).taps_output == ""  # one mask tensor
    assert read_contract(export_int8(run, cfg)).taps_output == trained.taps_output  # the sidecar's own parameters
