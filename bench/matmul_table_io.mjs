// Writing kernels/matmul_table.mjs from a bench's fit (webgpu_matmul_shapes.mjs: skinny and tiles;
// webgpu_gpt_kernels.mjs: nt and attention): one adapter's profile replaced, the rest of the table as it was.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const KERNELS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../js_bridge/webgpu/kernels');
const { MATMUL_TABLE } = await import(pathToFileURL(path.join(KERNELS, 'matmul_table.mjs')).href);
const { pickProfile } = await import(pathToFileURL(path.join(KERNELS, 'matmul.mjs')).href);

/** `{ below: 132, ... }` in the repository's style. */
const obj = (o) => JSON.stringify(o).replace(/"(\w+)":/g, '$1: ').replace(/,/g, ', ').replace(/[{]/, '{ ').replace(/[}]$/, ' }');

/**
 * Write the table to `file` with `profile` in place of the entry with the same `match` (its keys the profile
 * lacks are kept), or ahead of the catch-all; warns when the profile would not be picked for `adapter`.
 */
export function writeMatmulTable(profile, adapter, file, log = console.log) {
  const before = MATMUL_TABLE.find((p) => p.match === profile.match);
  const merged = { ...before, ...profile };
  const table = [...MATMUL_TABLE];
  if (before) table[table.indexOf(before)] = merged;
  else table.splice(Math.max(0, table.findIndex((p) => p.match === '')), 0, merged);
  if (pickProfile(table, adapter) !== merged) log('warning: the new profile does not match its own adapter');
  const src = fs.readFileSync(path.join(KERNELS, 'matmul_table.mjs'), 'utf8');
  const head = src.slice(0, src.indexOf('export const MATMUL_TABLE'));
  const fmt = (p) => `  {
    match: ${JSON.stringify(p.match)},
    measured: ${JSON.stringify(p.measured)},
    skinny: {
      k: ${JSON.stringify(p.skinny.k)},
      n: ${JSON.stringify(p.skinny.n)},
    },
    tiles: ${JSON.stringify(p.tiles)},${p.splitK ? `
    splitK: ${obj(p.splitK)},` : ''}${p.nt ? `
    nt: { tiles: ${JSON.stringify(p.nt.tiles)}${p.nt.splitK ? `, splitK: ${obj(p.nt.splitK)}` : ''} },` : ''}${p.attention ? `
    attention: ${obj(p.attention)},` : ''}
  },
`;
  const body = table.map(fmt).join('').replace(/,(?=[[\d"])/g, ', ').replace(/"([^"']*)"/g, "'$1'");   // the repository's style
  fs.writeFileSync(file, `${head}export const MATMUL_TABLE = [\n${body}];\n`);
  log('wrote', file);
}
