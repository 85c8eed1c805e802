//! PEFT adapter import on arbitrary bytes: the input is split in two at a position taken from its
//! first two bytes (`adapter_config.json` | `adapter_model.safetensors`) and loaded into a tiny
//! fixture model.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::peft::load_adapter;
use ntk_lens_core::model::Model;

const CONFIG: &[u8] = include_bytes!("../../tests/fixtures/models/bert_cls/config.json");
const WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/models/bert_cls/model.safetensors");

fn base() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        Model::from_bytes(CONFIG, WEIGHTS, &cpu_device()).expect("the bert_cls fixture loads")
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (head, rest) = data.split_at(2);
    let split = usize::from(u16::from_le_bytes([head[0], head[1]])).min(rest.len());
    let (config_json, safetensors) = rest.split_at(split);
    let mut model = base().clone();
    let _ = load_adapter(&mut model, config_json, safetensors);
});
