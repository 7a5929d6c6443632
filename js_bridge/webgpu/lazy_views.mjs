// Canonical views for lazy execution (lazy.mjs): an operand's view over a node's row-major walk reduced to a map
// whose key says which element each step of the walk touches, and what grouping asks of two views (do they read the
// same elements, cover a block, never meet).
/**
 * Canonical form of one operand's view over the row-major walk of `shape`: size-1 dims dropped, dims merged
 * where the pair is contiguous (as the kernels' coalesce); equal maps (same key) read equal elements for every i.
 * cls 'c': element i, 's': one element for all i, 'r': a strided walk.
 */
export function canon(shape, st) {
  let contiguous = true, zero = true;
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {   // the common cases, allocation-free
    if (shape[d] === 1) continue;
    if (st[d] !== acc) contiguous = false;
    if (st[d] !== 0) zero = false;
    acc *= shape[d];
  }
  if (contiguous) return CONTIGUOUS;
  if (zero) return SCALAR;
  const s = [], t = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && t[last] === st[d] * shape[d]) { s[last] *= shape[d]; t[last] = st[d]; continue; }
    s.push(shape[d]);
    t.push(st[d]);
  }
  return { cls: 'r', shape: s, st: t, key: s.join(',') + ';' + t.join(',') };
}
export const CONTIGUOUS = Object.freeze({ cls: 'c', key: 'c' });
export const SCALAR = Object.freeze({ cls: 's', key: 's' });

/** Does view x (canonical map, element offset) read exactly the n elements from `off` on (each once)? */
export function covers(x, off, n) {
  if (x.off !== off) return false;
  if (x.m.cls === 'c') return true;
  if (x.m.cls !== 'r' || x.m.st.includes(0)) return false;
  let last = off;
  for (let d = 0; d < x.m.shape.length; d++) last += (x.m.shape[d] - 1) * x.m.st[d];
  return last === off + n - 1;
}
export const same = (a, b) => a.off === b.off && a.dt === b.dt && a.m.key === b.m.key;

/**
 * The canonical map over a reduction's input walk (outputs x R reduced elements) that reads, for element e, what
 * canonical map m (over the outputs) reads for output e / R: a reduced value broadcast back over its row.
 */
export function rowView(m, nout, R) {
  if (m.cls === 's') return SCALAR;
  const [shape, st] = m.cls === 'c' ? [[nout], [1]] : [m.shape, m.st];
  return canon([...shape, R], [...st, 0]);
}

/**
 * Do views a and b (canonical maps over one walk of n elements) touch no common element? Only decided for equal
 * maps whose strides nest (each larger than the span of the smaller ones, as views of one contiguous tensor): the
 * halves a cat writes (rotate_half's), say. Then the offset difference is a sum of j_d * st_d with |j_d| < shape_d
 * exactly when they overlap, and each j_d can only be the floor or the ceiling of what is left over st_d.
 */
export function disjoint(a, b, n) {
  if (a.dt !== b.dt || a.m.key !== b.m.key || a.m.cls === 's') return false;
  if (a.m.cls === 'c') return Math.abs(a.off - b.off) >= n;
  const dims = a.m.shape.map((size, d) => [Math.abs(a.m.st[d]), size]).sort((x, y) => y[0] - x[0]);
  const span = new Array(dims.length + 1).fill(0);   // span[k]: the largest reach of dims k.. together
  for (let k = dims.length - 1; k >= 0; k--) {
    if (dims[k][0] <= span[k + 1]) return false;     // strides that do not nest (or a zero stride): undecided
    span[k] = span[k + 1] + (dims[k][1] - 1) * dims[k][0];
  }
  const reach = (r, k) => {
    if (k === dims.length) return r === 0;
    const [st, size] = dims[k];
    for (const j of new Set([Math.floor(r / st), Math.ceil(r / st)])) {
      if (Math.abs(j) < size && Math.abs(r - j * st) <= span[k + 1] && reach(r - j * st, k + 1)) return true;
    }
    return false;
  };
  return !reach(b.off - a.off, 0);
}
