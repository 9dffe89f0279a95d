"""``hearsep service``: the unit written under a temporary root, systemctl calls injected."""

from __future__ import annotations

import pytest

from hearsep.cli.main import main
from hearsep.deploy.service import install_unit, render_unit, uninstall_unit, unit_status
from hearsep.errors import ConfigError


@pytest.fixture
def preset(tmp_path):
    from hearsep.fitting import example_preset, save_preset

    return save_preset(example_preset(), tmp_path / "me.toml")


def test_unit_runs_live_with_the_preset_restarts_and_is_realtime(preset):
    text = render_unit(preset, program="quiet", user="pi")
    lines = text.splitlines()
    exec_line = next(ln for ln in lines if ln.startswith("ExecStart="))
    assert " live --preset " + str(preset.resolve()) in exec_line and exec_line.endswith("--program quiet")
    for want in ("Restart=on-failure", "User=pi", "CPUSchedulingPolicy=fifo", "CPUSchedulingPriority=70",
                 "LimitRTPRIO=95", "WantedBy=multi-user.target", "After=sound.target"):
        assert want in lines
    assert "CPUSchedulingPolicy=fifo" not in render_unit(preset, realtime=False)
    assert "$" not in text  # every template field was filled


def test_install_status_uninstall_under_a_root(tmp_path, preset, capsys):
    root = tmp_path / "root"
    assert main(["service", "install", "--preset", str(preset), "--root", str(root)]) == 0
    unit = root / "etc/systemd/system/hearsep-live.service"
    assert unit.is_file() and "ExecStart=" in unit.read_text()
    st = unit_status(root)
    assert st["installed"] and st["realtime"] and st["enabled"] is None  # systemctl not asked off /
    assert main(["service", "uninstall", "--root", str(root)]) == 0
    assert not unit.exists()
    assert main(["service", "uninstall", "--root", str(root)]) == 2
    assert "no unit installed" in capsys.readouterr().err


def test_enable_on_slash_calls_systemctl_in_order(tmp_path, preset, monkeypatch):
    calls = []
    import hearsep.deploy.service as service

    monkeypatch.setattr(service, "unit_path", lambda root="/", name="x": tmp_path / f"{name}.service")
    install_unit(render_unit(preset), "/", "hearsep-live", enable=True, runner=lambda a: (calls.append(a), (0, ""))[1])
    assert calls == [["daemon-reload"], ["enable", "--now", "hearsep-live.service"]]
    answers = {"is-enabled": "enabled", "is-active": "active\n(extra line)"}
    st = unit_status("/", "hearsep-live", runner=lambda a: (0, answers[a[0]]))
    assert (st["installed"], st["enabled"], st["active"]) == (True, "enabled", "active")
    assert unit_status("/", "hearsep-live", runner=lambda a: (127, ""))["enabled"] == "systemctl not found"
    calls.clear()
    uninstall_unit("/", "hearsep-live", runner=lambda a: (calls.append(a), (0, ""))[1])
    assert calls[0] == ["disable", "--now", "hearsep-live.service"]


def test_bad_install_inputs(tmp_path, preset):
    with pytest.raises(ConfigError, match="nope.toml"):
        render_unit(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not a valid Linux user"):
        render_unit(preset, user="Bad User")
    with pytest.raises(ConfigError, match="1..99"):
        render_unit(preset, priority=0)
    with pytest.raises(ConfigError, match="only letters"):
        install_unit("x", tmp_path, name="../evil")
    with pytest.raises(ConfigError, match="only makes sense with --root /"):
        install_unit("x", tmp_path, enable=True)
