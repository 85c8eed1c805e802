//! The exact GELU, `x·Φ(x) = x/2 · (1 + erf(x/√2))`, and its exact derivative
//! `Φ(x) + x·φ(x)` under autodiff.
//!
//! On the CPU backend (burn-flex) both are computed on the host in one pass over the values
//! ([`gelu_and_slope`], in parallel natively). burn-flex's own GELU calls a scalar `erf` once in
//! the forward pass and `erf` and `exp` again in the backward pass, single-threaded; that was a
//! quarter of the encoder's forward time and of an NTK (docs/performance.md). Under autodiff the
//! result is `y₀ + (x − x₀)·s`, with the values `y₀` and slopes `s` computed on the host and
//! `x₀` the detached input: its value is exactly `y₀` (since `x − x₀ = 0`) and its gradient
//! `s`. On other backends (WebGPU) it is [`gelu_composed`]: burn 0.22's default GELU backward,
//! which the GPU backend uses, is the derivative of the *tanh approximation* and would bias
//! Jacobians.

use burn::prelude::*;
use burn::tensor::TensorData;

/// `1/√2`.
const FRAC_1_SQRT_2: f32 = core::f32::consts::FRAC_1_SQRT_2;
/// `1/√(2π)`.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// The exact GELU of `x`, with its exact derivative under autodiff (see the module docs).
pub fn gelu_exact<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.device() != Device::flex() {
        return gelu_composed(x);
    }
    gelu_on_host(x.clone()).unwrap_or_else(|| gelu_composed(x))
}

/// The exact GELU written with `erf` and elementwise operations, so that autodiff on any backend
/// differentiates it exactly.
pub fn gelu_composed<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    normal_cdf(x.clone()) * x
}

/// `Φ(x) = (1 + erf(x/√2))/2`, elementwise.
fn normal_cdf<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.mul_scalar(core::f64::consts::FRAC_1_SQRT_2)
        .erf()
        .add_scalar(1.0)
        .mul_scalar(0.5)
}

/// The exact GELU of `x` and its slope `Φ(x) + x·φ(x)` at every value, for hand-written
/// backward passes: both in one host pass on the CPU backend (as [`gelu_exact`], whose values
/// these are to the bit), composed of `erf` and `exp` elsewhere.
pub fn gelu_with_slope<const D: usize>(x: Tensor<D>) -> (Tensor<D>, Tensor<D>) {
    if x.device() == Device::flex() {
        let dims = x.dims();
        let device = x.device();
        let values = x
            .clone()
            .try_into_data()
            .ok()
            .map(|d| d.try_into_vec::<f32>());
        if let Some(Ok(values)) = values {
            let (values, slopes) = gelu_values(&values, true);
            let upload = |v: Vec<f32>| Tensor::<D>::from_data(TensorData::new(v, dims), &device);
            return (upload(values), upload(slopes));
        }
    }
    (gelu_composed(x.clone()), gelu_slope_composed(x))
}

/// The slope of [`gelu_with_slope`] composed of `erf` and `exp`, for any backend.
fn gelu_slope_composed<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let cdf = normal_cdf(x.clone());
    let density = x
        .clone()
        .powi_scalar(2)
        .mul_scalar(-0.5)
        .exp()
        .mul_scalar(FRAC_1_SQRT_2PI as f64);
    cdf + x * density
}

/// The host path of [`gelu_exact`]; `None` if the values cannot be read (the caller then uses
/// [`gelu_composed`]).
fn gelu_on_host<const D: usize>(x: Tensor<D>) -> Option<Tensor<D>> {
    let dims = x.dims();
    let device = x.device();
    let detached = x.clone().inner();
    let values = detached
        .clone()
        .try_into_data()
        .ok()?
        .try_into_vec::<f32>()
        .ok()?;
    let plain = device.clone().without_autodiff();
    let upload = |v: Vec<f32>| Tensor::<D>::from_data(TensorData::new(v, dims), &plain);
    let with_slope = device.is_autodiff();
    let (values, slopes) = gelu_values(&values, with_slope);
    let y0 = upload(values);
    if !with_slope {
        return Some(y0);
    }
    Some((x - detached) * upload(slopes) + y0)
}

/// GELU values of `xs` and, when `with_slope`, their slopes (else an empty `Vec`), in one pass;
/// in parallel on rayon's pool.
fn gelu_values(xs: &[f32], with_slope: bool) -> (Vec<f32>, Vec<f32>) {
    let mut values = vec![0f32; xs.len()];
    let mut slopes = vec![0f32; if with_slope { xs.len() } else { 0 }];
    let fill = |v: &mut [f32], s: &mut [f32], x: &[f32]| {
        if s.is_empty() {
            for (v, &x) in v.iter_mut().zip(x) {
                *v = gelu_and_slope(x).0;
            }
        } else {
            for ((v, s), &x) in v.iter_mut().zip(s.iter_mut()).zip(x) {
                (*v, *s) = gelu_and_slope(x);
            }
        }
    };
    {
        use rayon::prelude::*;
        const CHUNK: usize = 16 * 1024;
        if with_slope {
            values
                .par_chunks_mut(CHUNK)
                .zip(slopes.par_chunks_mut(CHUNK))
                .zip(xs.par_chunks(CHUNK))
                .for_each(|((v, s), x)| fill(v, s, x));
        } else {
            values
                .par_chunks_mut(CHUNK)
                .zip(xs.par_chunks(CHUNK))
                .for_each(|(v, x)| fill(v, &mut [], x));
        }
    }
    (values, slopes)
}

/// `(x·Φ(x), Φ(x) + x·φ(x))` for one value.
///
/// `erf` is Abramowitz & Stegun's formula 7.1.26 (absolute error below 1.5·10⁻⁷, as PyTorch's
/// vectorised CPU `erf`), which shares its `exp(−x²/2)` with the density `φ`. Written without
/// branches or library calls so that the compiler vectorises the loop over values.
#[inline]
pub fn gelu_and_slope(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_7,
        -1.453_152_1,
        1.061_405_4,
    ];
    let z = (x * FRAC_1_SQRT_2).abs();
    let t = 1.0 / (1.0 + P * z);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let gauss = exp_nonpositive(-0.5 * x * x);
    let erf = (1.0 - poly * gauss).copysign(x);
    let cdf = 0.5 * (1.0 + erf);
    (x * cdf, cdf + x * FRAC_1_SQRT_2PI * gauss)
}

/// `eᵃ` for `a ≤ 0` (relative error about 2·10⁻⁷; 0 below −87): `2ᵏ·eʳ` with
/// `k = round(a/ln 2)`, `r = a − k ln 2` and a degree-6 Taylor polynomial for `eʳ`,
/// `|r| ≤ ln 2 / 2`.
#[inline]
fn exp_nonpositive(a: f32) -> f32 {
    const LOG2_E: f32 = core::f32::consts::LOG2_E;
    // ln 2 split so that k·LN2_HI is exact for the k that occur.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let clamped = a.max(-87.0);
    let k = (clamped * LOG2_E + ROUND) - ROUND;
    let r = (clamped - k * LN2_HI) - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    let e = p * scale;
    if a < -87.0 {
        0.0
    } else {
        e
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::model::weights::tensor_from_vec;
    use crate::{block_on, device::cpu_device, readback::read_f32};

    /// x·Φ(x) and Φ(x) + x·φ(x) in f64 with an f64 series for erf (the reference for the f32 formula).
    fn reference(x: f64) -> (f64, f64) {
        let cdf = 0.5 * (1.0 + erf_series(x / 2f64.sqrt()));
        let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        (x * cdf, cdf + x * pdf)
    }

    /// erf by its Maclaurin series (|x| ≤ 3) or continued fraction of erfc (beyond), in f64:
    /// accurate to ~1e-15 on the range tested, independent of the formula under test.
    fn erf_series(x: f64) -> f64 {
        let a = x.abs();
        let v = if a <= 3.0 {
            let (mut term, mut sum, mut n) = (a, a, 0.0);
            while term.abs() > 1e-17 * sum.abs().max(1e-300) {
                n += 1.0;
                term *= -a * a / n;
                sum += term / (2.0 * n + 1.0);
            }
            2.0 / std::f64::consts::PI.sqrt() * sum
        } else {
            // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...))))
            let mut f = a;
            for k in (1..60).rev() {
                f = a + (k as f64 / 2.0) / f;
            }
            1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / f
        };
        v.copysign(x)
    }

    #[test]
    fn the_f32_formula_matches_the_exact_gelu_and_its_slope() {
        // Known values: erf(1) = 0.8427007929497149, erf(0.5) = 0.5204998778130465.
        assert!((erf_series(1.0) - 0.842_700_792_949_714_9).abs() < 1e-14);
        assert!((erf_series(0.5) - 0.520_499_877_813_046_5).abs() < 1e-14);
        assert!((erf_series(3.5) - 0.999_999_256_901_627_7).abs() < 1e-14);
        let mut worst = (0f64, 0f64);
        for k in -12_000..=12_000 {
            let x = k as f32 * 1e-3;
            let (y, s) = gelu_and_slope(x);
            let (wy, ws) = reference(x as f64);
            // Absolute error: erf's 1.5e-7 times |x|/2, plus f32 rounding of the result.
            worst.0 = worst.0.max((y as f64 - wy).abs() / (1.0 + wy.abs()));
            worst.1 = worst.1.max((s as f64 - ws).abs());
        }
        assert!(worst.0 < 1e-6, "value error {}", worst.0);
        assert!(worst.1 < 1e-6, "slope error {}", worst.1);
        let (y, s) = gelu_and_slope(0.0);
        // erf(0) is off by the formula's error (< 1.5e-7), so Φ(0) by half of it.
        assert!(y == 0.0 && (s - 0.5).abs() < 2e-7, "{y} {s}");
        assert_eq!(gelu_and_slope(-30.0).0, -0.0);
        assert_eq!(gelu_and_slope(30.0), (30.0, 1.0));
    }

    #[test]
    fn exp_matches_std_on_its_range() {
        for k in 0..87_000 {
            let a = -(k as f32) * 1e-3;
            let (got, want) = (exp_nonpositive(a) as f64, (a as f64).exp());
            assert!((got - want).abs() <= 4e-7 * want, "{a}: {got} vs {want}");
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-87.001), 0.0);
        assert_eq!(exp_nonpositive(-200.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
    }

    #[test]
    fn gelu_matches_erf_values_and_derivative_on_the_host_and_composed_paths() {
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
        // The host path (CPU) and the composed one (the GPU's) alike.
        for gelu in [gelu_exact::<1>, gelu_composed::<1>] {
            let x = tensor_from_vec(xs.clone(), [7], &dev);
            let got = block_on(read_f32(gelu(x))).unwrap();
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "{got:?}");
            }
            // Under autodiff the values are the same, and d/dx gelu = Φ(x) + x φ(x): at x = 1,
            // 0.841344746 + 0.241970725 = 1.083315471; at x = -1, -0.083315471.
            let x = tensor_from_vec(xs.clone(), [7], &dev)
                .autodiff()
                .require_grad();
            let y = gelu(x.clone());
            let values = block_on(read_f32(y.clone().inner())).unwrap();
            for (g, w) in values.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "{values:?}");
            }
            let grads = y.sum().backward();
            let g = block_on(read_f32(x.grad(&grads).unwrap())).unwrap();
            assert!((g[5] - 1.083_315_5).abs() < 1e-5, "{g:?}");
            assert!((g[1] + 0.083_315_5).abs() < 1e-5, "{g:?}");
            assert!((g[3] - 0.5).abs() < 1e-6, "{g:?}");
        }
    }

    /// Values and slopes together (for the hand-written backward pass), on the host and
    /// composed, against the f64 reference on [−6, 6]; the host values are [`gelu_exact`]'s to
    /// the bit.
    #[test]
    fn values_with_slopes_match_the_reference_on_both_paths() {
        let dev = cpu_device();
        let xs: Vec<f32> = (0..=240).map(|k| k as f32 / 20.0 - 6.0).collect();
        let composed = |x: Tensor<1>| (gelu_composed(x.clone()), gelu_slope_composed(x));
        for both in [gelu_with_slope::<1>, composed] {
            let x = tensor_from_vec(xs.clone(), [xs.len()], &dev);
            let (values, slopes) = both(x);
            let values = block_on(read_f32(values)).unwrap();
            let slopes = block_on(read_f32(slopes)).unwrap();
            for (k, &x) in xs.iter().enumerate() {
                let (v, s) = reference(x as f64);
                assert!(
                    (values[k] as f64 - v).abs() < 2e-6,
                    "at {x}: {} vs {v}",
                    values[k]
                );
                assert!(
                    (slopes[k] as f64 - s).abs() < 2e-6,
                    "at {x}: {} vs {s}",
                    slopes[k]
                );
            }
        }
        let x = tensor_from_vec(xs.clone(), [xs.len()], &dev);
        let exact = block_on(read_f32(gelu_exact(x.clone()))).unwrap();
        assert_eq!(block_on(read_f32(gelu_with_slope(x).0)).unwrap(), exact);
    }

    #[test]
    fn the_host_path_keeps_shape_and_chains_gradients() {
        let dev = cpu_device();
        let xs: Vec<f32> = (0..2 * 3 * 40_000)
            .map(|k| (k % 997) as f32 / 100.0 - 5.0)
            .collect();
        let x = tensor_from_vec(xs.clone(), [2, 3, 40_000], &dev)
            .autodiff()
            .require_grad();
        // d/dx Σ 2·gelu(x) = 2·slope(x), through an op after the GELU.
        let grads = gelu_exact(x.clone()).mul_scalar(2.0).sum().backward();
        let g = block_on(read_f32(x.grad(&grads).unwrap())).unwrap();
        assert_eq!(g.len(), xs.len());
        for (k, &v) in xs.iter().enumerate().step_by(1013) {
            assert!((g[k] - 2.0 * gelu_and_slope(v).1).abs() < 1e-6, "{k}");
        }
    }
}
