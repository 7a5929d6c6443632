import { createDevice } from './device.mjs';
const ctx = await createDevice();
console.log('dev ok');
if (process.argv[2] === 'ev') ctx.device.addEventListener('uncapturederror', (e) => console.log('err', e.error.message));
if (process.argv[2] === 'on') ctx.device.onuncapturederror = (e) => console.log('err', e.error.message);
const buf = ctx.device.createBuffer({size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST});
console.log('buf ok');
setTimeout(() => process.exit(0), 100);
