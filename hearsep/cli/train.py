"""``hearsep train CONFIG.toml [--resume | --export-only]``: train a separator from a recipe, or export a
finished run again (needs the [train] extra)."""

from __future__ import annotations

import sys
import time

from hearsep.errors import ConfigError

DESCRIPTION = (
    "Train a separator from a TOML recipe (see tools/recipes/default.toml). Writes checkpoints, "
    "log.csv, model.keras, model_float.tflite, model.tflite (int8) and summary.json to the "
    "recipe's output.run_dir. Stops at the time budget or when a file STOP appears in the run folder."
)


def add_arguments(parser) -> None:
    parser.add_argument("config", help="recipe TOML file")
    parser.add_argument("--resume", action="store_true", help="continue the run in output.run_dir from its last checkpoint")
    parser.add_argument("--run-dir", help="override output.run_dir")
    parser.add_argument("--time-budget-min", type=float, help="override train.time_budget_min")
    parser.add_argument("--max-steps", type=int, help="override train.max_steps")
    parser.add_argument("--export-only", action="store_true",
                        help="do not train: export the finished run in output.run_dir again (model_float.tflite, "
                             "model.tflite, contract, summary.json) from its model.keras, with the recipe's [model] "
                             "parameters (e.g. split_taps) and the current converter")


def _print(event: dict) -> None:
    kind = event["event"]
    stamp = time.strftime("%H:%M:%S")
    if kind == "train":
        line = f"step {event['step']:6d}  loss {event['loss']:8.3f}  lr {event['lr']:.2e}  {event['elapsed_s'] / 60:6.1f} min"
    elif kind == "dev":
        line = f"step {event['step']:6d}  dev loss {event['dev_loss']:8.3f}  dev SI-SDRi {event['dev_si_sdri_db']:6.2f} dB"
    elif kind == "done":
        s = event["summary"]
        ev = s["eval"]
        line = (f"done: {s['params']} params, {s['steps']} steps, {s['train_time_s'] / 60:.1f} min; "
                f"SI-SDRi float {ev['float32']['si_sdri_db_mean']:.2f} dB, int8 {ev['int8']['si_sdri_db_mean']:.2f} dB")
    else:
        line = " ".join(f"{k}={v}" for k, v in event.items() if k != "event")
        line = f"{kind}: {line}"
    print(f"[{stamp}] {line}", flush=True)


def run(args) -> int:
    try:
        from hearsep.nn.train import TrainConfig, export_run, train
    except ImportError as exc:
        raise ConfigError(f"training needs TensorFlow: pip install 'hearsep[train]' ({exc})") from None
    cfg = TrainConfig.from_toml(args.config)
    if args.run_dir:
        cfg.run_dir = args.run_dir
    if args.time_budget_min is not None:
        cfg.train.time_budget_min = args.time_budget_min
    if args.max_steps is not None:
        cfg.train.max_steps = args.max_steps
    if args.export_only:
        if args.resume:
            raise ConfigError("--export-only and --resume exclude each other")
        export_run(cfg, progress=_print)
    else:
        train(cfg, resume=args.resume, progress=_print)
    return 0
