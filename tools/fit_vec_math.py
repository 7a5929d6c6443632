"""Polynomial coefficients of wasm_ext/vec_math.h, fitted here from the functions themselves (mpmath).

    python3 tools/fit_vec_math.py            # prints each fit's float32 coefficients (highest degree first)

Each fit is a weighted least-squares polynomial on many Chebyshev nodes of its interval (close to minimax at these
degrees), the weight making the error relative to what the kernel finally returns; coefficients are then rounded
to float32. The kernels' accuracy is checked on float32 inputs by tests/test_vector_math.py, not here.
"""
import struct

import mpmath as mp

mp.mp.dps = 40


def f32(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def fit(g, weight, lo, hi, degree, nodes=400):
    """coefficients c[0..degree] (lowest first) minimising sum(weight * (sum c_k u^k - g(u)))^2 on Chebyshev nodes"""
    us = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / nodes) for k in range(nodes)]
    rows = [[weight(u) * u ** k for k in range(degree + 1)] for u in us]
    rhs = [weight(u) * g(u) for u in us]
    A, b = mp.matrix(rows), mp.matrix(rhs)
    c = mp.lu_solve(A.T * A, A.T * b)
    err = max(abs(sum(c[k] * u ** k for k in range(degree + 1)) - g(u)) * weight(u) for u in us)
    return [c[k] for k in range(degree + 1)], err


def show(name, coeffs, err):
    print(f"{name}: weighted max error {mp.nstr(err, 3)}")
    for k in reversed(range(len(coeffs))):
        print(f"  c{k} = {f32(coeffs[k]):.9e}f")


def series_safe(fn, u, small):
    return fn(u) if abs(u) > small else fn(mp.mpf(small))


def main():
    ln2h = mp.log(2) / 2
    # exp: e^r = 1 + r + r^2 P(r), |r| <= ln2/2; error relative to e^r
    P = lambda r: (mp.exp(r) - 1 - r) / r ** 2 if r != 0 else mp.mpf(1) / 2
    show("exp P(r)", *fit(P, lambda r: r ** 2 / mp.exp(r), -ln2h, ln2h, 4))
    # log: log(1+f) = 2s + s R(z), s = f/(2+f), z = s^2, z <= ((sqrt2-1)/(sqrt2+1))^2; R(z) = z Q(z)
    zmax = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2
    Q = lambda z: (2 * mp.atanh(mp.sqrt(z)) / mp.sqrt(z) - 2) / z if z > 0 else mp.mpf(2) / 3
    show("log Q(z)", *fit(Q, lambda z: z, mp.mpf(0), zmax, 3))
    # tanh: tanh(x) = x + x^3 T(x^2), |x| <= 0.625; error relative to tanh(x) ~ x
    TANH_SMALL = mp.mpf("0.625")
    T = lambda w: (mp.tanh(mp.sqrt(w)) - mp.sqrt(w)) / mp.sqrt(w) ** 3 if w > 0 else -mp.mpf(1) / 3
    show("tanh T(w)", *fit(T, lambda w: w, mp.mpf(0), TANH_SMALL ** 2, 5))
    # erf: erf(x) = x + x E(w), w = x^2, |x| <= 0.921875
    ERF_SMALL = mp.mpf("0.921875")
    E = lambda w: mp.erf(mp.sqrt(w)) / mp.sqrt(w) - 1 if w > 0 else 2 / mp.sqrt(mp.pi) - 1
    show("erf E(w)", *fit(E, lambda w: 1, mp.mpf(0), ERF_SMALL ** 2, 6))
    # erf, middle: erfc(x) = exp(H(t) - x^2), t = x - ERF_MID, x in [0.921875, 3.9]; error relative to erfc(x)
    # (gelu uses erfc itself there)
    ERF_BIG, ERF_MID = mp.mpf("3.9"), mp.mpf("2.5")
    H = lambda t: mp.log(mp.erfc(t + ERF_MID)) + (t + ERF_MID) ** 2
    show("erfc H(t)", *fit(H, lambda t: 1, ERF_SMALL - ERF_MID, ERF_BIG - ERF_MID, 8))
    # sin, cos: x = j pi/2 + r, |r| <= pi/4; pi/2 in four parts, the first three of 12 bits (j p exact for |j| < 2^12)
    pio2 = mp.pi / 2
    p1 = top_bits(pio2, 12)
    p2 = top_bits(pio2 - p1, 12)
    p3 = top_bits(pio2 - p1 - p2, 12)
    print(f"pi/2 = {f32(p1):.9e}f + {f32(p2):.9e}f + {f32(p3):.9e}f + {f32(pio2 - p1 - p2 - p3):.9e}f")
    S = lambda w: (mp.sin(mp.sqrt(w)) - mp.sqrt(w)) / mp.sqrt(w) ** 3 if w > 0 else -mp.mpf(1) / 6
    C = lambda w: (mp.cos(mp.sqrt(w)) - 1 + w / 2) / w ** 2 if w > 0 else mp.mpf(1) / 24
    show("sin S(w): sin r = r + r^3 S(r^2)", *fit(S, lambda w: w, mp.mpf(0), (mp.pi / 4) ** 2, 2))
    show("cos C(w): cos r = 1 - r^2/2 + r^4 C(r^2)", *fit(C, lambda w: w * w, mp.mpf(0), (mp.pi / 4) ** 2, 2))


def top_bits(v, bits):
    """v truncated to its leading `bits` significant bits"""
    m, e = mp.frexp(v)
    return mp.floor(m * 2 ** bits) / 2 ** bits * mp.mpf(2) ** e


if __name__ == "__main__":
    main()
