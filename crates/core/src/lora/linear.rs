//! A linear layer with an optional LoRA adapter (PEFT `lora.Linear` semantics).

use burn::prelude::*;
use burn::tensor::module::linear;

use super::init::kaiming_uniform_sqrt5_bound;
use crate::model::layers::Dense;
use crate::model::weights::tensor_from_vec;
use crate::rng::SplitMix64;

/// The LoRA factors of one adapted layer.
#[derive(Debug, Clone)]
pub struct LoraWeights {
    /// `A` (PEFT `lora_A.weight`), shape `[r, in_features]`.
    pub a: Tensor<2>,
    /// `B` (PEFT `lora_B.weight`), shape `[out_features, r]`.
    pub b: Tensor<2>,
    /// The scale `s` (`alpha / r`, or `alpha / √r` with rsLoRA).
    pub scale: f64,
}

impl LoraWeights {
    /// PEFT's default initialisation from a seed: `A ~ U(−1/√in, 1/√in)` (torch
    /// `kaiming_uniform_(a=√5)`), `B = 0`. The values come from a host RNG, so they are the same
    /// on every backend; they are not the same numbers torch would draw.
    pub fn init(
        rng: &mut SplitMix64,
        in_features: usize,
        out_features: usize,
        r: usize,
        scale: f64,
        device: &Device,
    ) -> Self {
        let bound = kaiming_uniform_sqrt5_bound(in_features);
        let a = tensor_from_vec(
            rng.uniform(r * in_features, bound),
            [r, in_features],
            device,
        );
        let b = Tensor::<2>::zeros([out_features, r], device);
        LoraWeights { a, b, scale }
    }

    /// The rank `r`.
    pub fn rank(&self) -> usize {
        self.a.dims()[0]
    }

    /// `s · (x Aᵀ) Bᵀ` over the last axis of `x`.
    pub fn delta<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.b_part(self.a_part(x))
    }

    /// `u = x Aᵀ` (shape `[…, r]`), the input of `B`: per-sample Jacobians w.r.t. `B` are
    /// `s · gᵀ u` summed over tokens, with `g = ∂f/∂y`.
    pub fn a_part<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        linear(x, self.a.clone().transpose(), None)
    }

    /// `s · u Bᵀ` for `u = x Aᵀ`.
    pub fn b_part<const D: usize>(&self, u: Tensor<D>) -> Tensor<D> {
        linear(u, self.b.clone().transpose(), None).mul_scalar(self.scale)
    }

    /// The dense update `ΔW = s · B A` (`[out, in]`), e.g. for `‖BA‖_F / ‖W₀‖_F` or merging.
    pub fn delta_weight(&self) -> Tensor<2> {
        self.b.clone().matmul(self.a.clone()).mul_scalar(self.scale)
    }
}

/// A frozen linear layer plus an optional LoRA adapter: `y = x W₀ᵀ + b + s (x Aᵀ) Bᵀ`.
#[derive(Debug, Clone)]
pub struct AdaptedLinear {
    /// The frozen base layer `W₀`, `b`.
    pub base: Dense,
    /// The adapter, when this layer is adapted.
    pub lora: Option<LoraWeights>,
}

impl AdaptedLinear {
    /// An unadapted layer.
    pub fn new(base: Dense) -> Self {
        AdaptedLinear { base, lora: None }
    }

    /// `x W₀ᵀ + b` plus the LoRA delta when adapted.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match &self.lora {
            None => self.base.forward(x),
            Some(l) => self.base.forward(x.clone()) + l.delta(x),
        }
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::{block_on, device::cpu_device, readback::read_f32};

    #[test]
    fn init_statistics_follow_peft() {
        let dev = cpu_device();
        let (r, fan_in, out) = (8, 384, 384);
        let mut rng = SplitMix64::new(42);
        let l = LoraWeights::init(&mut rng, fan_in, out, r, 2.0, &dev);
        let a = block_on(read_f32(l.a.clone())).unwrap();
        let b = block_on(read_f32(l.b.clone())).unwrap();
        assert_eq!(l.a.dims(), [r, fan_in]);
        assert_eq!(l.b.dims(), [out, r]);
        assert!(b.iter().all(|&v| v == 0.0));
        let bound = 1.0 / (fan_in as f64).sqrt();
        assert!(a.iter().all(|&v| (v as f64).abs() <= bound));
        let n = a.len() as f64;
        let mean = a.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = a.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        // U(-b, b) has variance b²/3 = 1/(3·fan_in); 3072 draws → relative s.e. ≈ 2.3 %.
        let want = 1.0 / (3.0 * fan_in as f64);
        assert!((var / want - 1.0).abs() < 0.1, "var {var} want {want}");
        assert!(mean.abs() < 3.0 * (want / n).sqrt(), "{mean}");
        // Same seed → same A; and B = 0 means the delta is exactly zero.
        let again = LoraWeights::init(&mut SplitMix64::new(42), fan_in, out, r, 2.0, &dev);
        assert_eq!(block_on(read_f32(again.a)).unwrap(), a);
    }

    #[test]
    fn delta_is_scaled_x_at_bt_and_matches_the_dense_update() {
        let dev = cpu_device();
        // in = 2, out = 3, r = 1.
        let l = LoraWeights {
            a: tensor_from_vec(vec![1.0, -1.0], [1, 2], &dev),
            b: tensor_from_vec(vec![1.0, 2.0, 3.0], [3, 1], &dev),
            scale: 2.0,
        };
        let x = tensor_from_vec(vec![3.0, 1.0], [1, 1, 2], &dev);
        // x Aᵀ = 2; · Bᵀ = [2, 4, 6]; · 2 = [4, 8, 12].
        assert_eq!(
            block_on(read_f32(l.delta(x.clone()))).unwrap(),
            [4.0, 8.0, 12.0]
        );
        let merged = Dense {
            weight: l.delta_weight(),
            bias: None,
        };
        assert_eq!(
            block_on(read_f32(merged.forward(x))).unwrap(),
            [4.0, 8.0, 12.0]
        );
    }
}
