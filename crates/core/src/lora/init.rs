//! PEFT's initialisation of LoRA weights (drawn from [`crate::rng::SplitMix64`]).

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
}
