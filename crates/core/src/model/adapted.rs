//! A linear layer with an optional LoRA adapter (PEFT `lora.Linear` semantics).

use burn::prelude::*;

use super::layers::{linear_rows, Dense};
use super::weights::tensor_from_vec;
use crate::lora::init::kaiming_uniform_sqrt5_bound;
use crate::rng::SplitMix64;

/// The LoRA factors of one adapted layer.
///
/// Usually one adapter. For training several copies of the model side by side in one batch
/// (one per λ of a sweep, as multi-adapter serving batches adapters), `replicas = R` adapters
/// are stacked along the rows: `A` is `[R·r, in]`, `B` is `[R·out, r]`, and the batch is `R`
/// equal blocks of rows, block `k` going through adapter `k` (see [`LoraWeights::stacked`]).
#[derive(Debug, Clone)]
pub struct LoraWeights {
    /// `A` (PEFT `lora_A.weight`), shape `[r, in_features]` (`[R·r, in]` when stacked).
    pub a: Tensor<2>,
    /// `B` (PEFT `lora_B.weight`), shape `[out_features, r]` (`[R·out, r]` when stacked).
    pub b: Tensor<2>,
    /// The scale `s` (`alpha / r`, or `alpha / √r` with rsLoRA).
    pub scale: f64,
    /// Number of stacked adapters `R` (1 for a plain adapter).
    pub replicas: usize,
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
        LoraWeights::new(a, b, scale)
    }

    /// One adapter from its factors.
    pub fn new(a: Tensor<2>, b: Tensor<2>, scale: f64) -> Self {
        LoraWeights {
            a,
            b,
            scale,
            replicas: 1,
        }
    }

    /// `replicas` copies of this adapter stacked (see the type's documentation).
    pub fn stacked(&self, replicas: usize) -> Self {
        let copies = |t: &Tensor<2>| Tensor::cat(vec![t.clone(); replicas.max(1)], 0);
        LoraWeights {
            a: copies(&self.a),
            b: copies(&self.b),
            scale: self.scale,
            replicas: replicas.max(1),
        }
    }

    /// Adapter `k` of a stacked adapter, as a plain one.
    pub fn replica(&self, k: usize) -> Self {
        let (r, out) = (self.rank(), self.b.dims()[0] / self.replicas);
        LoraWeights::new(
            self.a.clone().narrow(0, k * r, r),
            self.b.clone().narrow(0, k * out, out),
            self.scale,
        )
    }

    /// The rank `r`.
    pub fn rank(&self) -> usize {
        self.a.dims()[0] / self.replicas
    }

    /// `s · (x Aᵀ) Bᵀ` over the last axis of `x` (for a stacked adapter, row block `k` of the
    /// first axis through adapter `k`).
    pub fn delta<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        if self.replicas == 1 {
            return self.b_part(self.a_part(x));
        }
        let rep = self.replicas;
        let mut shape = x.dims();
        let inp = shape[D - 1];
        let rows = shape.iter().product::<usize>() / inp;
        let (r, out) = (self.rank(), self.b.dims()[0] / rep);
        let a = self.a.clone().reshape([rep, r, inp]).swap_dims(1, 2);
        let b = self.b.clone().reshape([rep, out, r]).swap_dims(1, 2);
        let y = x
            .reshape([rep, rows / rep, inp])
            .matmul(a)
            .matmul(b)
            .mul_scalar(self.scale);
        shape[D - 1] = out;
        y.reshape(shape)
    }

    /// `u = x Aᵀ` (shape `[…, r]`), the input of `B`: per-sample Jacobians w.r.t. `B` are
    /// `s · gᵀ u` summed over tokens, with `g = ∂f/∂y`.
    pub fn a_part<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        linear_rows(x, self.a.clone().transpose(), None)
    }

    /// `s · u Bᵀ` for `u = x Aᵀ`.
    pub fn b_part<const D: usize>(&self, u: Tensor<D>) -> Tensor<D> {
        linear_rows(u, self.b.clone().transpose(), None).mul_scalar(self.scale)
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
    fn a_stacked_adapter_sends_each_row_block_through_its_own_adapter() {
        let dev = cpu_device();
        let mut rng = SplitMix64::new(3);
        let one = LoraWeights::new(
            tensor_from_vec(rng.uniform(2 * 3, 1.0), [2, 3], &dev),
            tensor_from_vec(rng.uniform(4 * 2, 1.0), [4, 2], &dev),
            0.5,
        );
        let two = LoraWeights::new(
            tensor_from_vec(rng.uniform(2 * 3, 1.0), [2, 3], &dev),
            tensor_from_vec(rng.uniform(4 * 2, 1.0), [4, 2], &dev),
            0.5,
        );
        let mut stacked = one.stacked(2);
        assert_eq!((stacked.rank(), stacked.a.dims()), (2, [4, 3]));
        stacked.a = Tensor::cat(vec![one.a.clone(), two.a.clone()], 0);
        stacked.b = Tensor::cat(vec![one.b.clone(), two.b.clone()], 0);
        // Two replicas of a batch of 2 sequences × 3 tokens.
        let x = tensor_from_vec(rng.uniform(2 * 2 * 3 * 3, 1.0), [4, 3, 3], &dev);
        let got = block_on(read_f32(stacked.delta(x.clone()))).unwrap();
        let want: Vec<f32> = [
            one.delta(x.clone().narrow(0, 0, 2)),
            two.delta(x.narrow(0, 2, 2)),
        ]
        .into_iter()
        .flat_map(|t| block_on(read_f32(t)).unwrap())
        .collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "{g} vs {w}");
        }
        let back = stacked.replica(1);
        assert_eq!(back.replicas, 1);
        assert_eq!(
            block_on(read_f32(back.b)).unwrap(),
            block_on(read_f32(two.b)).unwrap()
        );
    }

    #[test]
    fn delta_is_scaled_x_at_bt_and_matches_the_dense_update() {
        let dev = cpu_device();
        // in = 2, out = 3, r = 1.
        let l = LoraWeights::new(
            tensor_from_vec(vec![1.0, -1.0], [1, 2], &dev),
            tensor_from_vec(vec![1.0, 2.0, 3.0], [3, 1], &dev),
            2.0,
        );
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
