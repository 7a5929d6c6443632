// The torch.mjs demo's model in JavaScript: net.py's Net with torch.mjs. The
// docs page (index.html) shows this file next to net.py and runs demo();
// tests/torch_mjs/ tests the same Net in Node and Chromium.
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

// net.py's run in JavaScript: PyTorch's weights (net.pt), the same seeded input
export async function demo(checkpoint = new URL("net.pt", import.meta.url).href) {
  const model = new Net();
  await model.load_state_dict(checkpoint);  // a URL, bytes or a Response
  model.eval();
  torch.manual_seed(0);
  const x = torch.randn([2, 3, 32, 32]);
  return torch.no_grad(() => model(x));     // await y.data(): a Float32Array
}
