//! A small seeded random-number generator on the host, so that initial values are the same on
//! every backend (CPU, WebGPU) and platform.

/// SplitMix64: a fast, well-mixed 64-bit generator (Steele, Lea & Flood 2014). Not
/// cryptographic; used only for reproducible initialisation.
#[derive(Debug, Clone)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SeededRng { state: seed }
    }

    /// A generator for one named stream derived from `seed` (e.g. one per LoRA site), so that
    /// each stream does not depend on which other streams are drawn.
    pub fn derived(seed: u64, stream: &[u64]) -> Self {
        let mut s = seed;
        for &k in stream {
            s = SeededRng::new(s ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64();
        }
        SeededRng::new(s)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `n` values uniform in `[-bound, bound)`.
    pub fn uniform(&mut self, n: usize, bound: f64) -> Vec<f32> {
        (0..n)
            .map(|_| ((2.0 * self.next_f64() - 1.0) * bound) as f32)
            .collect()
    }

    /// `n` values from `N(0, std²)` (Box–Muller).
    pub fn normal(&mut self, n: usize, std: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let u1 = 1.0 - self.next_f64(); // (0, 1]
            let u2 = self.next_f64();
            let r = (-2.0 * u1.ln()).sqrt() * std;
            let t = 2.0 * core::f64::consts::PI * u2;
            out.push((r * t.cos()) as f32);
            if out.len() < n {
                out.push((r * t.sin()) as f32);
            }
        }
        out
    }
}

/// The bound of `torch.nn.init.kaiming_uniform_(w, a=√5)` for a weight with `fan_in` inputs:
/// `gain · √(3 / fan_in)` with `gain = √(2 / (1 + a²)) = √(1/3)`, i.e. `1/√fan_in`. PEFT
/// initialises `lora_A` this way.
pub fn kaiming_uniform_sqrt5_bound(fan_in: usize) -> f64 {
    let a2: f64 = 5.0;
    let gain = (2.0 / (1.0 + a2)).sqrt();
    gain * (3.0 / fan_in as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaiming_bound_is_one_over_sqrt_fan_in() {
        for fan_in in [1usize, 32, 384, 768] {
            let b = kaiming_uniform_sqrt5_bound(fan_in);
            assert!((b - 1.0 / (fan_in as f64).sqrt()).abs() < 1e-15, "{fan_in}");
        }
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut rng = SeededRng::new(7);
        let n = 200_000;
        let u = rng.uniform(n, 0.5);
        assert!(u.iter().all(|&v| (-0.5..0.5).contains(&v)));
        let mean = u.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = u.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        // U(-b, b): mean 0, variance b²/3 = 1/12. Standard error of the mean ≈ 6.5e-4.
        assert!(mean.abs() < 3e-3, "{mean}");
        assert!((var - 1.0 / 12.0).abs() < 2e-3, "{var}");
        let z = rng.normal(n, 2.0);
        let mean = z.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = z.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var - 4.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = SeededRng::derived(1, &[0, 3]).uniform(4, 1.0);
        assert_eq!(a, SeededRng::derived(1, &[0, 3]).uniform(4, 1.0));
        assert_ne!(a, SeededRng::derived(1, &[0, 4]).uniform(4, 1.0));
        assert_ne!(a, SeededRng::derived(2, &[0, 3]).uniform(4, 1.0));
    }
}
