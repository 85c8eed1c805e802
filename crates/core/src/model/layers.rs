//! The small building blocks of the encoder: a dense (linear) layer in Hugging Face layout,
//! LayerNorm, and the exact GELU.

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
        linear(x, self.weight.clone().transpose(), self.bias.clone())
    }
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

/// The exact GELU, `x/2 · (1 + erf(x/√2))`, written with `erf` so that autodiff gives its exact
/// derivative. (burn 0.22's `activation::gelu` computes the exact forward, but its default
/// backward is the derivative of the *tanh approximation*, which would bias Jacobians.)
pub fn gelu_exact<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let cdf = x
        .clone()
        .mul_scalar(core::f64::consts::FRAC_1_SQRT_2)
        .erf()
        .add_scalar(1.0)
        .mul_scalar(0.5);
    x * cdf
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::model::weights::tensor_from_vec;
    use crate::{block_on, device::cpu_device, readback::read_f32};

    #[test]
    fn gelu_matches_erf_values_and_derivative() {
        let dev = cpu_device();
        let xs = vec![-3.0f32, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0];
        // Reference values of x·Φ(x) (scipy/mpmath).
        let want = [
            -0.004_049_694_f32,
            -0.158_655_3,
            -0.154_268_5,
            0.0,
            0.345_731_5,
            0.841_344_7,
            1.954_499_7,
        ];
        let x = tensor_from_vec(xs.clone(), [7], &dev);
        let got = block_on(read_f32(gelu_exact(x))).unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?}");
        }
        // d/dx gelu = Φ(x) + x φ(x); at x = 1: 0.841344746 + 0.241970725 = 1.083315471.
        let x = tensor_from_vec(vec![1.0f32], [1], &dev)
            .autodiff()
            .require_grad();
        let grads = gelu_exact(x.clone()).sum().backward();
        let g = block_on(read_f32(x.grad(&grads).unwrap())).unwrap();
        assert!((g[0] - 1.083_315_5).abs() < 1e-5, "{g:?}");
    }

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
