// Starts the page. A file rather than an inline script, so the page's Content-Security-Policy
// can forbid inline scripts: Trunk writes the names of the built module into this tag's data
// attributes (see `pattern_script` in Trunk.toml).

const tag = document.querySelector('script[data-js][data-wasm]');
const bindings = await import(new URL(tag.dataset.js, document.baseURI).href);
await bindings.default({ module_or_path: new URL(tag.dataset.wasm, document.baseURI) });
// The browser tests and the benchmark call the module's exports through this.
window.wasmBindings = bindings;
