"""Deploying to an edge board: the on-target self test and the systemd unit that runs ``hearsep live``.

* :mod:`.selftest`: :func:`run_selftest` -> one :class:`Check` per question (model, preset,
  audio devices, keeps up at the model's hop with a margin);
* :mod:`.service`: :func:`render_unit`, :func:`install_unit`, :func:`uninstall_unit`,
  :func:`unit_status` for the shipped template ``hearsep-live.service``.
"""

from hearsep.deploy.selftest import Check, run_selftest
from hearsep.deploy.service import install_unit, render_unit, uninstall_unit, unit_status

__all__ = ["Check", "install_unit", "render_unit", "run_selftest", "uninstall_unit", "unit_status"]
