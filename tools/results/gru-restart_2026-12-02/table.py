"""Print the tables of README.md from the committed JSON beside it: the trainer's own evaluation
(training_summary.json of each run) and the bench (bench_peers.json), issue 12, session 6."""

import json
from pathlib import Path

HERE = Path(__file__).parent
ROWS = [("gru-long, the default before (models/default at the bench; its summary in ../gru-long-rerun_2026-12-02)",
         HERE.parent / "gru-long-rerun_2026-12-02/gru-long/training_summary.json"),
        ("gru-restart (gru-restart/training_summary.json)", HERE / "gru-restart/training_summary.json"),
        ("gru-df-long (gru-df-long/training_summary.json)", HERE / "gru-df-long/training_summary.json")]

print("| model | steps | training min | float32 SI-SDRi dB | int8 SI-SDRi dB |")
print("|---|---:|---:|---:|---:|")
for name, path in ROWS:
    s = json.loads(path.read_text())
    e = s["eval"]
    print(f"| {name} | {s['steps']} | {s['train_time_s'] / 60:.0f} | {e['float32']['si_sdri_db_mean']:.2f} "
          f"| {e['int8']['si_sdri_db_mean']:.2f} |")

SYSTEMS = ["hearsep float", "hearsep int8", "df-long float", "df-long int8", "gru-long int8", "DTLN float",
           "DTLN quantized", "DeepFilterNet3"]
METRICS = [("si_sdri_db", "SI-SDRi dB", ".3f"), ("pesq", "PESQ", ".3f"), ("stoi", "STOI", ".3f"),
           ("dnsmos_bak", "DNSMOS BAK", ".3f"), ("dnsmos_ovrl", "DNSMOS OVRL", ".3f"),
           ("compute_ms_per_s", "step ms/s", ".1f")]
rows = {r["system"]: r for r in json.loads((HERE / "bench_peers.json").read_text())["summary"]}
print()
print("| bench system | " + " | ".join(label for _, label, _ in METRICS) + " |")
print("|---|" + "---:|" * len(METRICS))
for name in SYSTEMS:
    if name in rows:
        print(f"| {name} | " + " | ".join(f"{rows[name][key]:{fmt}}" for key, _, fmt in METRICS) + " |")

# the verdict's figures (README.md): each int8 model against the shipped one (gru-long int8), the
# deep filter's int8 against its float row, compute against DTLN quantized, and bench_runtime's JSON
base, peer = rows["gru-long int8"], rows["DTLN quantized"]
print()
for name in ("hearsep int8", "df-long int8"):
    r = rows[name]
    print(f"{name} - gru-long int8: " + ", ".join(f"{label} {r[key] - base[key]:+.3f}" for key, label, _ in METRICS[:5])
          + f"; step {r['compute_ms_per_s'] / peer['compute_ms_per_s']:.2f}x DTLN quantized")
f, q = rows["df-long float"], rows["df-long int8"]
print(f"df-long int8 - df-long float: SI-SDRi {q['si_sdri_db'] - f['si_sdri_db']:+.2f} dB, PESQ {q['pesq'] - f['pesq']:+.3f}")
for name in ("gru-restart", "gru-df-long"):
    rt = json.loads((HERE / f"bench_runtime_{name}.json").read_text())
    print(f"bench_runtime_{name}.json: step p99 {100 * rt['ratio_step_p99_to_hop']:.1f} % of the hop, "
          f"{rt['ratio_step_to_dtln_quantized_per_audio_s']:.2f}x DTLN quantized per second of audio (wall)")
