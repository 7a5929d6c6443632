// Adapter and device: ask only for the features this bridge can use and the adapter has, and raise only
// the limits the kernels care about to what the adapter offers (as jax-js's createBackend).

const WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'];
const IMPORTANT_LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
];

/** navigator.gpu in a browser or worker; in Node, Dawn from npm `webgpu` (load Pyodide before calling). */
export async function getGPU() {
  if (globalThis.navigator?.gpu) return globalThis.navigator.gpu;
  let mod;
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new Error(`torch_js webgpu: no navigator.gpu and npm 'webgpu' is not installed (${e.message})`);
  }
  // Dawn's GPU* classes and constants (GPUBufferUsage, ...) must be globals for WebGPU code to run.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) globalThis[k] = v;
  // Keep the instance alive: dawn.node tears the whole implementation down when the object returned by
  // create() is garbage-collected, even with devices still in use (then: futex / mutex aborts, segfaults).
  // DAWN_OPTS: Dawn's flags, space-separated; `disable-dawn-features=timestamp_quantization` gives the profiler
  // (torch.webgpu.counter(timing=True)) GPU times to the nanosecond instead of multiples of 65.5 us.
  globalThis.__torchJsDawnGPU ??= mod.create((globalThis.process?.env?.DAWN_OPTS ?? '').split(/\s+/).filter(Boolean));
  return globalThis.__torchJsDawnGPU;
}

/** {device, adapter, features, limits, info}; throws with a readable reason when there is no adapter. */
export async function createDevice({ gpu, powerPreference = 'high-performance' } = {}) {
  gpu = gpu ?? await getGPU();
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new Error('torch_js webgpu: requestAdapter() returned null (no WebGPU adapter)');
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits = {};
  for (const k of IMPORTANT_LIMITS) if (adapter.limits[k] !== undefined) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const info = adapter.info ?? {};
  return {
    gpu, device, adapter,
    features: new Set(requiredFeatures),
    limits: device.limits,
    // isFallbackAdapter: a software adapter (SwiftShader...); GPUAdapterInfo has it now, GPUAdapter had it before
    info: { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '',
      isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) },
  };
}
