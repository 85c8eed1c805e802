//! The dataset parsers (CSV, TSV, JSON, JSONL) on arbitrary bytes: an `Err` is fine, a panic is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = ["data.csv", "data.tsv", "data.json", "data.jsonl"];

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(first) % NAMES.len()];
    let _ = ntk_lens_core::data::parse_dataset(name, bytes, None);
});
