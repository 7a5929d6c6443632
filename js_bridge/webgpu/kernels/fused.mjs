// Fused elementwise kernels: one generated WGSL kernel for a group of elementwise nodes over one iteration
// space of n elements (lazy.mjs forms the groups). Each invocation computes element i of every node: a node's
// inputs are loads (a buffer read through its own view of i) or earlier nodes' values, kept in registers; only
// the values someone still needs are stored.
//
// A program (built by lazy.mjs):
//   n         elements
//   operands  [{id, dt, off, m, mode, store, node}]  buffer views: loads ('ld' in the compute kind, 'ldf' as
//             f32: int64 exactly) and stores (of node `node`'s value); m = the view's canonical map (lazy.mjs
//             canon): 'c' off + i, 's' off, 'r' off + a strided walk of m.shape / m.st
//   nodes     [{fam, op, dts, refs, p, bits}]  fam unary | binary | where | copy | fill with the primitive
//             families' semantics (elementwise.mjs); refs[t] >= 0 a node's value, < 0 operand -(ref + 1)
// The pipeline is keyed by the program's structure (ops, dtypes, wiring, map classes, strided ranks rounded up),
// never by n, offsets, shapes or scalar values: those travel in the params, so eager code with new shapes
// reuses its kernels. Params words: 0 n, 2 grid-x, 3 + k operand k's offset, then per strided map [nd,
// shape[R], st[R]], then per node its scalars (unary p0 p1 p2, binary alpha as f32 and i32, fill the bits).
import {
  DT, PARAM_SLOT_BYTES, PARAM_WORDS, cvt, isFloat, isSubword, kernelMain, kindOf, prelude,
} from './common.mjs';
import { ICLAMP, binaryExpr, unaryExpr } from './elementwise.mjs';
import { helpersFor } from './math.mjs';

export const WG_FUSED = 256;
const SLOT_WORDS = PARAM_SLOT_BYTES / 4;
export const MAX_FUSED_WORDS = 8 * SLOT_WORDS;
const NODE_WORDS = { unary: 3, binary: 2, fill: 1, where: 0, copy: 0 };

/** Dims a strided map's params hold: its rank rounded up (a pipeline serves every rank up to that). */
export const rankClass = (nd) => (nd <= 2 ? 2 : nd <= 4 ? 4 : nd <= 8 ? 8 : 16);
export const mapWords = (m) => (m.cls === 'r' ? 1 + 2 * rankClass(m.shape.length) : 0);
export const nodeWords = (fam) => NODE_WORDS[fam];

/** Word positions of a program's params (computed once): {maps: [{m, at, R}], mapOf (operand -> index into maps,
 * -1 none), nodeAt, words}. */
function layoutOf(prog) {
  if (prog.lay) return prog.lay;
  const maps = [];
  const mapOf = [];
  let w = 3 + prog.operands.length;
  for (const o of prog.operands) {
    if (o.m.cls !== 'r') { mapOf.push(-1); continue; }
    let j = maps.findIndex((x) => x.m.key === o.m.key);
    if (j < 0) {
      j = maps.length;
      maps.push({ m: o.m, at: w, R: rankClass(o.m.shape.length) });
      w += mapWords(o.m);
    }
    mapOf.push(j);
  }
  const nodeAt = prog.nodes.map((nd) => { const at = w; w += NODE_WORDS[nd.fam]; return at; });
  return (prog.lay = { maps, mapOf, nodeAt, words: w });
}

/** Params slots of a program of `words` words. */
export const slotsFor = (words) => (words <= PARAM_WORDS ? 1 : Math.ceil(words / SLOT_WORDS));

/** The pipeline key of a program: its structure, not its sizes. */
export function fusedKey(prog, alias) {
  const lay = layoutOf(prog);
  let k = 'fused|';
  prog.operands.forEach((o, i) => {
    const mc = o.m.cls === 'r' ? `r${lay.maps[lay.mapOf[i]].R}.${lay.mapOf[i]}` : o.m.cls;
    k += `${o.store ? 'S' + o.node : o.mode}${o.dt}${mc},`;
  });
  k += '|';
  for (const nd of prog.nodes) k += `${nd.fam}:${nd.op}:${nd.dts.join('.')}:${nd.refs.join('.')};`;
  return k + '|' + alias;
}

/** Operand specs for common.declare. */
export function fusedSpecs(prog) {
  return prog.operands.map((o, k) => ({ name: `O${k}`, dt: o.dt, write: o.store, atomic: o.store && isSubword(o.dt) }));
}

// The value as if stored in dtype d and loaded again (so a consumer in registers sees what it would read).
function rounded(d, e) {
  switch (d) {
    case DT.bool: return `select(0, 1, (${e}) != 0)`;
    case DT.uint8: return `((${e}) & 255)`;
    case DT.int8: return `(((${e}) << 24u) >> 24u)`;
    case DT.int16: return `(((${e}) << 16u) >> 16u)`;
    case DT.float16: return `h2f(f2h(${e}))`;
    case DT.bfloat16: return `bitcast<f32>(f2bf(${e}) << 16u)`;
    default: return e;
  }
}

/** The statement computing node j's value v{j} from its inputs `x` (WGSL expressions); w its first params word. */
function nodeStatement(nd, j, x, w) {
  const od = nd.dts[0];
  const ko = kindOf(od);
  let body;
  switch (nd.fam) {
    case 'unary': {
      const { expr, kind } = unaryExpr(nd.op, nd.dts[1]);
      body = `let x = ${x[0]}; let p0 = pf(${w}u); let p1 = pf(${w + 1}u); let p2 = pf(${w + 2}u);
    let r = ${expr};`;
      body += ` v${j} = ${rounded(od, cvt(kind, ko, 'r'))};`;
      break;
    }
    case 'binary': {
      const ad = nd.dts[1];
      const { expr, kind } = binaryExpr(nd.op, ad);
      const al = kindOf(ad) === 'f' ? `pf(${w}u)` : `pi(${w + 1}u)`;
      body = `let a = ${x[0]}; let b = ${x[1]}; let al = ${al};
    let r = ${expr}; v${j} = ${rounded(od, cvt(kind, ko, 'r'))};`;
      break;
    }
    case 'where': {
      const zero = kindOf(nd.dts[1]) === 'f' ? '0.0' : '0';
      body = `v${j} = select(${x[2]}, ${x[1]}, ${x[0]} != ${zero});`;
      break;
    }
    case 'copy': {
      const xd = nd.dts[1];
      let r = x[0];
      if (xd === DT.int64 && isFloat(od)) r = x[0];                       // loaded exactly as f32 ('ldf')
      else if (kindOf(xd) === 'f' && ko === 'i') r = od === DT.bool ? `select(0, 1, ${x[0]} != 0.0)` : `f2i(${x[0]})`;
      else if (kindOf(xd) === 'i' && ko === 'f') r = `f32(${x[0]})`;
      body = `v${j} = ${rounded(od, r)};`;
      break;
    }
    case 'fill': {
      const bits = `pu(${w}u)`;
      const v = od === DT.float32 ? `bitcast<f32>(${bits})` : od === DT.float16 ? `h2f(${bits})`
        : od === DT.bfloat16 ? `bitcast<f32>(${bits} << 16u)` : `bitcast<i32>(${bits})`;
      body = `v${j} = ${rounded(od, v)};`;
      break;
    }
    default: throw new Error(`fused: unknown family ${nd.fam}`);
  }
  return `  var v${j}: ${ko === 'f' ? 'f32' : 'i32'};\n  {\n    ${body}\n  }\n`;
}

/** {code, sig, slots, pslots} of a program, for Dispatcher.pipeline (dec: common.declare of fusedSpecs). */
export function fusedSource(prog, dec) {
  const lay = layoutOf(prog);
  const pslots = slotsFor(lay.words);
  let fns = '';
  let body = '';
  lay.maps.forEach(({ at, R }, j) => {
    fns += `fn map${j}(i: u32) -> u32 {
  var rem = i; var o = 0u;
  for (var d = i32(pu(${at}u)) - 1; d >= 0; d--) {
    let sz = pu(${at + 1}u + u32(d)); let c = rem % sz; rem = rem / sz; o += c * pu(${at + 1 + R}u + u32(d));
  }
  return o;
}
`;
    body += `  let m${j} = map${j}(i);\n`;
  });
  const index = (k) => {
    const o = prog.operands[k];
    return o.m.cls === 'c' ? `pu(${3 + k}u) + i` : o.m.cls === 's' ? `pu(${3 + k}u)` : `pu(${3 + k}u) + m${lay.mapOf[k]}`;
  };
  const val = (ref) => (ref >= 0 ? `v${ref}` : `l${-ref - 1}`);
  prog.operands.forEach((o, k) => {
    if (!o.store) body += `  let l${k} = ${o.mode === 'ldf' ? 'ldf' : 'ld'}_O${k}(${index(k)});\n`;
  });
  const exprs = [];
  prog.nodes.forEach((nd, j) => {
    const s = nodeStatement(nd, j, nd.refs.map(val), lay.nodeAt[j]);
    exprs.push(s);
    body += s;
  });
  prog.operands.forEach((o, k) => {
    if (o.store) body += `  st_O${k}(${index(k)}, v${o.node});\n`;
  });
  const all = exprs.join('');
  const helpers = helpersFor(all) + (all.includes('iclamp_') ? ICLAMP : '');
  const code = prelude(pslots === 1 ? PARAM_WORDS : pslots * SLOT_WORDS) + dec.code + helpers + fns +
    kernelMain(WG_FUSED, 'i', body);
  return { code, sig: dec.sig, slots: dec.slots, pslots };
}

/** Write a program's params at word w (header word 2, the grid's x extent, is the caller's). */
export function writeFusedParams(prog, u32, f32, w) {
  const lay = layoutOf(prog);
  u32[w] = prog.n;
  prog.operands.forEach((o, k) => { u32[w + 3 + k] = o.off; });
  for (const { m, at, R } of lay.maps) {
    u32[w + at] = m.shape.length;
    for (let d = 0; d < m.shape.length; d++) { u32[w + at + 1 + d] = m.shape[d]; u32[w + at + 1 + R + d] = m.st[d]; }
  }
  prog.nodes.forEach((nd, j) => {
    const at = w + lay.nodeAt[j];
    if (nd.fam === 'unary') { f32[at] = nd.p[0]; f32[at + 1] = nd.p[1]; f32[at + 2] = nd.p[2]; }
    else if (nd.fam === 'binary') { f32[at] = nd.p[3]; u32[at + 1] = Math.trunc(nd.p[3]) | 0; }
    else if (nd.fam === 'fill') u32[at] = nd.bits;
  });
  return slotsFor(lay.words);
}
