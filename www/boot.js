// Starts the page. A file rather than an inline script, so the page's Content-Security-Policy
// can forbid inline scripts: Trunk writes the names of the built module into this tag's data
// attributes (see `pattern_script` in Trunk.toml).

const tag = document.querySelector('script[data-js][data-wasm]');
const bindings = await import(new URL(tag.dataset.js, document.baseURI).href);
await bindings.default({ module_or_path: new URL(tag.dataset.wasm, document.baseURI) });
// The browser tests and the benchmark call the module's exports through this.
window.wasmBindings = bindings;

// Offline after one visit (see sw.js). Once the service worker is active it is given the files
// this page loaded before it took control, so the cache holds the whole page.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('./sw.js').then(() => navigator.serviceWorker.ready).then((registration) => {
    const files = performance.getEntriesByType('resource').map((e) => e.name);
    registration.active?.postMessage({ cache: [location.href, ...files] });
  }).catch((e) => console.warn('offline use is not available:', e.message));
}
