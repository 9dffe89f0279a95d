"""``hearsep service install|uninstall|status``: the systemd unit that runs ``hearsep live`` at boot."""

from __future__ import annotations

DESCRIPTION = """Manage the systemd unit (template shipped in hearsep/deploy/hearsep-live.service) that runs
`hearsep live --preset P [--model M] [--program NAME]` at boot, restarts it 2 s after a failure, and
gives it real-time priority (SCHED_FIFO, CPUSchedulingPriority, LimitRTPRIO, LimitMEMLOCK; needs
CAP_SYS_NICE, which a system service has: use --no-realtime in containers).

  sudo hearsep service install --preset /home/pi/me.toml --enable    write, daemon-reload, enable --now
  hearsep service status
  sudo hearsep service uninstall

--root DIR writes under DIR/etc/systemd/system instead of / (to inspect or package the unit; systemctl
is then never run)."""


def add_arguments(parser):
    parser.add_argument("action", choices=["install", "uninstall", "status"])
    parser.add_argument("--preset", help="install: the preset the service runs (required)")
    parser.add_argument("--model", help="install: the model (default: hearsep's default at run time)")
    parser.add_argument("--program", help="install: the preset's program")
    parser.add_argument("--user", default="root", help="install: the user it runs as (default root; needs the audio group)")
    parser.add_argument("--name", default="hearsep-live", help="unit name (default hearsep-live)")
    parser.add_argument("--root", default="/", help="file-system root for etc/systemd/system (default /)")
    parser.add_argument("--priority", type=int, default=70, help="install: SCHED_FIFO priority 1..99 (default 70)")
    parser.add_argument("--no-realtime", action="store_true", help="install: no real-time scheduling lines")
    parser.add_argument("--enable", action="store_true", help="install: also systemctl daemon-reload + enable --now")


def run(args) -> int:
    from hearsep.deploy.service import install_unit, render_unit, uninstall_unit, unit_status
    from hearsep.errors import ConfigError

    if args.action == "install":
        if not args.preset:
            raise ConfigError("service install needs --preset PRESET.toml")
        text = render_unit(args.preset, args.model, args.program, args.user, args.name,
                           realtime=not args.no_realtime, priority=args.priority)
        path, done = install_unit(text, args.root, args.name, enable=args.enable)
        for line in done:
            print(line)
        if not args.enable:
            print(f"next: sudo systemctl daemon-reload && sudo systemctl enable --now {args.name}.service")
        return 0
    if args.action == "uninstall":
        for line in uninstall_unit(args.root, args.name):
            print(line)
        return 0
    st = unit_status(args.root, args.name)
    print(f"unit: {st['unit']} ({'installed' if st['installed'] else 'not installed'})")
    if st["installed"]:
        print(f"ExecStart: {st['exec_start']}")
        print(f"real-time: {'SCHED_FIFO' if st['realtime'] else 'no'}")
    if st["enabled"] is not None:
        print(f"systemd: {st['enabled']}" + ("" if st["active"] == st["enabled"] else f", {st['active']}"))
    return 0
