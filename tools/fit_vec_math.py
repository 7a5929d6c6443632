"""Polynomial coefficients of wasm_ext/vec_math.h, fitted here from the functions themselves (mpmath).

    python3 tools/fit_vec_math.py            # prints each fit's float32 coefficients (highest degree first)
    python3 tools/fit_vec_math.py --erf-table > wasm_ext/vec_erf_table.h     # erf's and GELU's lookup tables
    python3 tools/fit_vec_math.py --tanh-table > wasm_ext/vec_tanh_table.h   # tanh's

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


# erf and GELU (vec_math.h vm_row_series): rows {f(r), |f'(r)|} at r = i / ERF_STEPS, each value correctly rounded
# to float32: erf's {erf(r), 2/sqrt(pi) e^{-r^2}} up to r = 4 (erf rounds to 1 from 3.8325 on); GELU's
# {Q(r), phi(r)}, Q(r) = erfc(r / sqrt(2)) / 2 the normal distribution's upper tail and phi its density, up to
# r = 12.75 (Q(12.76) is 2e-37, GELU's tail near float32's least normal)
# tanh's {tanh(r), 1 - tanh(r)^2} up to r = 9.25 (tanh rounds to 1 from 9.011 on)
ERF_STEPS = 128
ERF_ROWS, GELU_ROWS, TANH_ROWS = 4 * ERF_STEPS + 1, 51 * ERF_STEPS // 4 + 1, 37 * ERF_STEPS // 4 + 1


def f32_exact(v):
    """v (mpf) rounded once to float32, as a Python float"""
    if v == 0:
        return 0.0
    m, e = mp.frexp(v)   # v = m 2^e, 0.5 <= |m| < 1
    e = max(e, -125)   # subnormals: the last place is 2^-149
    q = mp.nint(v * mp.mpf(2) ** (24 - e))   # mpmath's nint rounds half to even
    return float(q * mp.mpf(2) ** (e - 24))


def c_hex(v):
    """a float32 value as a short C hex-float literal: 0x1.20dd76p+0f"""
    mant, exp = v.hex().split("p")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}p{exp}f"


def erf_table(name, fn, dfn, rows):
    vals = []
    for i in range(rows):
        r = mp.mpf(i) / ERF_STEPS
        vals.append((f32_exact(fn(r)), f32_exact(dfn(r))))
    out = [f"VM_ERF_TABLE {name}[{rows}][2] = {{"]
    for k in range(0, rows, 4):
        out.append("  " + " ".join(f"{{{c_hex(a)}, {c_hex(b)}}}," for a, b in vals[k:k + 4]))
    out.append("};")
    return out


def print_erf_tables():
    print(f"""/* vec_erf_table.h: erf's and GELU's lookup tables for vec_math.h, written by tools/fit_vec_math.py --erf-table
 * (do not edit). Row i: {{f(r), |f'(r)|}} at r = i / {ERF_STEPS}, each correctly rounded to float32: erf's
 * {{erf(r), 2/sqrt(pi) e^(-r^2)}}, GELU's {{Q(r), phi(r)}} (the normal distribution's upper tail erfc(r / sqrt(2)) / 2
 * and its density).
 * One copy per module: weak, hidden definitions that the linker merges across the files that include this.
 */
#ifndef TJS_VEC_ERF_TABLE_H
#define TJS_VEC_ERF_TABLE_H
#define VM_ERF_STEPS {ERF_STEPS}
#define VM_ERF_ROWS {ERF_ROWS}
#define VM_GELU_ROWS {GELU_ROWS}
#define VM_ERF_TABLE __attribute__((weak, visibility("hidden"), aligned(16))) const float""")
    print("\n".join(erf_table("vm_erf_rows", mp.erf, lambda r: 2 / mp.sqrt(mp.pi) * mp.exp(-r * r), ERF_ROWS)))
    print("\n".join(erf_table("vm_gelu_rows", lambda r: mp.erfc(r / mp.sqrt(2)) / 2,
                               lambda r: mp.exp(-r * r / 2) / mp.sqrt(2 * mp.pi), GELU_ROWS)))
    print("#endif")


def print_tanh_table():
    print(f"""/* vec_tanh_table.h: tanh's lookup table for vec_math.h, written by tools/fit_vec_math.py --tanh-table
 * (do not edit). Row i: {{tanh(r), 1 - tanh(r)^2}} at r = i / {ERF_STEPS}, each correctly rounded to float32. Weak,
 * hidden: one copy per module.
 */
#ifndef TJS_VEC_TANH_TABLE_H
#define TJS_VEC_TANH_TABLE_H
#include "vec_erf_table.h"   /* VM_ERF_STEPS, VM_ERF_TABLE */
#define VM_TANH_ROWS {TANH_ROWS}""")
    print("\n".join(erf_table("vm_tanh_rows", mp.tanh, lambda r: 1 / mp.cosh(r) ** 2, TANH_ROWS)))
    print("#endif")


def top_bits(v, bits):
    """v truncated to its leading `bits` significant bits"""
    m, e = mp.frexp(v)
    return mp.floor(m * 2 ** bits) / 2 ** bits * mp.mpf(2) ** e


if __name__ == "__main__":
    import sys
    {"--erf-table": print_erf_tables, "--tanh-table": print_tanh_table}.get(" ".join(sys.argv[1:]), main)()
