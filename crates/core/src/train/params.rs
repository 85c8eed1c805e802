//! The trainable tensors of a model (LoRA `A`, `B`; optionally the head) as one flat list.

use burn::prelude::*;

use crate::lora::LoraSite;
use crate::model::Model;
use crate::CoreError;

/// Where a trainable tensor lives in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// `lora_A` of a site.
    LoraA(LoraSite),
    /// `lora_B` of a site.
    LoraB(LoraSite),
    /// The weight of the head's dense layer `k` (forward order).
    HeadWeight(usize),
    /// The bias of the head's dense layer `k`, stored as `[1, out]`.
    HeadBias(usize),
}

/// The trainable tensors, all as 2-D tensors (biases as `[1, out]`).
#[derive(Debug, Clone)]
pub struct Params {
    /// Where each tensor lives.
    pub slots: Vec<Slot>,
    /// The tensors.
    pub values: Vec<Tensor<2>>,
}

impl Params {
    /// Reads the LoRA tensors of `model` (and the head's when `head`).
    pub fn from_model(model: &Model, head: bool) -> Result<Params, CoreError> {
        let mut slots = Vec::new();
        let mut values = Vec::new();
        for site in model.lora_sites() {
            if let Some(l) = model.lora(site) {
                slots.push(Slot::LoraA(site));
                values.push(l.a.clone());
                slots.push(Slot::LoraB(site));
                values.push(l.b.clone());
            }
        }
        if head {
            let h = model.head.as_ref().ok_or_else(|| {
                CoreError::invalid("train_head", "the model has no head to train")
            })?;
            for (k, d) in h.dense_layers().into_iter().enumerate() {
                slots.push(Slot::HeadWeight(k));
                values.push(d.weight.clone());
                if let Some(b) = &d.bias {
                    slots.push(Slot::HeadBias(k));
                    values.push(b.clone().unsqueeze::<2>());
                }
            }
        }
        if slots.is_empty() {
            return Err(CoreError::invalid(
                "params",
                "nothing to train: the model has no LoRA adapters",
            ));
        }
        Ok(Params { slots, values })
    }

    /// Writes `values` (one per slot) into `model`.
    pub fn write(&self, model: &mut Model, values: &[Tensor<2>]) -> Result<(), CoreError> {
        for (slot, v) in self.slots.iter().zip(values) {
            let gone = || CoreError::invalid("params", format!("{slot:?} is not in the model"));
            match *slot {
                Slot::LoraA(s) => model.lora_mut(s).ok_or_else(gone)?.a = v.clone(),
                Slot::LoraB(s) => model.lora_mut(s).ok_or_else(gone)?.b = v.clone(),
                Slot::HeadWeight(k) | Slot::HeadBias(k) => {
                    let head = model.head.as_mut().ok_or_else(gone)?;
                    let mut layers = head.dense_layers_mut();
                    let d = layers.get_mut(k).ok_or_else(gone)?;
                    if matches!(slot, Slot::HeadWeight(_)) {
                        d.weight = v.clone();
                    } else {
                        let [_, out] = v.dims();
                        d.bias = Some(v.clone().reshape([out]));
                    }
                }
            }
        }
        Ok(())
    }

    /// Total number of scalars.
    pub fn count(&self) -> usize {
        self.values
            .iter()
            .map(|v| v.dims().iter().product::<usize>())
            .sum()
    }
}
