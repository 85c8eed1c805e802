//! Loading a command's inputs from disk, with errors that name the file (exit code 2).

use std::io::Read;
use std::path::Path;

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::data::{read_table, texts_from_chosen, TextColumns, Texts};
use ntk_lens_core::lora::LoraSite;
use ntk_lens_core::model::peft::load_adapter;
use ntk_lens_core::model::weight_stream::WeightStream;
use ntk_lens_core::model::weights::WeightFile;
use ntk_lens_core::model::{Model, ModelConfig};
use ntk_lens_core::tokenize::TextTokenizer;

use crate::args::LoraArgs;
use crate::error::Failure;

/// Reads a whole file; a missing or unreadable file is an input failure naming it.
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::file(path, format!("cannot read: {e}")))
}

/// Loads `config.json` and `model.safetensors` from `dir`. Config errors name config.json,
/// weight errors (truncated, corrupt, missing or mis-shaped tensors) name model.safetensors and
/// the tensor concerned.
pub fn model(dir: &Path, device: &Device) -> Result<Model, Failure> {
    let config = config(dir)?;
    model_with(dir, config, device)
}

/// Reads `config.json` of the model directory `dir`; errors name the file (or the directory
/// when it is not one).
pub fn config(dir: &Path) -> Result<ModelConfig, Failure> {
    if !dir.is_dir() {
        return Err(Failure::file(
            dir,
            "not a directory; expected a model directory with config.json and model.safetensors",
        ));
    }
    let config_path = dir.join("config.json");
    ModelConfig::from_bytes(&read(&config_path)?).map_err(|e| Failure::file(&config_path, e))
}

/// Loads `model.safetensors` from `dir` into a model of `config` (see [`model`]).
pub fn model_with(dir: &Path, config: ModelConfig, device: &Device) -> Result<Model, Failure> {
    let weights_path = dir.join("model.safetensors");
    let weights = weights(&weights_path)?;
    Model::from_weights(config, &weights, device).map_err(|e| Failure::file(&weights_path, e))
}

/// Reads a safetensors file in chunks through the core's [`WeightStream`], as the page reads a
/// download: each tensor is decoded as soon as its bytes are in (the file is never held whole
/// beside its tensors), and a broken file's error names the tensor it breaks in (the one a
/// truncated file ends in, the one whose offsets do not tile the data or disagree with its
/// shape), which the whole-file reader does not.
fn weights(path: &Path) -> Result<WeightFile<'static>, Failure> {
    let cannot = |e: std::io::Error| Failure::file(path, format!("cannot read: {e}"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut stream = WeightStream::new("model.safetensors");
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(cannot(e)),
        };
        stream
            .push(&chunk[..n])
            .map_err(|e| Failure::file(path, e))?;
    }
    stream.finish().map_err(|e| Failure::file(path, e))
}

/// Loads `tokenizer.json` from the model directory, truncating to `max_len` tokens capped at
/// the position limit of the model `config` describes. A tokenizer with more tokens than the
/// model has embeddings (another model's tokenizer) is refused here, naming the file, rather than
/// by the first text whose ids fall outside the table.
pub fn tokenizer(
    dir: &Path,
    config: &ModelConfig,
    max_len: usize,
) -> Result<TextTokenizer, Failure> {
    let path = dir.join("tokenizer.json");
    let bytes = read(&path)?;
    let max_len = max_len.min(config.max_sequence_length());
    let tokenizer = TextTokenizer::from_bytes(
        &bytes,
        &path.display().to_string(),
        config.pad_token_id,
        max_len,
    )
    .map_err(|e| Failure::Input(e.to_string()))?;
    tokenizer
        .check_fits(config.vocab_size)
        .map_err(|e| Failure::file(&path, e))?;
    Ok(tokenizer)
}

/// Imports the PEFT adapter in `dir` (`adapter_config.json`, `adapter_model.safetensors`) into
/// `model`; a head stored in the adapter replaces the model's. Errors name the directory.
pub fn adapter(model: &mut Model, dir: &Path) -> Result<Vec<LoraSite>, Failure> {
    if !dir.is_dir() {
        return Err(Failure::file(
            dir,
            "not a directory; expected a PEFT adapter directory with adapter_config.json and \
             adapter_model.safetensors",
        ));
    }
    let config = read(&dir.join("adapter_config.json"))?;
    let weights = read(&dir.join("adapter_model.safetensors"))?;
    load_adapter(model, &config, &weights).map_err(|e| Failure::file(dir, e))
}

/// Attaches fresh LoRA adapters as the flags describe (seeded `A`, `B = 0`); `None` without
/// `--rank`. Layers or targets that select nothing are input failures.
pub fn lora(
    model: &mut Model,
    flags: &LoraArgs,
    seed: u64,
) -> Result<Option<Vec<LoraSite>>, Failure> {
    let Some(config) = flags.config() else {
        return Ok(None);
    };
    model
        .apply_lora(&config, seed)
        .map(Some)
        .map_err(|e| Failure::input("LoRA flags (--rank/--alpha/--targets/--layers)", e))
}

/// Reads the texts of a data file (JSON, JSONL, CSV or TSV with a text column; labels are not
/// needed), from the `chosen` columns or the guessed ones. Errors name the file, and the line
/// and column where they apply.
pub fn texts(path: &Path, chosen: Option<&TextColumns>) -> Result<Texts, Failure> {
    let bytes = read(path)?;
    let table = read_table(&path.display().to_string(), &bytes)
        .map_err(|e| Failure::Input(e.to_string()))?;
    texts_from_chosen(&table, chosen).map_err(|e| Failure::Input(e.to_string()))
}
