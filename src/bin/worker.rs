//! The page's Web Worker, where burn runs (built by Trunk from `www/index.html`): see
//! `diffusion_playground::worker`.

fn main() {
    diffusion_playground::worker::start();
}
