"""The strong-Wolfe line search LBFGS(line_search_fn="strong_wolfe") runs (the bracketing + zoom scheme of Nocedal &
Wright, Alg. 3.5/3.6, with cubic interpolation).

Step lengths, losses and directional derivatives are a mix of Python floats (losses, the first trial step) and 0-d
float32 tensors (anything derived from a dot product), exactly as in torch: each comparison and interpolation then
rounds as torch's does, so the same trial points are evaluated."""
from .._tensor import Tensor

__all__ = ["strong_wolfe"]


def _div(num, den):
    # torch evaluates `number / tensor` as reciprocal(tensor) * number, which can round differently from a division
    if isinstance(den, Tensor) and not isinstance(num, Tensor):
        return den.reciprocal() * num
    return num / den


def _cubic_minimizer(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to `bounds` (default: the
    interval between the points); the interval's midpoint when the cubic has no real minimizer."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - _div(3 * (f1 - f2), x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if not d2_square >= 0:
        return (lo + hi) / 2.0
    d2 = d2_square.sqrt()
    # measured from the farther point (x2 when x1 <= x2)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


class _Point:
    """One evaluated trial step: step length t, loss f, flat gradient g and directional derivative gtd = g.d."""
    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t, f, g, gtd):
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def strong_wolfe(evaluate, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Find a step length along d from the parameters x satisfying the strong Wolfe conditions (sufficient decrease
    with constant c1, curvature with c2). evaluate(x, t, d) -> (loss float, flat gradient) at x + t*d. Returns
    (loss, flat gradient, t, number of evaluations) of the best point found within max_ls evaluations."""
    d_norm = d.abs().max()
    # (every gradient evaluate() returns is a fresh tensor, so points can be kept without copying them)
    start = _Point(0, f, g, gtd)

    def sufficient_decrease(p):   # Armijo: the loss fell at least c1 * t times the initial slope
        return not p.f > (f + c1 * p.t * gtd)

    def flat_enough(p):           # curvature: the slope shrank to at most c2 times the initial one
        return abs(p.gtd) <= -c2 * gtd

    def probe(step):
        loss, grad = evaluate(x, step, d)
        return _Point(step, loss, grad, grad.dot(d))

    # --- bracketing: extrapolate until an interval [low, high] surely contains an acceptable step ---------------
    new = probe(t)
    evals, iters = 1, 0
    prev = start
    bracket = None
    while iters < max_ls:
        if not sufficient_decrease(new) or (iters > 1 and new.f >= prev.f):
            bracket = [prev, new]
            break
        if flat_enough(new):
            return new.f, new.g, new.t, evals
        if new.gtd >= 0:   # the slope turned: a minimizer lies between the previous point and this one
            bracket = [prev, new]
            break
        # extrapolate: somewhere in [t + 1% of the last move, 10 t]
        lower, upper = new.t + 0.01 * (new.t - prev.t), new.t * 10
        step = _cubic_minimizer(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd, bounds=(lower, upper))
        prev, new = new, probe(step)
        evals += 1
        iters += 1
    if bracket is None:   # out of evaluations while still extrapolating
        # no evaluations left to zoom with: the lower loss of the start and the last trial wins
        best = start if f <= new.f else new
        return best.f, best.g, best.t, evals

    # --- zoom: shrink the bracket around an acceptable step --------------------------------------------------------
    low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
    stalled = False   # the previous trial landed too close to the bracket's edge
    while iters < max_ls:
        if abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change:
            break
        step = _cubic_minimizer(bracket[0].t, bracket[0].f, bracket[0].gtd, bracket[1].t, bracket[1].f,
                                bracket[1].gtd)
        # keep trials at least 10% of the bracket away from its ends when the interpolation hugs one
        top, bottom = max(bracket[0].t, bracket[1].t), min(bracket[0].t, bracket[1].t)
        margin = 0.1 * (top - bottom)
        if min(top - step, step - bottom) < margin:
            if stalled or step >= top or step <= bottom:
                step = top - margin if abs(step - top) < abs(step - bottom) else bottom + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        new = probe(step)
        evals += 1
        iters += 1
        if not sufficient_decrease(new) or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if flat_enough(new):
                bracket[low] = new
                break
            if new.gtd * (bracket[high].t - bracket[low].t) >= 0:   # the old low end becomes the high end
                bracket[high] = bracket[low]
            bracket[low] = new
    best = bracket[low]
    return best.f, best.g, best.t, evals
