// Starts the page's Web Worker, where burn runs (see src/worker/). A classic worker: Trunk
// builds the worker's module for `importScripts` (wasm-bindgen's "no-modules" output).

// burn-wgpu does not hand its GPUDevice to anyone, so note every device the worker asks for
// and tell the page when one is lost (in the protocol's envelope: an event, number 0); the
// panels then move to the CPU.
const devices = [];
if (self.GPUAdapter) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    devices.push(device);
    device.lost.then((info) => self.postMessage({
      id: 0,
      header: JSON.stringify({ type: 'gpu-lost', why: info.message || info.reason || '' }),
    }));
    return device;
  };
}

// The browser tests take the GPU away the way a driver reset would: `{test: "lose-gpu"}`; and
// stand in for a fast GPU with this machine's software one: `{test: "gpu-speedup", factor}`
// divides the times of the worker's backend race by `factor` (see src/worker/race.rs).
self.addEventListener('message', (event) => {
  if (event.data && event.data.test === 'lose-gpu') {
    devices.forEach((device) => device.destroy());
  }
  if (event.data && event.data.test === 'gpu-speedup') {
    self.playgroundGpuSpeedup = Number(event.data.factor);
  }
});

// Which build: `worker` (burn with WebGPU) or `worker-cpu` (burn on the CPU alone), as the page
// chose (see src/web/gpu.rs).
const module = new URL(self.location.href).searchParams.get('module') === 'worker' ? 'worker' : 'worker-cpu';
importScripts(`./${module}.js`);
wasm_bindgen({ module_or_path: `./${module}_bg.wasm` });
