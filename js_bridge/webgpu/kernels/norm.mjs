// Layer norm and RMS norm over contiguous rows, one kernel: the row's mean (layer norm), then its variance about
// that mean (two passes over the row, as accurate as PyTorch's, not E[x²] - E[x]²), then the normalised row with
// its weight and bias; the row is read once into registers when it fits (softmax's shape: kernels/reduce.mjs).
// Per row the kernel may also store the mean and 1/sqrt(var + eps), which the backward reuses.
// Header: 0 rows, 1 n, 2 grid-x, 3 x offset, 4 out offset, 5 weight offset, 6 bias offset, 7 mean offset,
// 8 rstd offset, 9 eps (f32).
import { PRELUDE, UnsupportedDtype, grid, isFloat, isSubword } from './common.mjs';
import { WG_ROW, rowMain, softmaxShape } from './reduce.mjs';

export const NORM_RMS = 1, NORM_WEIGHT = 2, NORM_BIAS = 4, NORM_STATS = 8;

/** Operand specs in binding order: O, X, then W, B, MU, RS as the flags ask. */
export function rowNormSpecs(xd, od, wd, flags) {
  const specs = [{ name: 'O', dt: od, write: true, atomic: isSubword(od) }, { name: 'X', dt: xd }];
  if (flags & NORM_WEIGHT) specs.push({ name: 'W', dt: wd });
  if (flags & NORM_BIAS) specs.push({ name: 'B', dt: wd });
  if (flags & NORM_STATS) specs.push({ name: 'MU', dt: od, write: true }, { name: 'RS', dt: od, write: true });
  return specs;
}

export const rowNormShape = softmaxShape;

export function rowNormSource(xd, od, flags, b, shape) {
  if (!isFloat(xd) || !isFloat(od)) throw new UnsupportedDtype(xd);
  const { S, OX, cache } = shape;
  const rms = flags & NORM_RMS;
  // `acc` summed over the S invocations of a row (a tree in workgroup memory)
  const rowSum = S > 1 ? `  sh[lid.x] = acc;
  workgroupBarrier();
  for (var h = ${S / 2}u; h > 0u; h >>= 1u) {
    if (t < h) { acc += sh[lid.x + h]; sh[lid.x] = acc; }
    workgroupBarrier();
  }
  acc = sh[lid.x - t];
  workgroupBarrier();
` : '';
  const each = (body) => (cache
    ? Array.from({ length: cache }, (_, e) => `  if (t + ${e * S}u < n) { let i = t + ${e * S}u; let v = x${e}; ${body} }\n`).join('')
    : `  for (var i = t; i < n; i += ${S}u) { let v = ld_X(xb + i); ${body} }\n`);
  const load = cache ? Array.from({ length: cache }, (_, e) => `  var x${e} = 0.0; if (t + ${e * S}u < n) { x${e} = ld_X(xb + t + ${e * S}u); }\n`).join('') : '';
  let y = '(v - mean) * rstd';
  if (flags & NORM_WEIGHT) y = `${y} * ld_W(pu(5u) + i)`;
  if (flags & NORM_BIAS) y = `${y} + ld_B(pu(6u) + i)`;
  const stats = flags & NORM_STATS ? '  if (t == 0u && valid) { st_MU(pu(7u) + row, mean); st_RS(pu(8u) + row, rstd); }\n' : '';
  return PRELUDE + b + `
var<workgroup> sh: array<f32, ${WG_ROW}>;
${rowMain(S, OX)}  let nf = f32(max(n, 1u));
${load}  var acc = 0.0;
${rms ? '  let mean = 0.0;\n' : `${each('acc += v;')}${rowSum}  let mean = acc / nf;\n  acc = 0.0;\n`}${each('let c = v - mean; acc += c * c;')}${rowSum}  let rstd = inverseSqrt(acc / nf + pf(9u));
${stats}${each(`st_O(ob + i, ${y});`)}}
`;
}

/** Run a decoded ROW_NORM block (abi.mjs) on bridge `br` (index.mjs's Bridge); eps from the block's p0. */
export function runRowNorm(br, a, eps) {
  const { outer, n, flags } = a;
  if (!outer || !n) return;
  const { id: oid, dt: odt, off: ooff } = a.out, { id: xid, dt: xdt, off: xoff } = a.x;
  const wdt = flags & NORM_WEIGHT ? a.w.dt : flags & NORM_BIAS ? a.b.dt : xdt;
  br._checkDtypes([xdt, odt, wdt]);
  const ids = [oid, xid];
  if (flags & NORM_WEIGHT) ids.push(a.w.id);
  if (flags & NORM_BIAS) ids.push(a.b.id);
  if (flags & NORM_STATS) ids.push(a.mean.id, a.rstd.id);
  const d = br.disp;
  const shape = rowNormShape(n);
  const p = br._pipe(`row_norm:${xdt},${odt},${wdt}:${shape.S}${shape.cache ? 'c' : ''}:${flags}`, ids,
    () => rowNormSpecs(xdt, odt, wdt, flags), (b) => rowNormSource(xdt, odt, flags, b, shape));
  const w = d.slot();
  const [gx, gy] = grid(Math.ceil(outer / shape.OX));
  d.u32.set([outer, n, gx, xoff, ooff, a.w.off, a.b.off, a.mean.off, a.rstd.off], w);
  d.f32[w + 9] = eps;
  d.dispatch(p, ids, w, gx, gy);
}
