//! A tiny seeded model with LoRA and token samples of mixed lengths: the model of the backend
//! check ([`crate::selfcheck::check_against_cpu`]) and of the unit tests that run the encoder.

use burn::prelude::Device;

use crate::lora::{LoraConfig, LoraModule};
use crate::model::seeded::seeded_model;
use crate::model::weights::tensor_from_vec;
use crate::model::{Family, Model};
use crate::rng::SplitMix64;
use crate::tokenize::Encoded;
use crate::CoreError;

/// [`seeded_model`] of `family` with 2 classes on `device`, LoRA r = 2 on query and value (PEFT
/// initialisation), and, when `b_seed` is given, every `B` drawn from it (so that the `A`
/// gradients are not zero).
pub fn tiny_lora_model_on(
    family: Family,
    seed: u64,
    b_seed: Option<u64>,
    device: &Device,
) -> Result<Model, CoreError> {
    let mut model = seeded_model(family, 2, seed, device)?;
    model.apply_lora(
        &LoraConfig::new(2, 4.0, &[LoraModule::Query, LoraModule::Value]),
        3,
    )?;
    if let Some(b_seed) = b_seed {
        draw_lora_b(&mut model, b_seed);
    }
    Ok(model)
}

/// [`tiny_lora_model_on`] the CPU.
#[cfg(test)]
pub(crate) fn tiny_lora_model(family: Family, seed: u64, b_seed: Option<u64>) -> Model {
    tiny_lora_model_on(family, seed, b_seed, &crate::device::cpu_device()).unwrap()
}

/// Draws every adapter's `B` from `N(0, 0.3²)` with `seed`, so that the `A` gradients are not
/// zero.
pub fn draw_lora_b(model: &mut Model, seed: u64) {
    let device = model.device();
    let mut rng = SplitMix64::new(seed);
    for site in model.lora_sites() {
        if let Some(l) = model.lora_mut(site) {
            let dims = l.b.dims();
            l.b = tensor_from_vec(rng.normal(dims[0] * dims[1], 0.3), dims, &device);
        }
    }
}

/// One sample per entry of `lengths`, with ids from the tiny model's vocabulary: token `t` of
/// sample `k` is `3 + (a·t + b·k) mod 60` for `(a, b) = strides`.
pub fn token_samples(lengths: &[usize], strides: (usize, usize)) -> Vec<Encoded> {
    let (a, b) = strides;
    lengths
        .iter()
        .enumerate()
        .map(|(k, &len)| Encoded {
            ids: (0..len)
                .map(|t| 3 + ((a * t + b * k) % 60) as u32)
                .collect(),
            type_ids: vec![0; len],
        })
        .collect()
}

/// [`token_samples`] with the unit tests' strides `(5, 11)`.
#[cfg(test)]
pub(crate) fn samples_of_lengths(lengths: &[usize]) -> Vec<Encoded> {
    token_samples(lengths, (5, 11))
}
