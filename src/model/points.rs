//! Conversions between plain points (what the math and the charts use) and tensors.

use burn::tensor::{Device, Tensor, TensorData};

use crate::math::forward::Point;

/// A `[n, D]` tensor holding the points row by row.
pub fn to_tensor<const D: usize>(points: &[Point<D>], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = points.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [points.len(), D]), device)
}

/// The rows of a `[n, D]` tensor's data as points.
///
/// # Errors
/// If the data is not `f32` or its shape is not `[n, D]`.
pub fn from_data<const D: usize>(data: TensorData) -> Result<Vec<Point<D>>, String> {
    let shape = data.shape().clone();
    if shape.len() != 2 || shape[1] != D {
        return Err(format!("expected a [n, {D}] tensor, got {shape:?}"));
    }
    let flat = data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    Ok(flat
        .chunks_exact(D)
        .map(|row| std::array::from_fn(|k| row[k]))
        .collect())
}
