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
smoothing); the final clip only removes float rounding.

Pass-through path. When the limiter is released and a hop's new samples stay under the ceiling,
the hop passes as the delayed input, with no gain work: the delay line is a ring of
:data:`DELAY_SLOTS` hops, so the hop is copied in once and the delayed hop is a prebuilt view
(the last ``L`` samples are carried to the front once per ring). The test that a hop is under
the ceiling is first the sufficient one ``sum x^2 <= ceiling^2`` (one dot product: a sample
above the ceiling alone would exceed it; :data:`ENERGY_MARGIN` covers float32 rounding of the
sum), then, when that fails, the exact ``max |x| <= ceiling``. The delayed samples were tested
as new samples one hop earlier, and a hop that left the full path released had its last ``L``
samples under the ceiling.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.blas import sdot

#: attenuation below which the limiter counts as released (gain within 1e-5 of one, < 1e-4 dB)
RELEASED_ATTENUATION = 1e-5
#: hops in the delay ring (the look-ahead samples are copied to its front once per ring)
DELAY_SLOTS = 64
#: the energy test compares ``sum x^2`` with ``(1 - ENERGY_MARGIN) ceiling^2``: a float32 sum of a
#: hop (<= a few hundred terms, relative rounding error < 1e-5) never passes a sample above the ceiling
ENERGY_MARGIN = 1e-4


def sample_ceiling(mpo_db_spl: float, full_scale_db_spl: float) -> np.float32:
    """Largest output sample for a broadband MPO (dB SPL, sine level), as float32 rounded down."""
    c = min(10.0 ** ((mpo_db_spl - full_scale_db_spl) / 20.0), 1.0)
    c32 = np.float32(c)
    return np.nextafter(c32, np.float32(0)) if float(c32) > c else c32


class PeakLimiter:
    """Look-ahead peak limiter + hard ceiling on hops of ``hop_samples`` (preallocated, no allocation).

    ``process(samples)`` is bound once per limiter (a closure over its buffers, see
    :meth:`_pass_through`); it returns an internal buffer of ``hop_samples`` samples.
    """

    def __init__(self, hop_samples: int, lookahead_samples: int, ceiling: float, release_ms: float,
                 sample_rate_hz: float):
        h, n = int(hop_samples), int(lookahead_samples)
        self.hop_samples, self.latency_samples = h, n
        self.ceiling = np.float32(ceiling)
        self._energy_bound = float(self.ceiling) ** 2 * (1.0 - ENERGY_MARGIN)
        rho = np.exp(-1000.0 / (release_ms * sample_rate_hz))
        k = np.arange(h, dtype=float)
        self._rho = float(rho)
        self._rho_up = (rho ** -k).astype(np.float32)  # rho^-k and rho^k for the release scan
        self._rho_down = (rho ** k).astype(np.float32)
        # the delay ring: slot k's new samples at [n + k h, n + (k + 1) h), its delayed hop at
        # [k h, k h + h), and the whole look-ahead window [k h, n + (k + 1) h)
        self._ring = np.zeros(n + DELAY_SLOTS * h, np.float32)
        r = self._ring
        self._new = [r[n + s * h:n + (s + 1) * h] for s in range(DELAY_SLOTS)]
        self._out = [r[s * h:s * h + h] for s in range(DELAY_SLOTS)]
        self._window = [r[s * h:n + (s + 1) * h] for s in range(DELAY_SLOTS)]
        self._head, self._tail = r[:n], r[DELAY_SLOTS * h:]
        self._g_req = np.zeros(n + h, np.float32)
        self._att = np.zeros(h, np.float32)
        self._g = np.ones(n + h, np.float32)  # [L previous | h new] released gains
        self._g_new = self._g[n:]
        self._cum = np.zeros(n + h + 1, np.float32)
        self._smooth = np.zeros(h, np.float32)
        self._y = np.zeros(h, np.float32)
        self._carry = 0.0  # attenuation of the last released-gain sample
        self._released = True
        self.limited_hops = 0  # hops in which the limiter reduced gain (telemetry)
        self.process = self._pass_through()

    def reset(self) -> None:
        self._ring.fill(0)  # (the slot position does not matter: every slot now holds silence)
        self._g.fill(1)
        self._carry = 0.0
        self._released = True
        self.limited_hops = 0

    def _pass_through(self):
        """The per-hop call: ring slot, copy in, the energy test; anything else goes to :meth:`_full_path`."""
        new, out, head, tail = self._new, self._out, self._head, self._tail
        last, bound, limit = DELAY_SLOTS - 1, self._energy_bound, self._full_path()
        lim = self
        k = last  # the ring slot of the last hop (the first hop goes to slot 0)

        def process(samples: np.ndarray) -> np.ndarray:
            """One hop in; the hop delayed by ``latency_samples``, limited and clipped, out (internal buffer)."""
            nonlocal k
            if k == last:
                k = 0
                head[...] = tail  # the look-ahead samples to the front of the ring
            else:
                k += 1
            new[k][...] = samples
            if lim._released and sdot(samples, samples) <= bound:  # (BLAS sdot: a Python float)
                return out[k]  # released, and no new sample can be above the ceiling
            return limit(k)

        return process

    def _full_path(self):
        """Slot ``k``'s hop when the energy test failed: the exact test, else the limiter's full path.

        A closure like the pass-through path, ufuncs with positional outputs on prebuilt views.
        The look-ahead minimum over ``L + 1`` samples is a sparse-table minimum: minima over 2, 4,
        8, ... samples by doubling, then two overlapping ones of the largest power of two.
        """
        n, h, c = self.latency_samples, self.hop_samples, self.ceiling
        neg_c, width = -c, n + 1
        fabs, fmin, fmax, mul, sub, div = np.fabs, np.fmin, np.fmax, np.multiply, np.subtract, np.divide
        accumulate_max, accumulate_add = np.maximum.accumulate, np.add.accumulate
        news, outs, windows = self._new, self._out, self._window
        g_req, att, y, smooth, cum = self._g_req, self._att, self._y, self._smooth, self._cum
        rho, rho_up, rho_down = self._rho, self._rho_up, self._rho_down
        g, g_new, g_head, g_tail = self._g, self._g_new, self._g[:n], self._g[h:h + n]
        cum_tail, cum_out, cum_lead = self._cum[1:], self._cum[n + 1:], self._cum[:h]
        inv = np.float32(1.0 / width)
        # sparse table: level j holds minima over 2 ** j samples starting at each position
        levels, span = [g_req], 1
        while 2 * span <= width:
            levels.append(np.zeros(levels[-1].shape[0] - span, np.float32))
            span *= 2
        doubling = [(levels[j][:-(2 ** j)], levels[j][2 ** j:], levels[j + 1]) for j in range(len(levels) - 1)]
        top = levels[-1]  # minima over span samples; two of them, overlapping, cover L + 1
        first, second = top[:h], top[width - span:width - span + h]
        lim = self

        def limit(k: int) -> np.ndarray:
            x_new = news[k]
            if lim._released and x_new.max() <= c and -x_new.min() <= c:
                return outs[k]  # released, and the new samples are under the ceiling
            lim.limited_hops += 1
            x, x_out = windows[k], outs[k]
            fabs(x, g_req)  # g_req = c / max(|x|, c)
            fmax(g_req, c, g_req)
            div(c, g_req, g_req)
            for a, b, o in doubling:
                fmin(a, b, o)
            fmin(first, second, att)  # look-ahead minimum gain over L + 1 samples
            sub(1.0, att, att)  # attenuation, released: a[k] = max(a_min[k], rho a[k-1])
            mul(att, rho_up, att)
            carried = lim._carry * rho
            if att[0] < carried:
                att[0] = carried
            accumulate_max(att, 0, None, att)
            mul(att, rho_down, att)
            lim._carry = att.item(h - 1)
            if n:
                g_head[...] = g_tail
            sub(1.0, att, g_new)
            accumulate_add(g, 0, None, cum_tail)  # moving average over L + 1 gains
            sub(cum_out, cum_lead, smooth)
            mul(smooth, inv, smooth)
            mul(x_out, smooth, y)
            fmin(y, c, y)
            fmax(y, neg_c, y)
            # released only when no gain is pending and the samples still to come out (the last L,
            # delayed into the next hop, which the pass-through path does not test again) are under it
            if att.max() < RELEASED_ATTENUATION and lim._carry < RELEASED_ATTENUATION and (
                    not n or (x[h:].max() <= c and -x[h:].min() <= c)):
                lim._released, lim._carry = True, 0.0
                g.fill(1)
            else:
                lim._released = False
            return y

        return limit
