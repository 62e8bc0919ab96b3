//! The page's Web Worker without burn's WebGPU backend, for browsers with no hardware WebGPU
//! adapter (built by Trunk from `www/index.html`): see `diffusion_playground::worker`.

fn main() {
    diffusion_playground::worker::start();
}
