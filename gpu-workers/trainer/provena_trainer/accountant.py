"""RDP accountant for the subsampled Gaussian mechanism (DP-SGD).

The RDP of one step is computed as in Mironov, Talwar and Zhang, "Rényi Differential Privacy of the Sampled
Gaussian Mechanism" (2019), following Opacus's `opacus/accountants/analysis/rdp.py` (`compute_rdp`), with the
standard library in place of scipy. RDP composes additively over steps. Two conversions to (epsilon, delta):

- classic (Mironov 2017, Prop. 3): eps = rdp - log(delta) / (alpha - 1)
- improved (Balle et al. 2020, "Hypothesis testing interpretations and Rényi DP", Thm. 21), what Opacus's
  `get_privacy_spent` returns: eps = rdp - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha)

Each returns the minimum over the orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

#: Opacus's default RDP orders: 1.1 to 10.9 in steps of 0.1, then 12 to 63.
DEFAULT_ORDERS: tuple[float, ...] = tuple([1 + x / 10.0 for x in range(1, 100)] + [float(x) for x in range(12, 64)])


def _log_add(logx: float, logy: float) -> float:
    a, b = min(logx, logy), max(logx, logy)
    if a == -math.inf:
        return b
    return math.log1p(math.exp(a - b)) + b


def _log_sub(logx: float, logy: float) -> float:
    if logx < logy:
        raise ValueError("the result of a subtraction must be non-negative")
    if logy == -math.inf:
        return logx
    if logx == logy:
        return -math.inf
    try:
        return math.log(math.expm1(logx - logy)) + logy
    except OverflowError:
        return logx


def _log_erfc(x: float) -> float:
    """log(erfc(x)), accurate where erfc underflows (large x) by its asymptotic series."""
    if x < 25.0:
        return math.log(math.erfc(x))
    # erfc(x) ~ exp(-x^2) / (x sqrt(pi)) * (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + 105/(16x^8))
    x2 = x * x
    series = 1 - 1 / (2 * x2) + 3 / (4 * x2**2) - 15 / (8 * x2**3) + 105 / (16 * x2**4)
    return -x2 - math.log(x) - 0.5 * math.log(math.pi) + math.log(series)


def _log_a_int(q: float, sigma: float, alpha: int) -> float:
    log_a = -math.inf
    for i in range(alpha + 1):
        log_coef_i = math.log(math.comb(alpha, i)) + i * math.log(q) + (alpha - i) * math.log(1 - q)
        log_a = _log_add(log_a, log_coef_i + (i * i - i) / (2 * sigma**2))
    return log_a


def _log_a_frac(q: float, sigma: float, alpha: float) -> float:
    log_a0, log_a1 = -math.inf, -math.inf
    i = 0
    z0 = sigma**2 * math.log(1 / q - 1) + 0.5
    coef = 1.0  # the generalized binomial coefficient C(alpha, i), updated in place (scipy.special.binom's role)
    while True:
        log_coef = math.log(abs(coef))
        j = alpha - i
        log_t0 = log_coef + i * math.log(q) + j * math.log(1 - q)
        log_t1 = log_coef + j * math.log(q) + i * math.log(1 - q)
        log_e0 = math.log(0.5) + _log_erfc((i - z0) / (math.sqrt(2) * sigma))
        log_e1 = math.log(0.5) + _log_erfc((z0 - j) / (math.sqrt(2) * sigma))
        log_s0 = log_t0 + (i * i - i) / (2 * sigma**2) + log_e0
        log_s1 = log_t1 + (j * j - j) / (2 * sigma**2) + log_e1
        if coef > 0:
            log_a0 = _log_add(log_a0, log_s0)
            log_a1 = _log_add(log_a1, log_s1)
        else:
            log_a0 = _log_sub(log_a0, log_s0)
            log_a1 = _log_sub(log_a1, log_s1)
        coef *= (alpha - i) / (i + 1)
        i += 1
        if max(log_s0, log_s1) < -30:
            break
    return _log_add(log_a0, log_a1)


@lru_cache(maxsize=4096)
def _rdp_one_step(q: float, sigma: float, alpha: float) -> float:
    if q == 0:
        return 0.0
    if sigma == 0:
        return math.inf
    if q == 1.0:
        return alpha / (2 * sigma**2)
    if math.isinf(alpha):
        return math.inf
    log_a = _log_a_int(q, sigma, int(alpha)) if float(alpha).is_integer() else _log_a_frac(q, sigma, alpha)
    return log_a / (alpha - 1)


def compute_rdp(*, q: float, noise_multiplier: float, steps: int, orders: Sequence[float] = DEFAULT_ORDERS) -> list[float]:
    """RDP at each order after `steps` steps of the Gaussian mechanism with Poisson sampling rate `q`."""
    if not 0 <= q <= 1:
        raise ValueError("sampling rate must lie in [0, 1]")
    return [_rdp_one_step(q, noise_multiplier, a) * steps for a in orders]


@dataclass(frozen=True)
class PrivacySpent:
    epsilon: float
    order: float


def get_privacy_spent(
    *, orders: Sequence[float], rdp: Sequence[float], delta: float, conversion: str = "improved"
) -> PrivacySpent:
    """The smallest epsilon over `orders` for `delta`; `conversion` is 'improved' (Balle et al. 2020) or 'classic'."""
    if not 0 < delta < 1:
        raise ValueError("delta must lie in (0, 1)")
    best = PrivacySpent(math.inf, math.nan)
    for a, r in zip(orders, rdp):
        if conversion == "improved":
            eps = r - (math.log(delta) + math.log(a)) / (a - 1) + math.log((a - 1) / a)
        elif conversion == "classic":
            eps = r - math.log(delta) / (a - 1)
        else:
            raise ValueError(f"unknown conversion {conversion!r}")
        if not math.isnan(eps) and eps < best.epsilon:
            best = PrivacySpent(eps, a)
    return best


def epsilon(
    *, q: float, noise_multiplier: float, steps: int, delta: float,
    orders: Sequence[float] = DEFAULT_ORDERS, conversion: str = "improved",
) -> float:
    """Epsilon spent for `delta` after `steps` DP-SGD steps (sampling rate q, noise multiplier sigma)."""
    rdp = compute_rdp(q=q, noise_multiplier=noise_multiplier, steps=steps, orders=orders)
    return get_privacy_spent(orders=orders, rdp=rdp, delta=delta, conversion=conversion).epsilon


class RdpAccountant:
    """Accumulates DP-SGD steps (possibly with different q or sigma) and reports epsilon for a delta."""

    def __init__(self, orders: Sequence[float] = DEFAULT_ORDERS) -> None:
        self.orders = tuple(orders)
        self.history: list[tuple[float, float, int]] = []  # (noise_multiplier, q, steps)

    def step(self, *, noise_multiplier: float, q: float, steps: int = 1) -> None:
        if self.history and self.history[-1][:2] == (noise_multiplier, q):
            sigma, rate, n = self.history[-1]
            self.history[-1] = (sigma, rate, n + steps)
        else:
            self.history.append((noise_multiplier, q, steps))

    def epsilon(self, delta: float, conversion: str = "improved") -> float:
        if not self.history:
            return 0.0
        total = [0.0] * len(self.orders)
        for sigma, q, n in self.history:
            total = [t + r for t, r in zip(total, compute_rdp(q=q, noise_multiplier=sigma, steps=n, orders=self.orders))]
        return get_privacy_spent(orders=self.orders, rdp=total, delta=delta, conversion=conversion).epsilon

    def state_dict(self) -> dict:
        return {"history": [list(h) for h in self.history]}

    def load_state_dict(self, state: dict) -> None:
        self.history = [(float(s), float(q), int(n)) for s, q, n in state["history"]]
