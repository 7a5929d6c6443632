import time
import torch_js as torch
torch.webgpu._init_sync()
a = torch.ones(4, device="webgpu")
for _ in range(50): (a + a).sum().item()
n=3000
t0=time.perf_counter()
for _ in range(n): (a + a).sum().item()
print("us/item", round((time.perf_counter()-t0)*1e6/n,1))
