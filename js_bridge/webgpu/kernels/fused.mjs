// Fused elementwise kernels: one generated WGSL kernel for groups of elementwise nodes (lazy.mjs forms them).
// A group is a segment: nodes over one iteration space of n elements; each invocation computes element e of
// every node. A node's inputs are loads (a buffer read through its own view of e) or earlier nodes' values, kept
// in registers; only the values someone still needs are stored. Independent segments of the same structure
// (the update of each parameter in an optimizer step, say) run side by side in one kernel: invocation i belongs
// to the first segment whose running end exceeds i.
//
// A segment (built by lazy.mjs):
//   n         elements
//   operands  [{id, dt, off, m, mode, store, node}]  buffer views: loads ('ld' in the compute kind, 'ldf' as
//             f32: int64 exactly) and stores (of node `node`'s value); m = the view's canonical map (lazy.mjs
//             canon): 'c' off + e, 's' off, 'r' off + a strided walk of m.shape / m.st. Mode 'k': a scalar
//             whose value is known, no buffer: `off` holds its bits
//   nodes     [{fam, op, dts, refs, p, bits}]  fam unary | binary | where | copy | fill with the primitive
//             families' semantics (elementwise.mjs); refs[t] >= 0 a node's value, < 0 operand -(ref + 1)
// The pipeline is keyed by the program's structure (ops, dtypes, wiring, map classes, strided ranks rounded up,
// segment count), never by n, offsets, shapes or scalar values: those travel in the params, so eager code with
// new shapes reuses its kernels. Params words: 0 n, 2 grid-x, 3.. each segment's running end, then per segment
// its operands' offsets (bits for 'k'), per strided map [nd, shape[R], st[R]], per node its scalars (unary
// p0 p1 p2, binary alpha as f32 and i32, fill the bits).
import {
  DT, PARAM_SLOT_BYTES, PARAM_WORDS, cvt, isFloat, isSubword, kernelMain, kindOf, prelude,
} from './common.mjs';
import { ICLAMP, binaryExpr, unaryExpr } from './elementwise.mjs';
import { helpersFor } from './math.mjs';

export const WG_FUSED = 256;
const SLOT_WORDS = PARAM_SLOT_BYTES / 4;
export const MAX_FUSED_WORDS = 8 * SLOT_WORDS;
const NODE_WORDS = { unary: 3, binary: 2, fill: 1, where: 0, copy: 0, reduced: 0 };

/** Dims a strided map's params hold: its rank rounded up (a pipeline serves every rank up to that). */
export const rankClass = (nd) => (nd <= 2 ? 2 : nd <= 4 ? 4 : nd <= 8 ? 8 : 16);
export const mapWords = (m) => (m.cls === 'r' ? 1 + 2 * rankClass(m.shape.length) : 0);
export const nodeWords = (fam) => NODE_WORDS[fam];

/**
 * Word positions of a segment's params, from word `base` (computed once): {maps: [{m, at, R}], mapOf (operand ->
 * index into maps, -1 none), nodeAt, end}.
 */
function layoutOf(seg, base) {
  if (seg.lay && seg.lay.base === base) return seg.lay;
  const maps = [];
  const mapOf = [];
  let w = base + seg.operands.length;
  for (const o of seg.operands) {
    if (o.m.cls !== 'r') { mapOf.push(-1); continue; }
    let j = maps.findIndex((x) => x.m.key === o.m.key);
    if (j < 0) {
      j = maps.length;
      maps.push({ m: o.m, at: w, R: rankClass(o.m.shape.length) });
      w += mapWords(o.m);
    }
    mapOf.push(j);
  }
  const nodeAt = seg.nodes.map((nd) => { const at = w; w += NODE_WORDS[nd.fam]; return at; });
  return (seg.lay = { base, maps, mapOf, nodeAt, end: w });
}

/** Layouts of every segment of a program: header words 0 n, 2 grid-x, 3.. each segment's end; then the blocks. */
function layouts(segs) {
  let w = 3 + segs.length;
  return segs.map((seg) => { const lay = layoutOf(seg, w); w = lay.end; return lay; });
}

/** Params words a program of these segments takes. */
export const programWords = (segs) => layouts(segs).at(-1).end;

/** Params slots of a program of `words` words. */
export const slotsFor = (words) => (words <= PARAM_WORDS ? 1 : Math.max(2, Math.ceil(words / SLOT_WORDS)));

/** A segment's structure: what its code depends on (not its sizes, offsets or scalars). */
export function segmentKey(seg) {
  if (seg.key) return seg.key;
  const lay = layoutOf(seg, 0);
  let k = '';
  seg.operands.forEach((o, i) => {
    const mc = o.m.cls === 'r' ? `r${lay.maps[lay.mapOf[i]].R}.${lay.mapOf[i]}` : o.m.cls;
    k += `${o.store || o.mode === 'e' ? (o.store ? 'S' : 'e') + o.node : o.mode}${o.dt}${o.mode === 'k' || o.mode === 'e' ? '' : mc},`;
  });
  k += '|';
  for (const nd of seg.nodes) k += `${nd.fam}:${nd.op}:${nd.dts.join('.')}:${nd.refs.join('.')};`;
  return (seg.key = k);
}

/** The pipeline key of a program (segments run side by side, each its own elements): structure, not sizes. */
export function fusedKey(segs, alias) {
  return 'fused|' + segs.map(segmentKey).join('#') + '|' + alias;
}

/** Whether an operand is a buffer: not a known scalar ('k', its value in the params) nor an epilogue's value ('e'). */
export const isBound = (o) => o.mode !== 'k' && o.mode !== 'e';

/** The operands that are buffers, every segment's in order. */
export const boundOperands = (segs) => segs.flatMap((seg, s) => seg.operands.map((o, k) => ({ o, name: `O${s}_${k}` })))
  .filter(({ o }) => isBound(o));

/** Specs for common.declare, in boundOperands order. */
export function fusedSpecs(segs) {
  return boundOperands(segs).map(({ o, name }) => ({ name, dt: o.dt, write: o.store, atomic: o.store && isSubword(o.dt) }));
}

/** The value of dtype d stored as `bits` (an immediate operand, a fill). */
function fromBits(d, bits) {
  return d === DT.float32 ? `bitcast<f32>(${bits})` : d === DT.float16 ? `h2f(${bits})`
    : d === DT.bfloat16 ? `bitcast<f32>(${bits} << 16u)` : `bitcast<i32>(${bits})`;
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
      if (xd === DT.int64 && isFloat(od)) r = nd.refs[0] < 0 ? x[0] : `f32(${x[0]})`;   // a load: exactly, as f32 ('ldf')
      else if (kindOf(xd) === 'f' && ko === 'i') r = od === DT.bool ? `select(0, 1, ${x[0]} != 0.0)` : `f2i(${x[0]})`;
      else if (kindOf(xd) === 'i' && ko === 'f') r = `f32(${x[0]})`;
      body = `v${j} = ${rounded(od, r)};`;
      break;
    }
    case 'fill':
      body = `v${j} = ${rounded(od, fromBits(od, `pu(${w}u)`))};`;
      break;
    case 'reduced':   // a reduction's result, in the epilogue of its kernel (fusedReduce)
      body = `v${j} = ${rounded(od, cvt(nd.kind, ko, nd.src))};`;
      break;
    default: throw new Error(`fused: unknown family ${nd.fam}`);
  }
  return `  var v${j}: ${ko === 'f' ? 'f32' : 'i32'};\n  {\n    ${body}\n  }\n`;
}

/**
 * Statements of segment `s` over its element `e`: loads, node values, stores (under `guard`, a WGSL condition, where
 * given). `fns` collects its map functions. An operand of mode 'e' (a row epilogue's, fusedReduce) is the value
 * ev{node} of the reduction's epilogue, in registers.
 */
function segmentCode(seg, s, lay, fns, guard = null) {
  let body = '';
  lay.maps.forEach(({ at, R }, j) => {
    fns.push(`fn map${s}_${j}(i: u32) -> u32 {
  var rem = i; var o = 0u;
  for (var d = i32(pu(${at}u)) - 1; d >= 0; d--) {
    let sz = pu(${at + 1}u + u32(d)); let c = rem % sz; rem = rem / sz; o += c * pu(${at + 1 + R}u + u32(d));
  }
  return o;
}
`);
    body += `  let m${j} = map${s}_${j}(e);\n`;
  });
  const off = (k) => `pu(${lay.base + k}u)`;
  const index = (k) => {
    const o = seg.operands[k];
    return o.m.cls === 'c' ? `${off(k)} + e` : o.m.cls === 's' ? off(k) : `${off(k)} + m${lay.mapOf[k]}`;
  };
  const val = (ref) => (ref >= 0 ? `v${ref}` : `l${-ref - 1}`);
  seg.operands.forEach((o, k) => {
    if (o.mode === 'k') body += `  let l${k} = ${rounded(o.dt, fromBits(o.dt, off(k)))};\n`;   // sign-extend narrow ints
    else if (o.mode === 'e') body += `  let l${k} = ev${o.node};\n`;
    else if (!o.store) body += `  let l${k} = ${o.mode === 'ldf' ? 'ldf' : 'ld'}_O${s}_${k}(${index(k)});\n`;
  });
  seg.nodes.forEach((nd, j) => { body += nodeStatement(nd, j, nd.refs.map(val), lay.nodeAt[j]); });
  let st = '';
  seg.operands.forEach((o, k) => {
    if (o.store) st += `  st_O${s}_${k}(${index(k)}, v${o.node});\n`;
  });
  return body + (guard && st ? `  if (${guard}) {\n${st.replace(/^/gm, '  ')}  }\n` : st);
}

/** {code, sig, slots, pslots} of a program, for Dispatcher.pipeline (dec: common.declare of fusedSpecs). */
export function fusedSource(segs, dec) {
  const lays = layouts(segs);
  const pslots = slotsFor(lays.at(-1).end);
  const fns = [];
  let body = '';
  segs.forEach((seg, s) => {
    const code = segmentCode(seg, s, lays[s], fns).replace(/^/gm, '  ');
    const start = s === 0 ? '0u' : `pu(${3 + s - 1}u)`;
    const test = s === segs.length - 1 ? '' : `if (i < pu(${3 + s}u)) `;
    body += `${s ? '  else ' : '  '}${test}{\n    let e = i - ${start};\n${code}  }\n`;
  });
  const helpers = helpersFor(body) + (body.includes('iclamp_') ? ICLAMP : '');
  const code = prelude(pslots === 1 ? PARAM_WORDS : pslots * SLOT_WORDS) + dec.code + helpers + fns.join('') +
    kernelMain(WG_FUSED, 'i', body);
  return { code, sig: dec.sig, slots: dec.slots, pslots };
}

/** A node's scalars at word `at` (NODE_WORDS of its family). */
function writeNodeParams(nd, u32, f32, at) {
  if (nd.fam === 'unary') { f32[at] = nd.p[0]; f32[at + 1] = nd.p[1]; f32[at + 2] = nd.p[2]; }
  else if (nd.fam === 'binary') { f32[at] = nd.p[3]; u32[at + 1] = Math.trunc(nd.p[3]) | 0; }
  else if (nd.fam === 'fill') u32[at] = nd.bits;
}

/** Write a program's params at word w (header word 2, the grid's x extent, is the caller's); returns n. */
export function writeFusedParams(segs, u32, f32, w) {
  const lays = layouts(segs);
  let n = 0;
  segs.forEach((seg, s) => {
    const lay = lays[s];
    n += seg.n;
    u32[w + 3 + s] = n;
    seg.operands.forEach((o, k) => { u32[w + lay.base + k] = o.off; });
    for (const { m, at, R } of lay.maps) {
      u32[w + at] = m.shape.length;
      for (let d = 0; d < m.shape.length; d++) { u32[w + at + 1 + d] = m.shape[d]; u32[w + at + 1 + R + d] = m.st[d]; }
    }
    seg.nodes.forEach((nd, j) => writeNodeParams(nd, u32, f32, w + lay.nodeAt[j]));
  });
  u32[w] = n;
  return n;
}

// ---- reductions with their neighbours ---------------------------------------------------------------------------
// A reduction (kernels/reduce.mjs) runs with a prologue, the group P that computes its input x (each element of x is
// read once, so P's values are computed, and stored where needed, inside the reduction's loads), and an epilogue,
// the group E over its outputs whose node 0 is the reduction's result (E stores it, and what follows from it, where
// the result is made). A reduction in two passes (reduceShape's `parts`) takes P in pass 1 and E in pass 2. A
// reduction whose workgroup owns whole rows (one pass, 'row' layout) may also take a row epilogue W: a group over
// its input's walk (element e = output j * R + t, t in the row) that reads E's values broadcast over the row from
// registers (operands of mode 'e') and any buffers nobody in the kernel writes; the row's invocations run it after
// the result is known (RMSNorm's x * rsqrt(mean + eps) * w). The reduction's own words keep their place
// (0..111); then x's offset in P's iteration (word 112), P's block, E's, W's.
const EMPTY = { n: 0, operands: [], nodes: [] };
export const RED_WORDS = PARAM_WORDS;

/** A segment's params (operand offsets, strided maps, node scalars) at word w, by its layout. */
function writeSegment(seg, lay, u32, f32, w) {
  seg.operands.forEach((o, k) => { u32[w + lay.base + k] = o.off; });
  for (const { m, at, R } of lay.maps) {
    u32[w + at] = m.shape.length;
    for (let d = 0; d < m.shape.length; d++) { u32[w + at + 1 + d] = m.shape[d]; u32[w + at + 1 + R + d] = m.st[d]; }
  }
  seg.nodes.forEach((nd, j) => writeNodeParams(nd, u32, f32, w + lay.nodeAt[j]));
}

/**
 * The fused parts of reduction `red` (its dtypes [out, x]) with prologue `pro` (or null: x read from memory), x's
 * write in it `xw`, epilogue `epi` and row epilogue `row` (or null). pass(withPro, withEpi, own) gives one
 * dispatch's {key, specs, ids, fuse (reduceSource's hooks), write(u32, f32, w)}: `own` are the reduction's
 * bindings the pass keeps, specs as reduceSpecs' ({name 'O' | 'X', ...}) with their ids: O where E does not
 * store the result, X where P does not compute the input. The row epilogue runs with the epilogue.
 */
export function fusedReduce(red, pro, xw, epi, row = null) {
  const segs = [pro ?? EMPTY, epi];
  const lp = layoutOf(segs[0], RED_WORDS + 1);
  const le = layoutOf(epi, lp.end);
  const lw = row ? layoutOf(row, le.end) : le;
  const pslots = slotsFor(lw.end);
  const words = pslots === 1 ? PARAM_WORDS : pslots * SLOT_WORDS;
  const xd = red.dts[1];
  const pass = (withPro, withEpi, own) => {
    const withRow = withEpi && !!row;
    const parts = [withPro ? pro : EMPTY, withEpi ? epi : EMPTY, ...(withRow ? [row] : [])];
    const bound = boundOperands(parts);
    const specs = [...own.map((o) => o.spec), ...fusedSpecs(parts)];
    const ids = [...own.map((o) => o.id), ...bound.map(({ o }) => o.id)];
    // E's words follow P's block even in a pass without P (a split's second): its place is part of the code
    const key = `|${withPro ? segmentKey(pro) : '-'}|${withEpi ? `${segmentKey(epi)}@${le.base}` : '-'}${withRow ? `|${segmentKey(row)}` : ''}`;
    const fns = [];
    let pre = '';
    let epiCode = '';
    const fuse = {
      words,
      row: withRow,
      load: withPro ? (off) => `pro_(${off} - pu(${RED_WORDS}u))` : null,
      store: withEpi ? (res, kind, S = 1) => {
        epi.nodes[0].src = 'res_';
        epi.nodes[0].kind = kind;
        epiCode = segmentCode(epi, 1, le, fns, withRow ? 's == 0u' : null);
        if (withRow) {   // E's values the row reads, then the row's elements, S invocations apart
          const evs = [...new Set(row.operands.filter((o) => o.mode === 'e').map((o) => o.node))];
          epiCode += evs.map((j) => `  let ev${j} = v${j};\n`).join('') + `  for (var tr = s; tr < R; tr += ${S}u) {
    let e = j * R + tr;
${segmentCode(row, 2, lw, fns).replace(/^/gm, '  ')}  }\n`;
        }
        return `let res_ = ${res};\n    let e = j;\n${epiCode.replace(/^/gm, '  ')}`;
      } : null,
      fns: () => {
        if (withPro) {
          const code = segmentCode(pro, 0, lp, fns);
          pre = `fn pro_(e: u32) -> ${kindOf(xd) === 'f' ? 'f32' : 'i32'} {\n${code}  return v${xw.j};\n}\n`;
        }
        const all = pre + epiCode;
        return helpersFor(all) + (all.includes('iclamp_') ? ICLAMP : '') + fns.join('') + pre;
      },
    };
    const write = (u32, f32, w) => {
      u32[w + RED_WORDS] = withPro ? xw.off : 0;
      if (withPro) writeSegment(pro, lp, u32, f32, w);
      if (withEpi) writeSegment(epi, le, u32, f32, w);
      if (withRow) writeSegment(row, lw, u32, f32, w);
    };
    return { key, specs, ids, fuse, write, pslots };
  };
  return { pass, row: !!row };
}

/**
 * A matmul's (or the fused attention's) epilogue: E (node 0 the kernel's result; a later 'reduced' node the second
 * product of a pair) runs where each output element is stored. The matmul kernels (kernels/matmul.mjs, matvec.mjs)
 * store through st_O(offset, value) into a contiguous output from header word `offWord` (6; attention.mjs: 10):
 * those calls become epi_(offset, value), e = offset - that word. Returns {key, specs, ids, wrap(code), write, pslots}.
 */
export function gemmEpilogue(epi, offWord = 6) {
  const lay = layoutOf(epi, RED_WORDS);
  const pslots = slotsFor(lay.end);
  const segs = [EMPTY, epi];
  // a pair of products (kernels/matvec.mjs) stores st_O(offset, v, w2): w2 the second product, a later 'reduced' node
  const second = epi.nodes.find((nd, j) => j > 0 && nd.fam === 'reduced');
  const wrap = (code) => {
    for (const [nd, src] of [[epi.nodes[0], 'v'], [second, 'w2']]) if (nd) { nd.src = src; nd.kind = 'f'; }
    const fns = [];
    const body = segmentCode(epi, 1, lay, fns);
    const fn = `fn epi_(o: u32, v: f32${second ? ', w2: f32' : ''}) {\n  let e = o - pu(${offWord}u);\n${body}}\n`;
    const words = pslots === 1 ? PARAM_WORDS : pslots * SLOT_WORDS;
    return code.replace(`array<vec4<u32>, ${PARAM_WORDS / 4}>`, `array<vec4<u32>, ${words / 4}>`)
      .replace(/\bst_O\(/g, 'epi_(') + helpersFor(body) + (body.includes('iclamp_') ? ICLAMP : '') + fns.join('') + fn;
  };
  const write = (u32, f32, w) => writeSegment(epi, lay, u32, f32, w);
  return {
    key: `|epi|${segmentKey(epi)}`, specs: fusedSpecs(segs), ids: boundOperands(segs).map(({ o }) => o.id), wrap, write, pslots,
  };
}
