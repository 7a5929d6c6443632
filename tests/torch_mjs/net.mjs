// The torch.mjs proposal's Net (two convolutions and a linear layer), shared by tests/torch_mjs/test_torch_mjs.mjs
// (Node) and site_tests/torch_mjs_page.html (Chromium): examples/torch_mjs/net.mjs's, the docs page's demo. Its
// Python twin, whose weights and outputs the tests compare against (tests/torch_mjs/torch_mjs_fixture.py), is
// examples/torch_mjs/net.py.
export { Net } from "../../examples/torch_mjs/net.mjs";

/** The largest |a - b| over two equal-length arrays (NaN when lengths differ). */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])));
  return m;
}
