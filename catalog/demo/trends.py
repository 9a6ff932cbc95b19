"""Believable numbers for demo versions: metrics that improve across versions, training curves over
steps, digests and hyperparameters. Pure functions of a `random.Random`, so output is reproducible."""

import math
import random

from catalog.models import MetricGoal

from .content import MetricSpec


def version_progress(count: int, rng: random.Random) -> list[float]:
    """How far each of `count` versions has come, 0 (first) to about 1 (last): fast gains, then a plateau."""
    if count == 1:
        return [0.0]
    tau = max(count / 3, 1.0)
    top = 1 - math.exp(-(count - 1) / tau)
    return [(1 - math.exp(-i / tau)) / top + (rng.gauss(0, 0.04) if i else 0.0) for i in range(count)]


def metric_values(spec: MetricSpec, progress: list[float], rng: random.Random) -> list[float]:
    """One final value per version: start + delta * progress, with measurement noise."""
    start = rng.uniform(*spec.start)
    delta = rng.uniform(*spec.delta)
    return [round(start + delta * p + rng.gauss(0, spec.noise), spec.digits) for p in progress]


def training_curve(final: float, goal: str, steps: int, rng: random.Random, noise: float) -> list[float]:
    """A validation curve over `steps` steps that converges to exactly `final` at the last step."""
    start = final * (0.8 if goal == MetricGoal.MAXIMIZE else 1.6)
    k = 4 / max(steps - 1, 1)
    floor = math.exp(-k * (steps - 1))
    values = []
    for t in range(steps):
        shape = (math.exp(-k * t) - floor) / (1 - floor) if steps > 1 else 0.0
        values.append(final + (start - final) * shape + rng.gauss(0, noise) * math.sqrt(shape))
    values[-1] = final
    return [round(v, 5) for v in values]


def loss_curve(final: float, steps: int, rng: random.Random) -> list[float]:
    """A training loss falling from about 3x `final` to `final`, with mini-batch noise."""
    k = 5 / max(steps - 1, 1)
    return [
        round(max(final + 2 * final * math.exp(-k * t) + rng.gauss(0, final * 0.03), final * 0.5), 5)
        for t in range(steps)
    ]


def hexdigest(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def nudge_hyperparameters(base: dict, rng: random.Random) -> dict:
    """The base hyperparameters with a few numbers tuned, as successive experiments do."""
    params = {}
    for key, value in base.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or rng.random() < 0.5:
            params[key] = value
        elif isinstance(value, float):
            params[key] = float(f"{value * rng.choice((0.5, 0.8, 1.25, 1.5)):.3g}")
        else:
            params[key] = max(1, round(value * rng.choice((0.75, 1.25, 1.5))))
    return params
