"""Print the table of README.md from the committed JSON beside it (the trainer's own evaluation)."""

import json
from pathlib import Path

HERE = Path(__file__).parent
ROWS = [("gru-realmask-v1 (models/gru-realmask-v1/summary.json)", HERE.parents[2] / "models/gru-realmask-v1/summary.json"),
        ("gru-long, 4 s x 4 (gru-long/training_summary.json)", HERE / "gru-long/training_summary.json"),
        ("gru-long8, 8 s x 2 (gru-long8/training_summary.json)", HERE / "gru-long8/training_summary.json")]

print("| model | steps | training min | float32 SI-SDRi dB | int8 SI-SDRi dB | 2 s dev SI-SDRi dB |")
print("|---|---:|---:|---:|---:|---:|")
for name, path in ROWS:
    s = json.loads(path.read_text())
    e = s["eval"]
    print(f"| {name} | {s['steps']} | {s['train_time_s'] / 60:.0f} | {e['float32']['si_sdri_db_mean']:.2f} "
          f"| {e['int8']['si_sdri_db_mean']:.2f} | {s['dev_final']['si_sdri_db']:.2f} |")

# the bench (bench_peers.json beside this file): the int8 systems, three decimals
SYSTEMS = ["hearsep int8", "realmask-v1 int8", "gru-long8 int8", "DTLN float"]
METRICS = [("si_sdri_db", "SI-SDRi dB"), ("pesq", "PESQ"), ("stoi", "STOI"), ("dnsmos_bak", "DNSMOS BAK"),
           ("dnsmos_ovrl", "DNSMOS OVRL")]
rows = {r["system"]: r for r in json.loads((HERE / "bench_peers.json").read_text())["summary"]}
print()
print("| bench system | " + " | ".join(label for _, label in METRICS) + " |")
print("|---|" + "---:|" * len(METRICS))
for name in SYSTEMS:
    print(f"| {name} | " + " | ".join(f"{rows[name][key]:.3f}" for key, _ in METRICS) + " |")
