//! The forward hooks give what per-sample Jacobians need: the gradient w.r.t. `B` of an
//! adapted layer equals `s · Σ_t g_tᵀ (x_t Aᵀ)`, with `x_t` the layer input seen by
//! `site_input` and `g_t` the gradient at a zero probe added in `site_output`.
#![cfg(not(target_family = "wasm"))]

use std::path::PathBuf;

use ntk_lens_core::block_on;
use ntk_lens_core::burn::prelude::*;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::lora::{LoraModule, LoraSite};
use ntk_lens_core::model::peft::load_adapter_dir;
use ntk_lens_core::model::{ForwardHooks, Model, TokenBatch};
use ntk_lens_core::readback::read_f32;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

struct Probe {
    site: LoraSite,
    seen: Vec<LoraSite>,
    input: Option<Tensor<3>>,
    probe: Option<Tensor<3>>,
}

impl ForwardHooks for Probe {
    fn site_input(&mut self, site: LoraSite, x: &Tensor<3>) {
        self.seen.push(site);
        if site == self.site {
            self.input = Some(x.clone());
        }
    }

    fn site_output(&mut self, site: LoraSite, y: Tensor<3>) -> Tensor<3> {
        if site != self.site {
            return y;
        }
        let p = Tensor::<3>::zeros(y.dims(), &y.device())
            .autodiff()
            .require_grad();
        self.probe = Some(p.clone());
        y + p
    }
}

#[test]
fn probe_gradients_and_inputs_give_the_b_gradient() {
    let device = cpu_device();
    let mut model = Model::from_dir(fixtures().join("models/bert_cls"), &device).unwrap();
    load_adapter_dir(&mut model, fixtures().join("adapters/bert_cls_qv")).unwrap();
    let batch =
        TokenBatch::from_sequences(&[vec![2, 50, 51, 52, 53, 50, 54, 5, 3]], None, 0).unwrap();
    let site = LoraSite {
        layer: 0,
        module: LoraModule::Value,
    };

    // (1) Autodiff directly w.r.t. B.
    let mut direct = model.clone();
    let lora = direct.lora_mut(site).unwrap();
    let b = lora.b.clone().autodiff().require_grad();
    lora.b = b.clone();
    let logits = direct.forward(&batch).unwrap().logits.unwrap();
    let grads = logits.narrow(1, 1, 1).sum().backward();
    let g_direct = block_on(read_f32(b.grad(&grads).unwrap())).unwrap();

    // (2) From the hooks: s · Σ_t g_tᵀ (x_t Aᵀ).
    let mut hooks = Probe {
        site,
        seen: Vec::new(),
        input: None,
        probe: None,
    };
    let logits = model
        .forward_with_hooks(&batch, &mut hooks)
        .unwrap()
        .logits
        .unwrap();
    let grads = logits.narrow(1, 1, 1).sum().backward();
    let g = hooks.probe.unwrap().grad(&grads).unwrap(); // [1, T, out]
    let x = hooks.input.unwrap().inner(); // [1, T, in]
    let lora = model.lora(site).unwrap();
    let [_, t, out] = g.dims();
    let u = lora.a_part(x).reshape([t, lora.rank()]); // x Aᵀ
    let g_hooks = g
        .reshape([t, out])
        .transpose()
        .matmul(u)
        .mul_scalar(lora.scale);
    let g_hooks = block_on(read_f32(g_hooks)).unwrap();

    assert_eq!(g_direct.len(), g_hooks.len());
    let scale = g_direct.iter().map(|v| v.abs()).fold(0.0, f32::max);
    let diff = g_direct
        .iter()
        .zip(&g_hooks)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    eprintln!("∂logit₁/∂B: max |autodiff − hooks| = {diff:.3e} (max |g| = {scale:.3e})");
    assert!(scale > 1e-3, "the gradient should not vanish: {scale}");
    assert!(diff <= 1e-5 * scale.max(1.0), "{diff}");

    // The hooks saw every linear site of both layers, in execution order.
    let want: Vec<LoraSite> = (0..2)
        .flat_map(|layer| {
            LoraModule::ALL
                .into_iter()
                .map(move |module| LoraSite { layer, module })
        })
        .collect();
    assert_eq!(hooks.seen, want);
    assert_eq!(
        model.peft_key(site, true),
        "base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight"
    );
}

/// At PEFT initialisation (B = 0) the gradient w.r.t. A is exactly zero and w.r.t. B is not.
#[test]
fn at_init_only_b_has_a_gradient() {
    use ntk_lens_core::lora::LoraConfig;
    let device = cpu_device();
    let mut model = Model::from_dir(fixtures().join("models/roberta_cls"), &device).unwrap();
    let sites = model
        .apply_lora(
            &LoraConfig::new(4, 8.0, &[LoraModule::Query, LoraModule::Value]),
            1,
        )
        .unwrap();
    let mut tracked = Vec::new();
    for &s in &sites {
        let l = model.lora_mut(s).unwrap();
        l.a = l.a.clone().autodiff().require_grad();
        l.b = l.b.clone().autodiff().require_grad();
        tracked.push((l.a.clone(), l.b.clone()));
    }
    let batch = TokenBatch::from_sequences(&[vec![0, 40, 41, 42, 2]], None, 1).unwrap();
    let logits = model.forward(&batch).unwrap().logits.unwrap();
    let grads = logits.narrow(1, 0, 1).sum().backward();
    for (a, b) in tracked {
        let ga = block_on(read_f32(a.grad(&grads).unwrap())).unwrap();
        let gb = block_on(read_f32(b.grad(&grads).unwrap())).unwrap();
        assert!(ga.iter().all(|&v| v == 0.0));
        assert!(gb.iter().any(|&v| v.abs() > 1e-6));
    }
}
