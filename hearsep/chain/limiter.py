"""Broadband output stage: a look-ahead peak limiter and a hard ceiling at the broadband MPO.

Ceiling. MPO is stated in dB SPL as the level of a sine (OSPL90 is measured with pure tones,
ANSI S3.22), so the largest allowed sample is the peak of a sine at MPO::

    ceiling = 10 ** ((mpo_db_spl - full_scale_db_spl) / 20)     (full scale: a 0 dBFS sine)

capped at 1.0 (the converter cannot go beyond full scale anyway), rounded down to float32.

Limiter (per hop of ``h`` samples, look-ahead ``L`` samples = its delay). With ``x`` the delayed
input, ``g_req[n] = ceiling / max(|x[n]|, ceiling)`` is the largest gain that keeps sample ``n``
under the ceiling. The applied gain is

1. ``g_min[n] = min(g_req[n .. n + L])`` (look-ahead: the gain is down before the peak arrives),
2. released: attenuation ``a = 1 - g`` decays as ``a[n] = max(1 - g_min[n], rho * a[n-1])``
   with ``rho = exp(-1 / (release_ms * fs / 1000))``,
3. smoothed by a moving average over ``L + 1`` samples (the attack ramp).

Every term of the average at ``n`` is a minimum over a window containing ``n``, so the smoothed
gain never exceeds ``g_req[n]``: the limiter alone keeps peaks under the ceiling (the classic
"min-hold + box filter" look-ahead limiter; Giannoulis, Massberg & Reiss 2012, "Digital dynamic
range compressor design - a tutorial and analysis", JAES 60(6), on peak detection and
smoothing); the final clip only removes float rounding. When the limiter is released and a hop
stays under the ceiling, the hop passes as the delayed input (no gain work).
"""

from __future__ import annotations

import numpy as np

#: attenuation below which the limiter counts as released (gain within 1e-5 of one, < 1e-4 dB)
RELEASED_ATTENUATION = 1e-5


def sample_ceiling(mpo_db_spl: float, full_scale_db_spl: float) -> np.float32:
    """Largest output sample for a broadband MPO (dB SPL, sine level), as float32 rounded down."""
    c = min(10.0 ** ((mpo_db_spl - full_scale_db_spl) / 20.0), 1.0)
    c32 = np.float32(c)
    return np.nextafter(c32, np.float32(0)) if float(c32) > c else c32


class PeakLimiter:
    """Look-ahead peak limiter + hard ceiling on hops of ``hop_samples`` (preallocated, no allocation)."""

    def __init__(self, hop_samples: int, lookahead_samples: int, ceiling: float, release_ms: float,
                 sample_rate_hz: float):
        h, n = int(hop_samples), int(lookahead_samples)
        self.hop_samples, self.latency_samples = h, n
        self.ceiling = np.float32(ceiling)
        rho = np.exp(-1000.0 / (release_ms * sample_rate_hz))
        k = np.arange(h, dtype=float)
        self._rho = float(rho)
        self._rho_up = (rho ** -k).astype(np.float32)  # rho^-k and rho^k for the release scan
        self._rho_down = (rho ** k).astype(np.float32)
        self._x = np.zeros(n + h, np.float32)  # [L delayed | h new] input samples
        self._x_new, self._x_out = self._x[n:], self._x[:h]
        self._g_req = np.zeros(n + h, np.float32)
        self._windows = np.lib.stride_tricks.sliding_window_view(self._g_req, n + 1)  # (h, L+1)
        self._att = np.zeros(h, np.float32)
        self._g = np.ones(n + h, np.float32)  # [L previous | h new] released gains
        self._g_new = self._g[n:]
        self._cum = np.zeros(n + h + 1, np.float32)
        self._smooth = np.zeros(h, np.float32)
        self._y = np.zeros(h, np.float32)
        self._carry = 0.0  # attenuation of the last released-gain sample
        self._released = True
        self.limited_hops = 0  # hops in which the limiter reduced gain (telemetry)

    def reset(self) -> None:
        self._x.fill(0)
        self._g.fill(1)
        self._carry = 0.0
        self._released = True
        self.limited_hops = 0

    def process(self, samples: np.ndarray) -> np.ndarray:
        """One hop in; the hop delayed by ``latency_samples``, limited and clipped, out (internal buffer)."""
        n, h, c = self.latency_samples, self.hop_samples, self.ceiling
        if n:
            self._x[:n] = self._x[h:h + n]
        self._x_new[:] = samples
        x = self._x
        if self._released and x.max() <= c and -x.min() <= c:
            return self._x_out  # under the ceiling and no gain reduction pending: delayed input
        self.limited_hops += 1
        g = self._g_req
        np.abs(x, out=g)
        np.maximum(g, c, out=g)
        np.divide(c, g, out=g)
        att = self._att
        np.min(self._windows, axis=1, out=att)  # look-ahead minimum gain
        np.subtract(1.0, att, out=att)  # attenuation, released: a[k] = max(a_min[k], rho a[k-1])
        att *= self._rho_up
        att[0] = max(att[0], self._carry * self._rho)
        np.maximum.accumulate(att, out=att)
        att *= self._rho_down
        self._carry = float(att[-1])
        if n:
            self._g[:n] = self._g[h:h + n]
        np.subtract(1.0, att, out=self._g_new)
        np.cumsum(self._g, out=self._cum[1:])  # moving average over L + 1 gains
        np.subtract(self._cum[n + 1:], self._cum[:h], out=self._smooth)
        self._smooth *= np.float32(1.0 / (n + 1))
        np.multiply(self._x_out, self._smooth, out=self._y)
        np.clip(self._y, -c, c, out=self._y)
        if float(att.max()) < RELEASED_ATTENUATION and self._carry < RELEASED_ATTENUATION:
            self._released, self._carry = True, 0.0
            self._g.fill(1)
        else:
            self._released = False
        return self._y
