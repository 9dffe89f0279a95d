"""``hearsep info MODEL``."""

from __future__ import annotations

import json

DESCRIPTION = "Print what a hearsep TFLite model expects and contains: its contract (framing, features, " \
    "state tensors), algorithmic latency, op list, tensor types and file size."


def add_arguments(parser):
    """The command's arguments."""
    parser.add_argument("model", nargs="?", help="a .tflite model (or its folder); default: the shipped model")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    """Describe the model (:func:`hearsep.model.inspect.describe_model`) as a table or JSON."""
    from hearsep.model.inspect import describe_model, format_description
    from hearsep.model.paths import resolve_model

    d = describe_model(resolve_model(args.model))
    print(json.dumps(d, indent=2) if args.json else format_description(d))
    return 0
