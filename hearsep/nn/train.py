"""Training: a TOML recipe -> a trained separator, its TFLite models (float32, int8) and a log.

Loss: the masked spectrum is resynthesised with the spine's own asymmetric overlap-add (in TF),
and the loss is the negative SNR (or SI-SDR) of that time signal against the target, i.e. what
the runtime outputs is what is optimised. Optional compressed-magnitude and compressed-complex
terms (``mag_weight``, ``cplx_weight``: :func:`compressed_spectrum_loss`, GTCRN's hybrid loss) can be
added. The mask is applied per the architecture's output kind (:func:`hearsep.nn.dsp.apply_mask`);
``model.init_from`` warm-starts from another ``.keras`` model's matching layers.

Run folder (``output.run_dir``): ``checkpoints/last.keras`` (model + optimizer) and ``state.json``
(step, examples seen, elapsed time) every ``checkpoint_min`` minutes, ``feature_stats.json``
(FeatureSpec mean/std measured on training mixtures), ``log.csv`` (step, time, lr, train loss,
dev loss, dev SI-SDRi), and at the end ``model.keras``, ``model_float.tflite``, ``model.tflite``
(int8) and ``summary.json``. Training stops at ``max_steps``, at ``time_budget_min`` or when a file
``STOP`` appears in the run folder, and always writes the final artefacts.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import time
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the tomli backport (a dependency there, see pyproject)
    import tomli as tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from hearsep.errors import ConfigError
from hearsep.files import atomic_path, write_bytes, write_json, write_text
from hearsep.model.contract import FeatureSpec, ModelContract, StatePair
from hearsep.nn import data as data_mod


@dataclass
class StftConfig:
    frame_samples: int = 256
    hop_samples: int = 32
    window: str = "asymmetric"


@dataclass
class DataConfig:
    manifest: str = ""  # corpus manifest.csv (paths relative to it), or:
    speech_dirs: list = field(default_factory=list)  # folders of speech (DNS style) ...
    noise_dirs: list = field(default_factory=list)  # ... and of noise
    dev_speech_dirs: list = field(default_factory=list)
    dev_noise_dirs: list = field(default_factory=list)
    train_split: str = "train"
    dev_split: str = "dev"
    mix: data_mod.MixConfig = field(default_factory=data_mod.MixConfig)
    dev_snr_db: tuple = (-5.0, 15.0)


@dataclass
class ModelConfig:
    architecture: str = "gru"
    params: dict = field(default_factory=dict)
    init_from: str = ""  # a .keras model: weights of layers with the same name and shapes are copied


@dataclass
class OptimConfig:
    batch_size: int = 16
    learning_rate: float = 1e-3
    min_learning_rate: float = 5e-5
    warmup_steps: int = 100
    clipnorm: float = 3.0
    loss: str = "snr"  # "snr" | "sisdr"
    mag_weight: float = 0.0
    cplx_weight: float = 0.0
    max_steps: int = 0  # 0: no step limit
    time_budget_min: float = 60.0
    checkpoint_min: float = 5.0
    eval_every_steps: int = 200
    dev_mixtures: int = 32
    dev_segment_s: float = 2.0
    eval_mixtures: int = 100  # final runtime-shaped evaluation of the TFLite models
    eval_segment_s: float = 4.0
    calibration_frames: int = 4000
    seed: int = 1234  # weights, dev and evaluation mixtures (train.seed + 1 / + 7), calibration (+ 3)
    data_seed: int = 0  # the training mixtures' seed; 0: train.seed (a continued run sets its own: new mixtures, same dev set)
    freeze: list = field(default_factory=list)  # layer names kept as they are (e.g. a warm-started core): not trained
    qat_range_percentile: float = 99.99  # QAT (model qat = true): percentile of the measured cell ranges; 0: fixed grids only
    intra_op_threads: int = 0  # TensorFlow thread pools; 0: TensorFlow's default (all cores)
    inter_op_threads: int = 0


@dataclass
class TrainConfig:
    stft: StftConfig = field(default_factory=StftConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: OptimConfig = field(default_factory=OptimConfig)
    run_dir: str = "runs/default"
    source: str = ""

    @classmethod
    def from_toml(cls, path: str | Path) -> "TrainConfig":
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config not found: {path}")
        try:
            raw = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict, source: str = "") -> "TrainConfig":
        unknown = set(raw) - {"stft", "data", "model", "train", "output"}
        if unknown:
            raise ConfigError(f"config: unknown sections {sorted(unknown)}")
        stft = _fill(StftConfig, raw.get("stft", {}), "stft")
        d = dict(raw.get("data", {}))
        mix_fields = {f.name for f in dataclasses.fields(data_mod.MixConfig)}
        mix = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in mix_fields}
        d = {k: v for k, v in d.items() if k not in mix_fields}
        if "dev_snr_db" in d:
            d["dev_snr_db"] = tuple(d["dev_snr_db"])
        data = _fill(DataConfig, d, "data")
        data.mix = _fill(data_mod.MixConfig, mix, "data").validate()
        m = dict(raw.get("model", {}))
        model = ModelConfig(architecture=m.pop("architecture", "gru"), init_from=m.pop("init_from", ""), params=m)
        train = _fill(OptimConfig, raw.get("train", {}), "train")
        run_dir = raw.get("output", {}).get("run_dir", "runs/default")
        cfg = cls(stft=stft, data=data, model=model, train=train, run_dir=run_dir, source=source)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        from hearsep.features.stft import window_pair
        from hearsep.nn import architectures

        window_pair(self.stft.frame_samples, self.stft.hop_samples, self.stft.window)
        architectures.get(self.model.architecture, **self.model.params)
        if not self.data.manifest and not (self.data.speech_dirs and self.data.noise_dirs):
            raise ConfigError("data: give `manifest` or both `speech_dirs` and `noise_dirs`")
        if self.data.mix.segment_samples % self.stft.hop_samples:
            raise ConfigError("data.segment_s must be a whole number of hops")
        if self.train.loss not in ("snr", "sisdr"):
            raise ConfigError(f"train.loss must be 'snr' or 'sisdr', not {self.train.loss!r}")
        if self.model.init_from and not Path(self.model.init_from).is_file():
            raise ConfigError(f"model.init_from: no such file {self.model.init_from}")
        if self.train.batch_size < 1 or self.train.learning_rate <= 0:
            raise ConfigError("train.batch_size and train.learning_rate must be positive")


def _fill(cls, values: dict, section: str):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"config [{section}]: unknown keys {sorted(unknown)} (known: {sorted(names)})")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"config [{section}]: {exc}") from None


# ---- data ----------------------------------------------------------------------------------------

def _sources(cfg: TrainConfig, split: str):
    d = cfg.data
    if d.manifest:
        return data_mod.sources_from_manifest(d.manifest, split)
    speech_dirs = d.speech_dirs if split == d.train_split else (d.dev_speech_dirs or d.speech_dirs)
    noise_dirs = d.noise_dirs if split == d.train_split else (d.dev_noise_dirs or d.noise_dirs)
    speech, noise = [], []
    for s_dir, n_dir in zip(speech_dirs, noise_dirs):
        s, n = data_mod.sources_from_folders(s_dir, n_dir)
        speech += s
        noise += n
    return speech, noise


def check_data(cfg: TrainConfig) -> None:
    """Before any work: the recipe's speech/noise data exist, or a :class:`ConfigError` says what
    data the recipe needs and how to point it at the user's own folders."""
    d = cfg.data
    recipe = cfg.source or "the recipe"
    how = ("a speech+noise corpus: either a manifest CSV with columns path,kind,split (kind speech or noise, "
           f"paths relative to the CSV, splits {d.train_split!r} and {d.dev_split!r}) as data.manifest, or folders "
           "of wav/flac/ogg audio as data.speech_dirs = [...] and data.noise_dirs = [...] (searched recursively; "
           "dev_speech_dirs/dev_noise_dirs for a separate dev set); relative paths are taken from the folder you "
           f"run in ({Path.cwd()})")
    if d.manifest:
        if not Path(d.manifest).is_file():
            raise ConfigError(f"{recipe}: data.manifest {d.manifest} not found. This recipe trains on {how}. "
                              "Edit the recipe (or a copy) to point at your data")
        return
    for key in ("speech_dirs", "noise_dirs", "dev_speech_dirs", "dev_noise_dirs"):
        missing = [str(f) for f in getattr(d, key) if not Path(f).is_dir()]
        if missing:
            raise ConfigError(f"{recipe}: data.{key} folder(s) not found: {', '.join(missing)}. "
                              f"This recipe trains on {how}")


def dev_generator(cfg: TrainConfig, segment_s: float, seed: int) -> data_mod.MixtureGenerator:
    """Plain dev mixtures (no reverb/babble/EQ/speed), SNR ``data.dev_snr_db``."""
    speech, noise = _sources(cfg, cfg.data.dev_split)
    mix = data_mod.MixConfig(sample_rate_hz=cfg.data.mix.sample_rate_hz, segment_s=segment_s,
                             snr_db=tuple(cfg.data.dev_snr_db), level_dbfs=(-35.0, -15.0))
    return data_mod.MixtureGenerator(speech, noise, mix, seed=seed)


def train_generator(cfg: TrainConfig, speech, noise) -> data_mod.MixtureGenerator:
    """The training mixtures: seeded by ``train.data_seed`` (``train.seed`` where it is 0), so a
    continued run can draw new mixtures while its dev and evaluation sets (``train.seed`` + 1 / + 7) stay."""
    return data_mod.MixtureGenerator(speech, noise, cfg.data.mix, seed=cfg.train.data_seed or cfg.train.seed)


def _batch(gen, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = [gen.pair(start + i) for i in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


# ---- training ------------------------------------------------------------------------------------

def contract_for(cfg: TrainConfig, spec: FeatureSpec, states, info: dict | None = None) -> ModelContract:
    from hearsep.features.stft import window_pair
    from hearsep.nn import architectures

    _, _, m = window_pair(cfg.stft.frame_samples, cfg.stft.hop_samples, cfg.stft.window)
    return ModelContract(
        sample_rate_hz=cfg.data.mix.sample_rate_hz, frame_samples=cfg.stft.frame_samples,
        hop_samples=cfg.stft.hop_samples, synthesis_samples=m, window=cfg.stft.window, features=spec,
        features_input="features", mask_output="mask",
        **architectures.get(cfg.model.architecture, **cfg.model.params).output_spec(),
        states=tuple(StatePair(s.input, s.output, tuple(s.shape)) for s in states),
        architecture=cfg.model.architecture, info=dict(info or {}),
    ).validate()


def train(cfg: TrainConfig, resume: bool = False, progress: Callable[[dict], None] | None = None) -> dict:
    """Train per ``cfg``; returns the summary dict (also written to ``run_dir/summary.json``)."""
    check_data(cfg)  # before TensorFlow loads: a missing corpus is said at once
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    set_threads(cfg.train.intra_op_threads, cfg.train.inter_op_threads)
    import keras

    from hearsep.nn import architectures
    from hearsep.nn.dsp import Framing, apply_mask, feature_stats, log_power, si_sdr, snr

    report = progress or (lambda event: None)
    t_cfg = cfg.train
    run = Path(cfg.run_dir)
    ckpt_dir = run / "checkpoints"
    state_path = run / "state.json"
    if resume:
        if not state_path.is_file() or not (ckpt_dir / "last.keras").is_file():
            raise ConfigError(f"--resume: no checkpoint in {run}")
    elif state_path.exists():
        raise ConfigError(f"{run} already holds a run; use --resume or another output.run_dir")
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    (run / "STOP").unlink(missing_ok=True)
    keras.utils.set_random_seed(t_cfg.seed)

    framing = Framing(cfg.stft.frame_samples, cfg.stft.hop_samples, cfg.stft.window)
    speech, noise = _sources(cfg, cfg.data.train_split)
    train_gen = train_generator(cfg, speech, noise)
    dev_gen = dev_generator(cfg, t_cfg.dev_segment_s, seed=t_cfg.seed + 1)

    stats_path = run / "feature_stats.json"
    inherited = inherited_features(cfg.model.init_from)
    if stats_path.is_file():
        spec = FeatureSpec(**json.loads(stats_path.read_text()))
    elif inherited is not None:  # a warm start keeps the normalisation its weights were trained on
        spec = inherited
        write_json(stats_path, dataclasses.asdict(spec))
    else:
        stat_gen = data_mod.MixtureGenerator(speech, noise, cfg.data.mix, seed=t_cfg.seed + 2)
        mean, std = feature_stats(_batch(stat_gen, 0, 64)[0], framing)
        spec = FeatureSpec(mean=round(mean, 4), std=round(std, 4))
        write_json(stats_path, dataclasses.asdict(spec))

    arch = architectures.get(cfg.model.architecture, **cfg.model.params)
    if resume:
        model = keras.models.load_model(ckpt_dir / "last.keras", compile=True)
        optimizer = model.optimizer
        state = json.loads(state_path.read_text())
    else:
        model = arch.sequence(framing.bins)
        if cfg.model.init_from:
            layers_copied = init_weights(model, cfg.model.init_from)
            report({"event": "init", "from": cfg.model.init_from, "layers": layers_copied})
        if arch.params.get("qat") and t_cfg.qat_range_percentile > 0:
            from hearsep.nn import qat

            ranges = qat.measure_ranges(model, np.stack(calibration_features(cfg, spec)), arch.params["layers"],
                                        t_cfg.qat_range_percentile)
            qat.set_ranges(model, ranges)
            write_json(run / "qat_ranges.json", ranges)
            report({"event": "qat", "ranges": str(run / "qat_ranges.json")})
        freeze_layers(model, t_cfg.freeze)
        optimizer = keras.optimizers.Adam(learning_rate=t_cfg.learning_rate, clipnorm=t_cfg.clipnorm)
        model.compile(optimizer=optimizer)
        state = {"step": 0, "examples": 0, "elapsed_s": 0.0}
    params = int(model.count_params())
    delay = framing.delay_samples

    out_spec = arch.output_spec()

    def forward(mix, target):
        spectra = framing.analysis(mix)
        mask = model(log_power(spectra, spec), training=True)
        est = framing.synthesis(apply_mask(spectra, mask, out_spec["mask_kind"], out_spec["df_order"],
                                           out_spec["df_bins"]))
        est, ref = est[:, delay:], target[:, : tf.shape(target)[1] - delay]
        metric = snr(ref, est) if t_cfg.loss == "snr" else si_sdr(ref, est)
        loss = -tf.reduce_mean(metric)
        if t_cfg.mag_weight or t_cfg.cplx_weight:
            loss += compressed_spectrum_loss(framing.analysis(ref), framing.analysis(est), t_cfg.mag_weight,
                                             t_cfg.cplx_weight)
        return loss, est, ref

    @tf.function(reduce_retracing=True)
    def train_step(mix, target, lr):
        optimizer.learning_rate.assign(lr)
        with tf.GradientTape() as tape:
            loss, _, _ = forward(mix, target)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    @tf.function(reduce_retracing=True)
    def dev_step(mix, target):
        loss, est, ref = forward(mix, target)
        improvement = si_sdr(ref, est) - si_sdr(ref, mix[:, : tf.shape(mix)[1] - delay])
        return loss, tf.reduce_mean(improvement)

    dev_mix, dev_tgt = _batch(dev_gen, 0, t_cfg.dev_mixtures)

    def evaluate_dev():
        losses, gains = [], []
        for i in range(0, len(dev_mix), 16):
            l, g = dev_step(tf.constant(dev_mix[i:i + 16]), tf.constant(dev_tgt[i:i + 16]))
            losses.append(float(l))
            gains.append(float(g))
        return float(np.mean(losses)), float(np.mean(gains))

    def lr_at(step: int, elapsed: float) -> float:
        if step < t_cfg.warmup_steps:
            return t_cfg.learning_rate * (step + 1) / t_cfg.warmup_steps
        frac = elapsed / (60.0 * t_cfg.time_budget_min) if t_cfg.time_budget_min > 0 else 0.0
        if t_cfg.max_steps:
            frac = max(frac, step / t_cfg.max_steps)
        frac = min(max(frac, 0.0), 1.0)
        lo, hi = t_cfg.min_learning_rate, t_cfg.learning_rate
        return lo + (hi - lo) * 0.5 * (1.0 + math.cos(math.pi * frac))

    log_path = run / "log.csv"
    new_log = not log_path.is_file()
    log_fh = log_path.open("a", newline="")
    log = csv.writer(log_fh)
    if new_log:
        log.writerow(["step", "examples", "elapsed_s", "lr", "train_loss", "dev_loss", "dev_si_sdri_db"])

    def checkpoint():
        with atomic_path(ckpt_dir / "last.keras", suffix=".keras") as tmp:
            model.save(tmp)
        write_json(state_path, state)

    ds = data_mod.make_dataset(train_gen, t_cfg.batch_size, start_index=state["examples"])
    t0 = time.monotonic() - state["elapsed_s"]
    last_ckpt = time.monotonic()
    running, stop_reason = [], ""
    if state["step"] == 0:
        d_loss, d_gain = evaluate_dev()
        log.writerow([0, 0, 0.0, 0.0, "", f"{d_loss:.4f}", f"{d_gain:.3f}"])
        log_fh.flush()
        report({"event": "dev", "step": 0, "dev_loss": d_loss, "dev_si_sdri_db": d_gain})
    for mix, target in ds:
        elapsed = time.monotonic() - t0
        lr = lr_at(state["step"], elapsed)
        loss = float(train_step(mix, target, tf.constant(lr, tf.float32)))
        if not math.isfinite(loss):
            raise ConfigError(f"training diverged at step {state['step']} (loss {loss}); lower train.learning_rate")
        running.append(loss)
        state["step"] += 1
        state["examples"] += t_cfg.batch_size
        state["elapsed_s"] = time.monotonic() - t0
        step = state["step"]
        if step % 20 == 0:
            report({"event": "train", "step": step, "loss": float(np.mean(running[-20:])), "lr": lr,
                    "elapsed_s": state["elapsed_s"]})
        if t_cfg.max_steps and step >= t_cfg.max_steps:
            stop_reason = "max_steps"
        elif t_cfg.time_budget_min > 0 and state["elapsed_s"] >= 60.0 * t_cfg.time_budget_min:
            stop_reason = "time_budget"
        elif (run / "STOP").exists():
            stop_reason = "STOP file"
        if step % t_cfg.eval_every_steps == 0 or stop_reason:
            d_loss, d_gain = evaluate_dev()
            log.writerow([step, state["examples"], f"{state['elapsed_s']:.1f}", f"{lr:.3g}",
                          f"{np.mean(running):.4f}", f"{d_loss:.4f}", f"{d_gain:.3f}"])
            log_fh.flush()
            running = []
            state["dev_loss"], state["dev_si_sdri_db"] = d_loss, d_gain
            report({"event": "dev", "step": step, "dev_loss": d_loss, "dev_si_sdri_db": d_gain})
        if stop_reason or time.monotonic() - last_ckpt >= 60.0 * t_cfg.checkpoint_min:
            checkpoint()
            last_ckpt = time.monotonic()
            report({"event": "checkpoint", "step": step})
        if stop_reason:
            break
    log_fh.close()
    report({"event": "stopped", "reason": stop_reason, "step": state["step"]})
    return export(cfg, model, spec, arch, state, params, report)


def export_run(cfg: TrainConfig, progress: Callable[[dict], None] | None = None) -> dict:
    """Export a finished run again, without training: its ``model.keras`` (weights only) rebuilt as
    the recipe's architecture and written out by :func:`export`, exactly as at the end of
    :func:`train` (``model_float.tflite``, ``model.tflite``, the sidecar contract, ``summary.json``
    with a fresh evaluation). For changes that only shape the exported graph (e.g. ``split_taps``)
    or a new converter; the weights, ``log.csv`` and the run's step count stay. Returns the summary."""
    check_data(cfg)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    set_threads(cfg.train.intra_op_threads, cfg.train.inter_op_threads)
    import keras

    from hearsep.nn import architectures

    run = Path(cfg.run_dir)
    missing = [n for n in ("model.keras", "state.json", "feature_stats.json") if not (run / n).is_file()]
    if missing:
        raise ConfigError(f"--export-only: {run} has no {', '.join(missing)} (train the recipe first)")
    trained = keras.models.load_model(run / "model.keras", compile=False)
    arch = architectures.get(cfg.model.architecture, **cfg.model.params)
    model = arch.sequence(trained.input_shape[-1])
    try:
        model.set_weights(trained.get_weights())
    except ValueError as exc:
        raise ConfigError(f"--export-only: {run / 'model.keras'} does not fit the recipe's [model] ({exc})") from None
    spec = FeatureSpec(**json.loads((run / "feature_stats.json").read_text()))
    state = json.loads((run / "state.json").read_text())
    return export(cfg, model, spec, arch, state, int(model.count_params()), progress or (lambda event: None))


def set_threads(intra_op: int, inter_op: int) -> None:
    """Size TensorFlow's thread pools (0 leaves TensorFlow's default). Must run before TensorFlow
    executes its first op; pin the process to cores with ``taskset`` as well (``tf.data`` has its own pool)."""
    import tensorflow as tf

    if intra_op > 0:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
    if inter_op > 0:
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)


def compressed_spectrum_loss(ref_spectra, est_spectra, mag_weight: float, cplx_weight: float, power: float = 0.3):
    """``mag_weight * mse(|Y|^c, |S|^c) + cplx_weight * mse(Y_c, S_c)`` with ``X_c = |X|^c X / |X|``.

    The compressed magnitude and compressed complex terms of GTCRN's hybrid loss (Rong et al. 2024,
    "GTCRN: a speech enhancement model requiring ultralow computational resources", ICASSP; its
    training code weights them 70 and 30 next to SI-SDR), ``c = 0.3``; the complex term sums the
    real and imaginary squared errors. Spectra are complex ``[B, T, bins]``; eps 1e-8 keeps the
    gradient finite at zero magnitude. Both spectra are first divided by the RMS magnitude of the
    reference (per item), so the terms do not depend on the mixture level (as the SNR term does
    not): unnormalised, a -10 dBFS mixture would weigh ~100x a -45 dBFS one.
    """
    import tensorflow as tf

    ref_power = tf.square(tf.math.real(ref_spectra)) + tf.square(tf.math.imag(ref_spectra))
    inv_rms = tf.math.rsqrt(tf.reduce_mean(ref_power, axis=[1, 2], keepdims=True) + 1e-12)
    inv_rms = tf.complex(inv_rms, tf.zeros_like(inv_rms))
    ref_spectra, est_spectra = ref_spectra * inv_rms, est_spectra * inv_rms

    def compress(x):
        mag = tf.sqrt(tf.square(tf.math.real(x)) + tf.square(tf.math.imag(x)) + 1e-8)
        scale = mag ** (power - 1.0)
        return mag ** power, tf.math.real(x) * scale, tf.math.imag(x) * scale

    s_mag, s_re, s_im = compress(ref_spectra)
    y_mag, y_re, y_im = compress(est_spectra)
    loss = mag_weight * tf.reduce_mean(tf.square(y_mag - s_mag))
    if cplx_weight:
        loss += cplx_weight * (tf.reduce_mean(tf.square(y_re - s_re)) + tf.reduce_mean(tf.square(y_im - s_im)))
    return loss


def inherited_features(init_from: str) -> FeatureSpec | None:
    """The FeatureSpec of the warm-start model ``init_from``, read from the ``model.contract.json``
    beside it, or None (no warm start, or no contract there: the stats are then measured afresh).

    Without it a warm start on other data (other levels, SNRs) would re-measure mean/std and feed
    the copied encoder shifted features: the warm-started model would not start where it was."""
    if not init_from:
        return None
    sidecar = Path(init_from).with_name("model.contract.json")
    if not sidecar.is_file():
        return None
    return ModelContract.from_json(sidecar.read_text()).features


def freeze_layers(model, names: list) -> None:
    """Mark the layers ``names`` not trainable (``train.freeze``): with a warm-started core frozen,
    only the head learns, and TensorFlow skips back-propagation through the frozen recurrent
    layers (the gradient of the head's weights needs only their outputs). Unknown names raise."""
    known = {layer.name for layer in model.layers}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"train.freeze: no layers {unknown} in the model (layers: {sorted(known)})")
    for name in names:
        model.get_layer(name).trainable = False


def init_weights(model, path: str) -> list[str]:
    """Copy weights from the ``.keras`` model at ``path`` into layers of ``model`` with the same name
    and weight shapes (a warm start, e.g. a new head on a trained core); returns the layer names copied."""
    import keras

    source = keras.models.load_model(path, compile=False)
    by_name = {layer.name: layer for layer in source.layers}
    copied = []
    for layer in model.layers:
        src = by_name.get(layer.name)
        if src is None or not layer.weights:
            continue
        w = src.get_weights()
        if [a.shape for a in w] == [tuple(v.shape) for v in layer.weights]:
            layer.set_weights(w)
            copied.append(layer.name)
    if not copied:
        raise ConfigError(f"model.init_from: {path} shares no layer (same name and shapes) with this architecture")
    return copied


CALIBRATION_SEGMENT_S = 4.0


def calibration_features(cfg: TrainConfig, spec: FeatureSpec) -> list[np.ndarray]:
    """Normalised feature sequences ``[T, bins]`` of ``CALIBRATION_SEGMENT_S`` s training mixtures
    (no reverb/babble, seed ``train.seed + 3``), ``train.calibration_frames`` frames in all: the int8
    calibration set, and the set QAT ranges are measured on."""
    from hearsep.features.spectral import log_power_features
    from hearsep.features.stft import analysis_frames

    speech, noise = _sources(cfg, cfg.data.train_split)
    calib_mix = dataclasses.replace(cfg.data.mix, segment_s=CALIBRATION_SEGMENT_S, reverb_prob=0.0, babble_prob=0.0)
    calib_gen = data_mod.MixtureGenerator(speech, noise, calib_mix, seed=cfg.train.seed + 3)
    frames_per_seq = calib_mix.segment_samples // cfg.stft.hop_samples
    n_seq = max(1, -(-cfg.train.calibration_frames // frames_per_seq))
    return [log_power_features(analysis_frames(calib_gen.pair(i)[0], cfg.stft.frame_samples,
                                               cfg.stft.hop_samples, cfg.stft.window), spec)
            for i in range(n_seq)]


def export(cfg: TrainConfig, model, spec: FeatureSpec, arch, state: dict, params: int,
           report: Callable[[dict], None]) -> dict:
    """Write ``model.keras``, ``model_float.tflite``, ``model.tflite`` (int8) and ``summary.json``.
    A QAT model (``qat = true``) is exported in float from its :func:`~hearsep.nn.architectures.float_twin`
    and in int8 from itself (its FakeQuant ranges become the int8 ranges of those tensors). The int8
    file is converted from ``arch.step(model, int8=True)`` (:mod:`hearsep.nn.gru_step`)."""
    from hearsep.quantize.convert import convert

    run = Path(cfg.run_dir)
    t_cfg = cfg.train
    with atomic_path(run / "model.keras", suffix=".keras") as tmp:
        model.save(tmp)
    from hearsep.nn.architectures import float_twin

    step_model, states = arch.step(model, int8=True)  # the int8 form (hearsep.nn.gru_step)
    float_arch, float_model = float_twin(arch, model)  # a QAT model's float reference: no fake quant
    float_step, _ = float_arch.step(float_model)
    contract = contract_for(cfg, spec, states, info={"params": params, "train_steps": state["step"],
                                                     "train_time_s": round(state["elapsed_s"], 1)})
    # the .keras file carries no framing: its contract goes beside it (hearsep quantize reads it)
    sidecar = dataclasses.replace(contract, info={**contract.info, "model_params": arch.params})
    write_text(run / "model.contract.json", sidecar.to_json())
    float_bytes = convert(float_step, contract, "float32")
    write_bytes(run / "model_float.tflite", float_bytes)
    report({"event": "exported", "file": str(run / "model_float.tflite"), "bytes": len(float_bytes)})

    calib = calibration_features(cfg, spec)
    n_seq = len(calib)
    int8_bytes = convert(step_model, contract, "int8", calibration_features=calib,
                         max_calibration_frames=t_cfg.calibration_frames)  # as export_int8 does
    write_bytes(run / "model.tflite", int8_bytes)
    report({"event": "exported", "file": str(run / "model.tflite"), "bytes": len(int8_bytes)})

    results = evaluate_tflite(cfg, {"float32": float_bytes, "int8": int8_bytes}, t_cfg.eval_mixtures,
                              t_cfg.eval_segment_s)
    summary = {
        "architecture": cfg.model.architecture, "params": params, "model_params": arch.params,
        "steps": state["step"], "examples": state["examples"], "train_time_s": round(state["elapsed_s"], 1),
        "features": dataclasses.asdict(spec), "latency_ms": contract.latency_ms,
        "output": arch.output_spec(), "init_from": cfg.model.init_from,
        "bytes": {"float32": len(float_bytes), "int8": len(int8_bytes)},
        "dev_final": {"loss": state.get("dev_loss"), "si_sdri_db": state.get("dev_si_sdri_db")},
        "eval": results, "recipe": cfg.source,
        "int8_calibration": (f"{t_cfg.calibration_frames} frames: {n_seq} x {CALIBRATION_SEGMENT_S:g} s training "
                             "mixtures (no reverb/babble)"),
    }
    if (run / "qat_ranges.json").is_file():
        summary["qat_ranges"] = json.loads((run / "qat_ranges.json").read_text())
    write_json(run / "summary.json", summary)
    report({"event": "done", "summary": summary})
    return summary


def export_int8(folder: str | Path, recipe: "str | Path | TrainConfig | None" = None,
                model_params: dict | None = None) -> bytes:
    """The full-integer int8 TFLite of a trained model folder (``model.keras`` + ``model.contract.json``,
    a run folder or a shipped ``models/NAME``), converted as :func:`export` converts it: from
    ``arch.step(model, int8=True)`` (:mod:`hearsep.nn.gru_step`), calibrated on
    :func:`calibration_features` of ``recipe`` (a TOML path or a :class:`TrainConfig`; default: the
    folder's ``recipe.toml``), contract info
    from the sidecar (without ``model_params``). ``model_params`` override the sidecar's architecture
    parameters that only shape the exported graph (e.g. ``{"split_taps": True}``). Returns the
    bytes; writes nothing."""
    from hearsep.model.contract import ModelContract
    from hearsep.nn import architectures
    from hearsep.quantize.convert import convert, import_tensorflow

    _, keras = import_tensorflow()
    folder = Path(folder)
    if isinstance(recipe, TrainConfig):
        cfg = dataclasses.replace(recipe)
    else:
        cfg = TrainConfig.from_toml(Path(recipe) if recipe else folder / "recipe.toml")
    sidecar = ModelContract.from_json((folder / "model.contract.json").read_text())
    params = {**sidecar.info.get("model_params", {}), **(model_params or {})}
    arch = architectures.get(sidecar.architecture, **params)
    model = keras.models.load_model(folder / "model.keras", compile=False)
    step_model, states = arch.step(model, int8=True)
    cfg.model = dataclasses.replace(cfg.model, architecture=sidecar.architecture, params=params)
    info = {k: v for k, v in sidecar.info.items() if k != "model_params"}
    contract = contract_for(cfg, sidecar.features, states, info=info)
    return convert(step_model, contract, "int8", calibration_features=calibration_features(cfg, sidecar.features),
                   max_calibration_frames=cfg.train.calibration_frames)


def evaluate_tflite(cfg: TrainConfig, models: dict[str, bytes], mixtures: int, segment_s: float,
                    pesq: bool = False, seed_offset: int = 7) -> dict:
    """SI-SDRi of each TFLite model on the same ``mixtures`` dev mixtures, run by the runtime itself
    (:class:`~hearsep.runtime.enhancer.StreamingEnhancer`, hop by hop, output time-aligned).
    ``pesq``: also ``pesq_mean``, wideband PESQ of the same outputs (:func:`hearsep.eval.metrics.pesq_wb`;
    NaN items, where PESQ finds no speech, are skipped). ``seed_offset``: the dev mixtures are those
    of seed ``train.seed + seed_offset`` (7: the set every export is scored on)."""
    from hearsep.eval.metrics import pesq_wb, si_sdr_db
    from hearsep.runtime.enhancer import StreamingEnhancer, enhance_signal

    gen = dev_generator(cfg, segment_s, seed=cfg.train.seed + seed_offset)
    pairs = [gen.example(i) for i in range(mixtures)]
    out = {"mixtures": mixtures, "segment_s": segment_s, "snr_db": list(cfg.data.dev_snr_db)}
    for name, blob in models.items():
        gains, scores = [], []
        for m in pairs:
            y = enhance_signal(StreamingEnhancer.from_model(blob), m.mixture)
            gains.append(si_sdr_db(y, m.target) - si_sdr_db(m.mixture, m.target))
            if pesq:
                scores.append(pesq_wb(m.target, y, cfg.data.mix.sample_rate_hz))
        out[name] = {"si_sdri_db_mean": float(np.mean(gains)), "si_sdri_db_median": float(np.median(gains))}
        if pesq:
            out[name]["pesq_mean"] = float(np.nanmean(scores))
    out["input_si_sdr_db_mean"] = float(np.mean([si_sdr_db(m.mixture, m.target) for m in pairs]))
    return out
