// The torch.mjs proposal's Net (two convolutions and a linear layer), shared by tests/torch_mjs/test_torch_mjs.mjs (Node)
// and site_tests/torch_mjs_page.html (Chromium). Its Python twin, whose weights and outputs the tests compare
// against, is in tests/torch_mjs/torch_mjs_fixture.py.
import * as torch from "../../js_bridge/torch.mjs";

const nn = torch.nn;

export class Net extends nn.Module {
  constructor() {
    super();
    this.convs = nn.Sequential(
      nn.Conv2d(3, 16, 5, { stride: 1, padding: 2 }), nn.ReLU(), nn.MaxPool2d(2),
      nn.Conv2d(16, 32, 5, { stride: 1, padding: 2 }), nn.ReLU(), nn.MaxPool2d(2),
      nn.AdaptiveAvgPool2d(1));
    this.mlp = nn.Linear(32, 10);
  }
  forward(x) {
    x = this.convs(x);
    return this.mlp(x.view([x.size(0), -1]));
  }
}

/** The largest |a - b| over two equal-length arrays (NaN when lengths differ). */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])));
  return m;
}
