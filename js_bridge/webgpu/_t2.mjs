import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
const mode = process.argv[2];
const desc = {};
if (mode.includes('f')) desc.requiredFeatures = ['subgroups', 'timestamp-query'].filter(f => adapter.features.has(f));
if (mode.includes('l')) { desc.requiredLimits = {}; for (const k of ['maxBufferSize','maxStorageBufferBindingSize','maxComputeWorkgroupStorageSize','maxComputeInvocationsPerWorkgroup','maxStorageBuffersPerShaderStage']) desc.requiredLimits[k] = adapter.limits[k]; }
const device = await adapter.requestDevice(desc);
const buf = device.createBuffer({size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST});
device.queue.writeBuffer(buf, 0, new Float32Array([1,2,3,4]));
const st = device.createBuffer({size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST});
const enc = device.createCommandEncoder(); enc.copyBufferToBuffer(buf, 0, st, 0, 16); device.queue.submit([enc.finish()]);
await st.mapAsync(GPUMapMode.READ);
console.log(mode, new Float32Array(st.getMappedRange().slice(0)));
if (mode.includes('d')) device.destroy();
if (mode.includes('x')) process.exit(0);
