// Starts the page. A file rather than an inline script, so the page's Content-Security-Policy
// can forbid inline scripts: Trunk writes the names of the built module into this tag's data
// attributes (see `pattern_script` in Trunk.toml).

// burn-wgpu does not hand its GPUDevice to the page, so note every device the page asks for
// and announce a lost one: the digits and training panels then move to the CPU.
if (window.GPUAdapter) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  window.playgroundGpuDevices = [];
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    window.playgroundGpuDevices.push(device);
    device.lost.then((info) =>
      window.dispatchEvent(new CustomEvent('webgpu-lost', { detail: info.message || info.reason })));
    return device;
  };
}

const tag = document.querySelector('script[data-js][data-wasm]');
const bindings = await import(new URL(tag.dataset.js, document.baseURI).href);
await bindings.default({ module_or_path: new URL(tag.dataset.wasm, document.baseURI) });
// The browser tests and the benchmark call the module's exports through this.
window.wasmBindings = bindings;
