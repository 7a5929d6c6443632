"""torch.linalg.eig and eigvals for real matrices (float32, float64): complex eigenvalues and unit eigenvectors.

Eigenvalues come from the Francis double-shift QR iteration on the matrix's Hessenberg form, in double precision,
each stored at the index where it deflates (the real Schur form's order; a complex pair with its positive imaginary
part first, as LAPACK gives them). LAPACK's dgeev also balances the matrix and shifts differently, so the order of
the eigenvalues can differ from PyTorch's (PyTorch promises none); the values agree. Each eigenvector spans the null
space of A - lambda I, found through the SVD (repeated eigenvalues of a diagonalizable matrix get independent
vectors), normalized as dgeev normalizes: unit 2-norm, the component of largest magnitude real; a conjugate pair's
vectors are conjugates. The matrices are small Python loops: meant for the sizes a notebook decomposes. No
derivative yet: backward raises.
"""
import math

from ... import _dtype as D
from ..._grad_mode import no_grad
from .._registry import register
from .._util import GRAD_ENABLED, derivative_not_implemented, record
from .. import inplace as _ip
from ..creation import tensor
from ._common import _check_matrix, _result_type
from .spectral import svd

EigResult = _result_type("linalg_eig", ("eigenvalues", "eigenvectors"))


def _hessenberg(a):
    """Householder reduction of a (list of row lists, modified) to upper Hessenberg form."""
    n = len(a)
    for k in range(n - 2):
        x = [a[i][k] for i in range(k + 1, n)]
        norm = math.sqrt(sum(v * v for v in x))
        if norm == 0.0:
            continue
        alpha = -norm if x[0] > 0 else norm
        v = x[:]
        v[0] -= alpha
        vv = sum(t * t for t in v)
        if vv == 0.0:
            continue
        for j in range(k, n):
            s = 2.0 * sum(v[i] * a[k + 1 + i][j] for i in range(len(v))) / vv
            for i in range(len(v)):
                a[k + 1 + i][j] -= s * v[i]
        for i in range(n):
            s = 2.0 * sum(a[i][k + 1 + j] * v[j] for j in range(len(v))) / vv
            for j in range(len(v)):
                a[i][k + 1 + j] -= s * v[j]
        for i in range(k + 2, n):
            a[i][k] = 0.0
    return a


def _hqr(a):
    """Eigenvalues of an upper Hessenberg matrix (list of lists, destroyed): the Francis double-shift QR
    iteration, each eigenvalue stored at the index where it deflates (the real Schur form's diagonal order)."""
    n = len(a)
    wr, wi = [0.0] * n, [0.0] * n
    anorm = sum(abs(a[i][j]) for i in range(n) for j in range(max(i - 1, 0), n))
    nn = n - 1
    t = 0.0
    while nn >= 0:
        its = 0
        while True:
            l = nn
            while l >= 1:
                s = abs(a[l - 1][l - 1]) + abs(a[l][l])
                if s == 0.0:
                    s = anorm
                if abs(a[l][l - 1]) + s == s:
                    a[l][l - 1] = 0.0
                    break
                l -= 1
            x = a[nn][nn]
            if l == nn:
                wr[nn] = x + t
                wi[nn] = 0.0
                nn -= 1
                break
            y = a[nn - 1][nn - 1]
            w = a[nn][nn - 1] * a[nn - 1][nn]
            if l == nn - 1:
                p = 0.5 * (y - x)
                q = p * p + w
                z = math.sqrt(abs(q))
                x += t
                if q >= 0.0:
                    z = p + (z if p >= 0 else -z)
                    wr[nn - 1] = wr[nn] = x + z
                    if z:
                        wr[nn] = x - w / z
                    wi[nn - 1] = wi[nn] = 0.0
                else:
                    wr[nn - 1] = wr[nn] = x + p
                    wi[nn - 1] = z
                    wi[nn] = -z
                nn -= 2
                break
            if its == 60:
                raise RuntimeError("linalg.eig: the algorithm failed to converge")
            if its == 10 or its == 20:
                t += x
                for i in range(nn + 1):
                    a[i][i] -= x
                s = abs(a[nn][nn - 1]) + abs(a[nn - 1][nn - 2])
                y = x = 0.75 * s
                w = -0.4375 * s * s
            its += 1
            m = nn - 2
            while m >= l:
                z = a[m][m]
                r = x - z
                s = y - z
                p = (r * s - w) / a[m + 1][m] + a[m][m + 1]
                q = a[m + 1][m + 1] - z - r - s
                r = a[m + 2][m + 1]
                s = abs(p) + abs(q) + abs(r)
                p /= s
                q /= s
                r /= s
                if m == l:
                    break
                u = abs(a[m][m - 1]) * (abs(q) + abs(r))
                v = abs(p) * (abs(a[m - 1][m - 1]) + abs(z) + abs(a[m + 1][m + 1]))
                if u + v == v:
                    break
                m -= 1
            for i in range(m + 2, nn + 1):
                a[i][i - 2] = 0.0
                if i != m + 2:
                    a[i][i - 3] = 0.0
            k = m
            while k <= nn - 1:
                if k != m:
                    p = a[k][k - 1]
                    q = a[k + 1][k - 1]
                    r = 0.0
                    if k != nn - 1:
                        r = a[k + 2][k - 1]
                    x = abs(p) + abs(q) + abs(r)
                    if x != 0.0:
                        p /= x
                        q /= x
                        r /= x
                s = math.sqrt(p * p + q * q + r * r)
                if p < 0:
                    s = -s
                if s != 0.0:
                    if k == m:
                        if l != m:
                            a[k][k - 1] = -a[k][k - 1]
                    else:
                        a[k][k - 1] = -s * x
                    p += s
                    x = p / s
                    y = q / s
                    z = r / s
                    q /= p
                    r /= p
                    for j in range(k, nn + 1):
                        p = a[k][j] + q * a[k + 1][j]
                        if k != nn - 1:
                            p += r * a[k + 2][j]
                            a[k + 2][j] -= p * z
                        a[k + 1][j] -= p * y
                        a[k][j] -= p * x
                    mmin = nn if nn < k + 3 else k + 3
                    for i in range(l, mmin + 1):
                        p = x * a[i][k] + y * a[i][k + 1]
                        if k != nn - 1:
                            p += z * a[i][k + 2]
                            a[i][k + 2] -= p * r
                        a[i][k + 1] -= p * q
                        a[i][k] -= p
                k += 1
    return [complex(r, i) for r, i in zip(wr, wi)]



def _null_vectors(A, lam, count, tol):
    """`count` independent complex unit vectors v with A v = lam v (A: rows of floats), from the right singular
    vectors of A - lam I for its smallest singular values (as a real 2n x 2n system when lam is complex)."""
    n = len(A)
    a, b = lam.real, lam.imag
    if b == 0.0:
        M = [[A[i][j] - (a if i == j else 0.0) for j in range(n)] for i in range(n)]
    else:
        M = [[0.0] * (2 * n) for _ in range(2 * n)]
        for i in range(n):
            for j in range(n):
                v = A[i][j] - (a if i == j else 0.0)
                M[i][j] = M[n + i][n + j] = v
            M[i][n + i] = b
            M[n + i][i] = -b
    _, S, Vh = svd(tensor(M, dtype=D.float64), full_matrices=True)
    rows, sv = Vh.tolist(), S.tolist()
    small = 1e-6 * max(sv[0], 1e-300)   # a direction A - lam I nearly annihilates; others are no eigenvectors
    found = []
    for k in sorted(range(len(rows)), key=lambda k: sv[k]):
        if sv[k] > small and found:
            break
        r = rows[k]
        v = [complex(r[i], 0.0) for i in range(n)] if b == 0.0 else [complex(r[i], r[n + i]) for i in range(n)]
        for u in found:   # complex Gram-Schmidt against the vectors kept
            dot = sum(ui.conjugate() * vi for ui, vi in zip(u, v))
            v = [vi - dot * ui for ui, vi in zip(u, v)]
        norm = math.sqrt(sum(abs(vi) ** 2 for vi in v))
        if norm > tol:
            found.append([vi / norm for vi in v])
        if len(found) == count:
            break
    while len(found) < count:   # a defective eigenvalue: fewer independent vectors than its multiplicity
        found.append(found[-1])
    return found


def _normalized(v):
    """Unit 2-norm, the component of largest magnitude real and positive (dgeev makes it real)."""
    k = max(range(len(v)), key=lambda i: abs(v[i]))
    big = v[k]
    if big != 0:
        v = [vi * (big.conjugate() / abs(big)) for vi in v]
        v[k] = complex(abs(big), 0.0)
    norm = math.sqrt(sum(abs(vi) ** 2 for vi in v)) or 1.0
    return [vi / norm for vi in v]


def _eig_matrix(A, vectors):
    n = len(A)
    values = _hqr(_hessenberg([row[:] for row in A]))
    if not vectors:
        return values, None
    scale = max((abs(x) for row in A for x in row), default=0.0) or 1.0
    cols = [None] * n
    done = set()

    def equal_to(mu):   # the eigenvalues not yet given vectors equal to mu, to the iteration's accuracy
        return [j for j in range(n) if j not in done and abs(values[j] - mu) <= 1e-8 * max(scale, abs(mu))]

    for k, lam in enumerate(values):
        if k in done:
            continue
        same = equal_to(lam)   # they share lam's null space
        for j, v in zip(same, _null_vectors(A, lam, len(same), 1e-7)):
            cols[j] = _normalized(v)
            done.add(j)
        if lam.imag != 0.0:   # the conjugate eigenvalues take the conjugate vectors
            for j, i in zip(equal_to(lam.conjugate()), same):
                cols[j] = [c.conjugate() for c in cols[i]]
                done.add(j)
    return values, [[cols[j][i] for j in range(n)] for i in range(n)]


def _eig(A, vectors, fname):
    _check_matrix(A, fname)
    with no_grad():
        if not bool(A.isfinite().all()):
            raise RuntimeError(f"torch.{fname}: input tensor should not contain infs or NaNs.")
        n = A._shape[-1]
        batch = A._shape[:-2]
        cdt = D.complex128 if A._dtype is D.float64 else D.complex64
        mats = A.detach().cpu().to(D.float64).reshape(-1, n, n).tolist()
        vals, vecs = [], []
        for M in mats:
            w, V = _eig_matrix(M, vectors)
            vals.append(w)
            vecs.append(V)
        dev = A._storage.device
        L = tensor(vals, dtype=D.complex128).reshape(batch + (n,)).to(cdt).to(dev)
        V = tensor(vecs, dtype=D.complex128).reshape(batch + (n, n)).to(cdt).to(dev) if vectors else None
    if GRAD_ENABLED[0] and A._requires_grad:
        record("LinalgEigBackward0", lambda ctx, *g: derivative_not_implemented("linalg_eig (torch_js)"), (A,),
               (L, V) if vectors else (L,))
    return L, V


def eig(A, *, out=None):
    L, V = _eig(A, True, "linalg.eig")
    return _ip.write_outs(out, EigResult((L, V)))


def eigvals(A, *, out=None):
    return _eig(A, False, "linalg.eigvals")[0]


register("eig", eig, "linalg", namespace="linalg", method=False, dtype="complex", derivative=False, opinfo=())
register("eigvals", eigvals, "linalg", namespace="linalg", method=False, dtype="complex", derivative=False,
         opinfo=())
