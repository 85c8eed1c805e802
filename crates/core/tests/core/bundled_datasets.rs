//! Every bundled dataset (`web/datasets/`) parses through the `data` module with the row count and
//! class balance its catalogue states.
#![cfg(not(target_family = "wasm"))]

use std::path::PathBuf;

use ntk_lens_core::data::{parse_dataset, BundledIndex};

fn datasets_dir() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "..", "..", "web", "datasets"]
        .iter()
        .collect()
}

fn index() -> BundledIndex {
    let text = std::fs::read_to_string(datasets_dir().join("index.json")).unwrap();
    BundledIndex::from_json(&text).unwrap()
}

#[test]
fn catalogue_lists_the_four_datasets() {
    let ids: Vec<String> = index().datasets.into_iter().map(|d| d.id).collect();
    assert_eq!(
        ids,
        ["uci-yelp", "uci-amazon", "uci-imdb", "rotten-tomatoes"]
    );
}

#[test]
fn every_bundled_file_parses_with_its_stated_counts() {
    for entry in index().datasets {
        let bytes = std::fs::read(datasets_dir().join(&entry.file)).unwrap();
        assert!(
            bytes.len() < 300_000,
            "{} is {} bytes",
            entry.file,
            bytes.len()
        );
        let d = parse_dataset(&entry.file, &bytes, None)
            .unwrap_or_else(|e| panic!("{}: {e}", entry.file));
        assert_eq!(d.name, entry.id);
        assert_eq!(d.len(), 1000, "{}", entry.file);
        assert_eq!(d.len(), entry.rows);
        assert_eq!(d.label_names, entry.classes);
        assert_eq!(d.label_counts(), entry.class_counts);
        assert_eq!(d.label_counts(), [500, 500], "{}", entry.file);
        assert!(d.text_pairs.is_none());
        assert!(!entry.citation.is_empty() && !entry.licence.is_empty());
    }
}

#[test]
fn yelp_contents_split_and_sample() {
    let bytes = std::fs::read(datasets_dir().join("uci-yelp.jsonl")).unwrap();
    let d = parse_dataset("uci-yelp.jsonl", &bytes, None).unwrap();
    assert_eq!(d.label_names, ["negative", "positive"]);
    assert_eq!(d.texts[0], "Wow... Loved this place.");
    assert_eq!(d.labels[..3], [1, 0, 0]);
    let (train, eval) = d.split(0.2, 7).unwrap();
    assert_eq!(train.label_counts(), [400, 400]);
    assert_eq!(eval.label_counts(), [100, 100]);
    let s = d.sample_stratified(64, 1).unwrap();
    assert_eq!(s.label_counts(), [32, 32]);
    let h = d.length_histogram(ntk_lens_core::data::LengthUnit::Words, 10);
    assert_eq!(h.counts.iter().sum::<usize>(), 1000);
    // Python: words = len(text.split()) -> min 1, max 32, sum 10894.
    assert_eq!((h.min, h.max, h.bin_width), (1, 32, 4));
    assert!((h.mean - 10.894).abs() < 1e-12, "{h:?}");
}
