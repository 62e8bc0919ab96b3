//! Adam for the 2-D denoiser on the CPU, one loop a parameter.
//!
//! burn's Adam updates each parameter through about a dozen tensor operations (scale and add
//! for each moment, a square, a square root, a division), each with its own allocation and
//! dispatch, and its optimizer keeps its state in maps keyed by the parameter's path. For the
//! page's network (four layers of at most 42 x 32 weights) that bookkeeping, not the
//! arithmetic, was a fifth of a training step: measured natively on one core, 63 of 315 us.
//! On burn-flex, where a tensor's values are a plain buffer, [`Adam`] reads each parameter and
//! its gradient once, updates the two moments and the parameter in one pass, and hands the
//! buffer back: the same update as burn's `AdamConfig::new()` (its defaults: beta_1 0.9,
//! beta_2 0.999, epsilon 1e-5, no weight decay), in the same f32 arithmetic. A test checks the
//! two agree step after step. Elsewhere (WebGPU) the trainer keeps burn's optimizer.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-5;

/// Adam's state: the two moments of every parameter, and the steps taken.
#[derive(Default)]
pub struct Adam {
    moments: HashMap<ParamId, Moments>,
    time: i32,
}

struct Moments {
    first: Vec<f32>,
    second: Vec<f32>,
}

impl Adam {
    /// One step at learning rate `lr`: `model` with each parameter that has a gradient in
    /// `grads` moved. The model's tensors must be on burn-flex (with autodiff).
    pub fn step<M: Module>(&mut self, lr: f64, model: M, grads: GradientsParams) -> M {
        self.time += 1;
        let time = self.time;
        // burn's bias corrections, in f32 as there.
        let correction_2 = (1.0 - BETA_2.powi(time)).sqrt();
        let mut update = Update {
            adam: self,
            grads,
            scale: lr as f32 * correction_2 / (1.0 - BETA_1.powi(time)),
            epsilon: EPSILON * correction_2,
        };
        model.map(&mut update)
    }
}

struct Update<'a> {
    adam: &'a mut Adam,
    grads: GradientsParams,
    /// `lr sqrt(1 - beta_2^t) / (1 - beta_1^t)`.
    scale: f32,
    /// `epsilon sqrt(1 - beta_2^t)`.
    epsilon: f32,
}

impl ModuleMapper for Update<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let checkpointing = tensor.gradient_checkpointing_strategy();
        let inner = tensor.inner();
        let (device, dims) = (inner.device(), inner.dims());
        let mut values = super::floats(inner);
        let grad = super::floats(grad);
        let moments = self.adam.moments.entry(id).or_insert_with(|| Moments {
            first: vec![0.0; values.len()],
            second: vec![0.0; values.len()],
        });
        let (scale, epsilon) = (self.scale, self.epsilon);
        for (((p, &g), m), v) in values
            .iter_mut()
            .zip(&grad)
            .zip(&mut moments.first)
            .zip(&mut moments.second)
        {
            *m = BETA_1 * *m + (1.0 - BETA_1) * g;
            *v = BETA_2 * *v + (1.0 - BETA_2) * (g * g);
            *p -= *m * scale / (v.sqrt() + epsilon);
        }
        let mut updated = Tensor::from_inner(Tensor::from_data(TensorData::new(values, dims), &device));
        if let Some(strategy) = checkpointing {
            updated = updated.with_gradient_checkpointing_strategy(strategy);
        }
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::train::{TrainConfig, loss};
    use crate::params::Params;
    use burn::optim::AdamConfig;
    use burn::tensor::Device;

    fn values<M: Module>(model: &M) -> Vec<f32> {
        struct Collect(Vec<f32>);
        impl burn::module::ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0
                    .extend(param.val().into_data().try_into_vec::<f32>().unwrap());
            }
        }
        let mut collect = Collect(Vec::new());
        model.visit(&mut collect);
        collect.0
    }

    #[test]
    fn moves_the_parameters_as_burns_adam_does() {
        let config = TrainConfig::from_params(&Params::default()).unwrap();
        let device = Device::flex().autodiff();
        let model = config.model.init(&device);
        let (mut ours, mut burns) = (model.clone(), model);
        let mut adam = Adam::default();
        let mut reference = AdamConfig::new().init();
        let data = crate::data::swiss_roll(64, 1);
        for step in 0..30 {
            let x: Vec<f32> = data.iter().flat_map(|p| [p[0], p[1]]).collect();
            let features = ours.features(&data, &vec![1 + step * 30; data.len()], &device);
            let targets = Tensor::from_data(TensorData::new(x, [data.len(), 2]), &device);
            let lr = 1e-2 / (1.0 + step as f64);
            let grads_of = |model: &crate::model::denoiser::Denoiser| {
                let l = loss(
                    config.model.parameterization,
                    model.forward(features.clone()),
                    targets.clone(),
                );
                GradientsParams::from_grads(l.backward(), model)
            };
            let (g_ours, g_burns) = (grads_of(&ours), grads_of(&burns));
            ours = adam.step(lr, ours, g_ours);
            burns = reference.step(lr, burns, g_burns);
            let (a, b) = (values(&ours), values(&burns));
            assert_eq!(a.len(), b.len());
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                    "step {step}, value {i}: {x} against burn's {y}"
                );
            }
        }
    }
}
