//! A tiny seeded model with LoRA and token samples of mixed lengths, for unit tests that run
//! the encoder.

use crate::device::cpu_device;
use crate::lora::{LoraConfig, LoraModule};
use crate::model::seeded::seeded_model;
use crate::model::weights::tensor_from_vec;
use crate::model::{Family, Model};
use crate::rng::SplitMix64;
use crate::tokenize::Encoded;

/// [`seeded_model`] of `family` with 2 classes on the CPU, LoRA r = 2 on query and value (PEFT
/// initialisation), and, when `b_seed` is given, every `B` drawn from it (so that the `A`
/// gradients are not zero).
pub(crate) fn tiny_lora_model(family: Family, seed: u64, b_seed: Option<u64>) -> Model {
    let device = cpu_device();
    let mut model = seeded_model(family, 2, seed, &device).unwrap();
    model
        .apply_lora(
            &LoraConfig::new(2, 4.0, &[LoraModule::Query, LoraModule::Value]),
            3,
        )
        .unwrap();
    if let Some(b_seed) = b_seed {
        draw_lora_b(&mut model, b_seed);
    }
    model
}

/// Draws every adapter's `B` from `N(0, 0.3²)` with `seed`, so that the `A` gradients are not
/// zero.
pub(crate) fn draw_lora_b(model: &mut Model, seed: u64) {
    let device = model.device();
    let mut rng = SplitMix64::new(seed);
    for site in model.lora_sites() {
        if let Some(l) = model.lora_mut(site) {
            let dims = l.b.dims();
            l.b = tensor_from_vec(rng.normal(dims[0] * dims[1], 0.3), dims, &device);
        }
    }
}

/// One sample per entry of `lengths`, with ids from the tiny model's vocabulary.
pub(crate) fn samples_of_lengths(lengths: &[usize]) -> Vec<Encoded> {
    lengths
        .iter()
        .enumerate()
        .map(|(k, &len)| Encoded {
            ids: (0..len)
                .map(|t| 3 + ((5 * t + 11 * k) % 60) as u32)
                .collect(),
            type_ids: vec![0; len],
        })
        .collect()
}
