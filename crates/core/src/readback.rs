//! Reading tensors back to the host.
//!
//! WebGPU in a browser cannot block, so every read-back in the core goes through these async
//! helpers; on the CPU backend the futures are ready immediately.

use burn::prelude::*;

use crate::CoreError;

/// Reads a float tensor of any rank back to the host as a flat `Vec<f32>` (row-major).
pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, CoreError> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(|e| CoreError::Readback(format!("{e:?}")))?;
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| CoreError::Readback(format!("{e:?}")))
}

/// Reads a one-element float tensor back as an `f32`.
pub async fn read_scalar(tensor: Tensor<1>) -> Result<f32, CoreError> {
    let values = read_f32(tensor).await?;
    values
        .first()
        .copied()
        .ok_or_else(|| CoreError::Numerical("expected one value, the tensor was empty".into()))
}
