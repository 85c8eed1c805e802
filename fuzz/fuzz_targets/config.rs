//! `config.json` on arbitrary bytes, and the parameter counts of any config that parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntk_lens_core::model::{ModelConfig, ParameterCounts};

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = ModelConfig::from_bytes(data) {
        let _ = ParameterCounts::from_config(&config);
    }
});
