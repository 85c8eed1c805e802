//! The small building blocks of the encoder: a dense (linear) layer in Hugging Face layout and
//! LayerNorm (the GELU is in [`super::gelu`]).

use burn::prelude::*;
use burn::tensor::module::linear;

/// A dense layer `y = x Wᵀ + b` with `W` stored as Hugging Face / PyTorch do, `[out, in]`.
#[derive(Debug, Clone)]
pub struct Dense {
    /// Weight `[out_features, in_features]`.
    pub weight: Tensor<2>,
    /// Bias `[out_features]`.
    pub bias: Option<Tensor<1>>,
}

impl Dense {
    /// `in_features` (columns of the weight).
    pub fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }

    /// `out_features` (rows of the weight).
    pub fn out_features(&self) -> usize {
        self.weight.dims()[0]
    }

    /// `x Wᵀ + b` over the last axis of `x`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        linear_rows(x, self.weight.clone().transpose(), self.bias.clone())
    }
}

/// `x W + b` over the last axis of `x` (`W` is `[in, out]`), with every leading axis folded into
/// the rows, so that the product is one `[rows, in] × [in, out]` matrix product.
///
/// burn keeps a batched product `[B, T, in] × [in, out]` when `T` is a multiple of 32, and the
/// CPU backend then multiplies (and packs the shared weight) once per sequence; one product over
/// all rows ran the encoder's forward pass 1.5x faster at one thread (docs/performance.md).
pub fn linear_rows<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    if D <= 2 {
        return linear(x, weight, bias);
    }
    let mut dims = x.dims();
    let inp = dims[D - 1];
    let rows: usize = dims[..D - 1].iter().product();
    let y = linear(x.reshape([rows, inp]), weight, bias);
    dims[D - 1] = y.dims()[1];
    y.reshape(dims)
}

/// LayerNorm over the last axis with learned scale and shift, as `torch.nn.LayerNorm`
/// (biased variance, `eps` inside the square root).
#[derive(Debug, Clone)]
pub struct LayerNorm {
    /// Scale `γ` `[H]`.
    pub weight: Tensor<1>,
    /// Shift `β` `[H]`.
    pub bias: Tensor<1>,
    /// The epsilon added to the variance.
    pub eps: f64,
}

impl LayerNorm {
    /// Normalises `x` `[B, T, H]` over `H`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let mean = x.clone().mean_dim(2);
        let centred = x - mean;
        let var = centred.clone().powi_scalar(2).mean_dim(2);
        let normed = centred / var.add_scalar(self.eps).sqrt();
        normed * self.weight.clone().unsqueeze::<3>() + self.bias.clone().unsqueeze::<3>()
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::model::weights::tensor_from_vec;
    use crate::{block_on, device::cpu_device, readback::read_f32};

    #[test]
    fn layer_norm_normalises_the_last_axis() {
        let dev = cpu_device();
        let ln = LayerNorm {
            weight: tensor_from_vec(vec![1.0, 2.0], [2], &dev),
            bias: tensor_from_vec(vec![0.0, 1.0], [2], &dev),
            eps: 0.0,
        };
        let x = tensor_from_vec(vec![1.0, 3.0, -2.0, 2.0], [1, 2, 2], &dev);
        let y = block_on(read_f32(ln.forward(x))).unwrap();
        assert_eq!(y, [-1.0, 3.0, -1.0, 3.0]);
    }

    #[test]
    fn dense_uses_the_out_in_layout() {
        let dev = cpu_device();
        let d = Dense {
            weight: tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2], &dev),
            bias: Some(tensor_from_vec(vec![0.5, 0.0, -1.0], [3], &dev)),
        };
        let x = tensor_from_vec(vec![1.0, -1.0], [1, 1, 2], &dev);
        assert_eq!((d.in_features(), d.out_features()), (2, 3));
        assert_eq!(
            block_on(read_f32(d.forward(x))).unwrap(),
            [-0.5, -1.0, -2.0]
        );
    }
}
