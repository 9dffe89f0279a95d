"""Level-detector constants derived from ANSI S3.22 attack and release times.

What a preset's ``attack_ms`` / ``release_ms`` mean (ANSI/ASA S3.22-2014, dynamic AGC
characteristics; the same definitions since S3.22-1996): a pure tone is stepped from 55 to
90 dB SPL input; the **attack time** is the time from the step until the output SPL is within
3 dB of its new steady state. Stepping back 90 -> 55 dB SPL, the **release time** ends when the
output is within 4 dB of its steady state. Analyzers read the output envelope in a band around
the tone (e.g. 1.5-2.5 kHz for the 2 kHz test tone; Listen Inc., "ANSI S3.22 attack/release
test sequence").

The chain's detector runs once per hop on the band level ``L`` in dB (a first-order smoother in
the log domain, attack coefficient while the level rises, release while it falls)::

    D[m] = D[m-1] + max(a * (L[m] - D[m-1]), r * (L[m] - D[m-1])),   0 < r < a <= 1

and the band gain is the static curve read at ``D`` (:mod:`hearsep.chain.curves`).

Derivation (continuous time, level following the step at once). With ``D(t) = L2 + (L1 - L2)
exp(-t / tau)`` and output ``O(t) = L2 + G(D(t))``, the output is within ``tol`` dB of its steady
state ``L2 + G(L2)`` once ``|G(D) - G(L2)| <= tol``. Let ``D*`` solve ``|G(D*) - G(L2)| = tol``
on the static curve; then::

    t_ansi = tau * ln(|L1 - L2| / |D* - L2|)   =>   tau = t_ansi / ln(35 dB / |D* - L2|)

For one compression ratio ``CR`` over the step, ``G(D) - G(L2) = (1/CR - 1)(D - L2)``, so
``|D* - L2| = tol / (1 - 1/CR)``: ``tau_attack = t_a / ln(35 (1 - 1/CR) / 3)`` and
``tau_release = t_r / ln(35 (1 - 1/CR) / 4)``. The per-hop coefficient is
``1 - exp(-hop_ms / tau)`` (exact sampling of the exponential at the hop rate).

In the STFT frame the band level itself does not follow the step at once: a frame of
``frame_samples`` mixes old and new samples with the analysis window's energy weights, and each
frame's gain reaches the output through the synthesis cross-fade. :func:`detector_coefficients`
therefore solves the same definition numerically on a hop-rate model of exactly that path (frame
level = energy-weighted mix of the two tone levels, the detector recursion above, gain on the
static curve, output time = centre of the frame's synthesis cross-fade) and picks, per band, the
coefficient whose modelled ANSI time equals the preset's. The closed form above is the limit of
that model for a frame of one sample, and is what :func:`closed_form_tau_ms` returns.
"""

from __future__ import annotations

import numpy as np

from hearsep.chain.curves import curve_arrays, curve_gain_db

#: ANSI S3.22 step levels (dB SPL input) and the tolerances that end attack / release (dB)
ANSI_LOW_DB_SPL, ANSI_HIGH_DB_SPL = 55.0, 90.0
ANSI_ATTACK_TOLERANCE_DB, ANSI_RELEASE_TOLERANCE_DB = 3.0, 4.0

# candidate time constants for the numerical solution, log-spaced (about 1.6 % apart)
_TAU_GRID_MS = np.geomspace(0.02, 60000.0, 900)


def closed_form_tau_ms(time_ms: float, ratio: float, tolerance_db: float,
                       step_db: float = ANSI_HIGH_DB_SPL - ANSI_LOW_DB_SPL) -> float:
    """``tau = t / ln(step (1 - 1/CR) / tol)`` (ms); a ratio too low to leave the tolerance -> inf ratio."""
    span = step_db * (1.0 - 1.0 / ratio) if np.isfinite(ratio) else step_db
    if span <= tolerance_db:  # the output never leaves the tolerance: use an infinite ratio
        span = step_db
    return time_ms / np.log(span / tolerance_db)


def window_energy_fraction(analysis_window: np.ndarray) -> np.ndarray:
    """``c[j]``: fraction of the analysis window's energy in its newest ``j`` samples, ``j = 0..N``."""
    w2 = np.asarray(analysis_window, float) ** 2
    return np.concatenate([[0.0], np.cumsum(w2[::-1])]) / w2.sum()


def ansi_step_times_ms(bands, tau_ms, energy_fraction: np.ndarray, hop_samples: int,
                       sample_rate_hz: float, rising: bool, max_ms: float, control_hops: int = 1,
                       onset_db: float = np.inf, phase: int = 0) -> np.ndarray:
    """Modelled ANSI attack (``rising``) or release time (ms) per band and candidate ``tau_ms``.

    Returns ``(bands, len(tau_ms))``; ``inf`` where the output has not settled within ``max_ms``.
    While the level rises the detector only attacks, while it falls it only releases, so one
    coefficient per direction describes the whole step.

    Control rate (``control_hops`` = R > 1; the chain's schedule, :mod:`hearsep.chain.chain`):
    the detector and the gains are updated on a control hop only, and each hop in between keeps
    the gain of the last update. A hop is a control hop when R hops have passed since the last
    one, or earlier when the frame's level exceeds the detector's as it stood before the last
    control hop's update by more than ``onset_db`` (the chain compares the sums over its bands;
    for a tone that is this band's comparison): while the level rises above the detector by
    more than that margin every hop is a control hop; a falling level never triggers. Every update
    uses the same coefficient ``1 - exp(-hop_ms / tau)``, however many hops it follows (so the
    time constant of a run of scheduled updates is R tau: the coefficient solved for is that of
    the schedule, and an attack, updated on every hop, is not sped up by the hops it skipped).
    ``phase`` (``0 <= phase < R``) places the step: the first scheduled control hop after it is
    hop ``phase``.
    """
    c = curve_arrays(bands)
    n_bands, k = len(bands), len(tau_ms)
    hop_ms = 1000.0 * hop_samples / sample_rate_hz
    coef = 1.0 - np.exp(-hop_ms / np.asarray(tau_ms, float))[None, :]  # (1, k)
    l1, l2 = (ANSI_LOW_DB_SPL, ANSI_HIGH_DB_SPL) if rising else (ANSI_HIGH_DB_SPL, ANSI_LOW_DB_SPL)
    tol = ANSI_ATTACK_TOLERANCE_DB if rising else ANSI_RELEASE_TOLERANCE_DB
    p1, p2 = 10.0 ** (l1 / 10.0), 10.0 ** (l2 / 10.0)
    g_final = curve_gain_db(np.full((n_bands, 1), l2), c)  # steady-state gain after the step
    n = energy_fraction.shape[0] - 1
    d = np.full((n_bands, k), l1)
    dev = np.abs(curve_gain_db(d, c) - g_final)
    last_bad = np.full((n_bands, k), -1)  # last hop whose output was outside the tolerance
    bad_dev = np.zeros((n_bands, k))
    next_dev = np.zeros((n_bands, k))  # deviation one hop after that
    last_control = np.full((n_bands, k), phase - control_hops)
    d_ref = d.copy()  # the detector before the last update: the onset reference
    hops = int(np.ceil(max_ms / hop_ms)) + n // hop_samples + 1 + control_hops
    for i in range(hops):
        # frame i after the step holds (i + 1) * hop new samples, weighted by the window's energy
        frac = energy_fraction[min((i + 1) * hop_samples, n)]
        level = 10.0 * np.log10(p1 * (1.0 - frac) + p2 * frac)
        control = (i - last_control >= control_hops) | (level > d_ref + onset_db)
        d_ref = np.where(control, d, d_ref)
        d = np.where(control, d + coef * (level - d), d)
        last_control[control] = i
        dev = np.abs(curve_gain_db(d, c) - g_final)
        bad = dev > tol
        settle = ~bad & (last_bad == i - 1)
        next_dev[settle] = dev[settle]
        last_bad[bad] = i
        bad_dev[bad] = dev[bad]
        if not bad.any() and (i + 1) * hop_samples >= n and i >= phase + control_hops:
            break
    # frame i's gain sits at the centre of its synthesis cross-fade, i * hop - 0.5 samples after
    # the step; the crossing is interpolated linearly between the last bad hop and the next
    w = np.clip((bad_dev - tol) / np.maximum(bad_dev - next_dev, 1e-12), 0.0, 1.0)
    t_ms = ((last_bad + w) * hop_samples - 0.5) * 1000.0 / sample_rate_hz
    t_ms = np.where(last_bad < 0, 0.0, np.maximum(t_ms, 0.0))
    return np.where(bad, np.inf, t_ms)  # still outside at the end: not settled within max_ms


def detector_coefficients(bands, analysis_window: np.ndarray, hop_samples: int, sample_rate_hz: float,
                          control_hops: int = 1, onset_db: float = np.inf
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-hop attack and release coefficients that give each band its ANSI attack/release times.

    Returns ``(attack_coef, release_coef, achieved_attack_ms, achieved_release_ms)``; the achieved
    times (from the hop model) equal the preset's unless a time is shorter than the frame allows,
    in which case the fastest detector (coefficient 1) is used and its time reported.

    With a control rate (``control_hops``, ``onset_db``: see :func:`ansi_step_times_ms`) the
    modelled time is the mean over the R phases a step can have relative to the scheduled
    control hops (a test box's step does not know the hop grid).
    """
    frac = window_energy_fraction(analysis_window)
    hop_ms = 1000.0 * hop_samples / sample_rate_hz
    out = []
    for rising, key in ((True, "attack_ms"), (False, "release_ms")):
        target = np.array([getattr(b, key) for b in bands], float)
        max_ms = 2.0 * float(target.max()) + 20.0
        taus = _TAU_GRID_MS[_TAU_GRID_MS <= 4.0 * max_ms]
        times = np.mean([ansi_step_times_ms(bands, taus, frac, hop_samples, sample_rate_hz, rising, max_ms,
                                            control_hops, onset_db, phase) for phase in range(control_hops)],
                        axis=0)
        coef, achieved = np.empty(len(bands)), np.empty(len(bands))
        for b, t in enumerate(target):
            row = np.maximum.accumulate(np.where(np.isfinite(times[b]), times[b], np.inf))
            j = int(np.searchsorted(row, t))
            if not np.any(row > 0):  # the curve never leaves the tolerance: closed form, CR = inf
                tol = ANSI_ATTACK_TOLERANCE_DB if rising else ANSI_RELEASE_TOLERANCE_DB
                tau, achieved[b] = closed_form_tau_ms(t, np.inf, tol), t
            elif j == 0:  # faster than the frame allows (or a flat curve): the fastest detector
                tau, achieved[b] = taus[0], row[0]
            elif j >= len(taus) or not np.isfinite(row[j]):
                tau, achieved[b] = taus[j - 1], row[j - 1]
            else:
                w = (t - row[j - 1]) / max(row[j] - row[j - 1], 1e-12)
                tau = float(np.exp(np.log(taus[j - 1]) + w * (np.log(taus[j]) - np.log(taus[j - 1]))))
                achieved[b] = t
            coef[b] = 1.0 - np.exp(-hop_ms / tau)
        out.append((coef, achieved))
    (a, ta), (r, tr) = out
    return a, r, ta, tr
