//! The safetensors reader on arbitrary bytes: the whole-file parser and every tensor it lists,
//! the streaming decoder fed the same bytes in input-chosen chunks, and a model load from them.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::weight_stream::WeightStream;
use ntk_lens_core::model::weights::WeightFile;
use ntk_lens_core::model::Model;

const CONFIG: &[u8] = include_bytes!("../../tests/fixtures/models/bert_cls/config.json");

fn device() -> &'static Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(cpu_device)
}

fuzz_target!(|data: &[u8]| {
    // Whole file, then every tensor at the shape the header gives it.
    if let Ok(file) = WeightFile::parse("model.safetensors", data) {
        for name in file.names() {
            if let Some(shape) = file.shape(&name) {
                let _ = file.read_exact(&name, &shape);
            }
        }
    }

    // Streamed: chunk sizes come from the input's bytes (1..=256, cycling), until an error.
    let mut stream = WeightStream::new("model.safetensors");
    let mut rest = data;
    let mut sizes = data.iter().cycle();
    let mut failed = false;
    while !rest.is_empty() {
        let size = (usize::from(*sizes.next().unwrap()) + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        if stream.push(chunk).is_err() {
            failed = true;
            break;
        }
    }
    if !failed {
        if let Ok(file) = stream.finish() {
            for name in file.names() {
                if let Some(shape) = file.shape(&name) {
                    let _ = file.read_exact(&name, &shape);
                }
            }
        }
    }

    // A model from a tiny fixture's config and these weights.
    let _ = Model::from_bytes(CONFIG, data, device());
});
