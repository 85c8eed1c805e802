//! Every tensor of a model, visited in a fixed order: to move a model to another device (a
//! backend switch in the page keeps the loaded model) without reading its files again.

use burn::prelude::*;

use super::layers::{Dense, LayerNorm};
use super::weights::tensor_from_vec;
use super::Model;
use crate::readback::read_f32;
use crate::CoreError;

/// A mutable reference to one tensor of a model.
pub enum TensorMut<'a> {
    /// A vector (bias, LayerNorm scale or shift).
    One(&'a mut Tensor<1>),
    /// A matrix (weight, embedding table, LoRA factor).
    Two(&'a mut Tensor<2>),
}

fn dense(d: &mut Dense, f: &mut dyn FnMut(TensorMut<'_>)) {
    f(TensorMut::Two(&mut d.weight));
    if let Some(b) = &mut d.bias {
        f(TensorMut::One(b));
    }
}

fn norm(n: &mut LayerNorm, f: &mut dyn FnMut(TensorMut<'_>)) {
    f(TensorMut::One(&mut n.weight));
    f(TensorMut::One(&mut n.bias));
}

impl Model {
    /// Calls `f` on every tensor (embeddings, layers with their adapters, pooler, head), always
    /// in the same order.
    pub fn visit_tensors(&mut self, f: &mut dyn FnMut(TensorMut<'_>)) {
        let e = &mut self.encoder.embeddings;
        for t in [&mut e.word, &mut e.position, &mut e.token_type] {
            f(TensorMut::Two(t));
        }
        norm(&mut e.layer_norm, f);
        for layer in &mut self.encoder.layers {
            for module in crate::lora::LoraModule::ALL {
                let lin = layer.linear_mut(module);
                dense(&mut lin.base, f);
                if let Some(l) = &mut lin.lora {
                    f(TensorMut::Two(&mut l.a));
                    f(TensorMut::Two(&mut l.b));
                }
            }
            norm(&mut layer.attn_norm, f);
            norm(&mut layer.out_norm, f);
        }
        if let Some(p) = &mut self.encoder.pooler {
            dense(p, f);
        }
        if let Some(h) = &mut self.head {
            for d in h.dense_layers_mut() {
                dense(d, f);
            }
        }
    }

    /// A copy of the model on `device` (values read back and written again, so it works
    /// between any two backends, WebGPU in a browser included).
    pub async fn to_device(&self, device: &Device) -> Result<Model, CoreError> {
        let mut out = self.clone();
        let (mut ones, mut twos) = (Vec::new(), Vec::new());
        out.visit_tensors(&mut |t| match t {
            TensorMut::One(t) => ones.push(t.clone()),
            TensorMut::Two(t) => twos.push(t.clone()),
        });
        let mut new_ones = Vec::with_capacity(ones.len());
        for t in ones {
            let dims = t.dims();
            new_ones.push(tensor_from_vec(read_f32(t).await?, dims, device));
        }
        let mut new_twos = Vec::with_capacity(twos.len());
        for t in twos {
            let dims = t.dims();
            new_twos.push(tensor_from_vec(read_f32(t).await?, dims, device));
        }
        let (mut ones, mut twos) = (new_ones.into_iter(), new_twos.into_iter());
        out.visit_tensors(&mut |t| match t {
            TensorMut::One(t) => {
                if let Some(n) = ones.next() {
                    *t = n;
                }
            }
            TensorMut::Two(t) => {
                if let Some(n) = twos.next() {
                    *t = n;
                }
            }
        });
        Ok(out)
    }
}
