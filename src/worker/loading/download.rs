//! A model's three files, downloaded with byte progress (and through a cache when the options
//! name one); the weights decoded as they arrive, so that a bad file stops its download.

use ntk_lens_core::model::weight_stream::WeightStream;
use ntk_lens_core::model::weights::WeightFile;

use crate::worker::fetch::{fetch_bytes, fetch_chunks, FetchError, FetchOptions};

/// `progress(done, total, file)`: bytes so far of all the files and of all expected, and the
/// file downloading; returns `false` to cancel.
pub type Progress<'a> = dyn FnMut(usize, usize, &str) -> bool + 'a;

/// A model's weights: a whole file (dropped files), or decoded as they downloaded.
pub enum Weights {
    /// The file's bytes, parsed when the model is built.
    Bytes(Vec<u8>),
    /// The tensors, decoded while downloading.
    Decoded(WeightFile<'static>),
}

/// The files of a model, before anything is built from them.
pub struct ModelFiles {
    /// A name for people.
    pub name: String,
    /// Where they came from (a URL or the dropped files' names).
    pub origin: String,
    /// `config.json`.
    pub config: Vec<u8>,
    /// The weights.
    pub weights: Weights,
    /// The weights file's name.
    pub weights_file: String,
    /// The weights file's size.
    pub weights_bytes: usize,
    /// `tokenizer.json`.
    pub tokenizer: Vec<u8>,
}

/// Streams `base` + `file` into a [`WeightStream`] (each tensor upcast as it completes, its
/// bytes dropped), reporting `done` + its bytes so far; adds its size to `done`. `Ok(None)`
/// for a 404.
async fn fetch_weights(
    base: &str,
    file: &str,
    options: FetchOptions<'_>,
    done: &mut usize,
    expected_total: usize,
    progress: &mut Progress<'_>,
) -> Result<Option<(WeightFile<'static>, usize)>, FetchError> {
    let before = *done;
    let mut stream = WeightStream::new(file);
    let mut n = 0usize;
    let got = fetch_chunks(&format!("{base}{file}"), options, &mut |chunk, _| {
        stream.push(chunk).map_err(|e| e.to_string())?;
        n += chunk.len();
        Ok(progress(before + n, expected_total.max(before + n), file))
    })
    .await?;
    let Some(size) = got else { return Ok(None) };
    *done += size;
    let decoded = stream.finish().map_err(|e| FetchError::Invalid {
        url: format!("{base}{file}"),
        message: e.to_string(),
    })?;
    Ok(Some((decoded, size)))
}

/// Fetches `base` + `file`, reporting `done` + its bytes so far; adds its size to `done`.
async fn fetch_counted(
    base: &str,
    file: &str,
    options: FetchOptions<'_>,
    done: &mut usize,
    expected_total: usize,
    progress: &mut Progress<'_>,
) -> Result<Option<Vec<u8>>, FetchError> {
    let before = *done;
    let got = fetch_bytes(&format!("{base}{file}"), options, &mut |n, _| {
        progress(before + n, expected_total.max(before + n), file)
    })
    .await?;
    *done += got.as_ref().map_or(0, Vec::len);
    Ok(got)
}

/// Fetches the three files under `base`, the weights under the first of `weight_files` that
/// exists; a missing file is [`FetchError::Status`] 404 with its URL.
pub async fn fetch_model(
    name: &str,
    base: &str,
    weight_files: &[&str],
    options: FetchOptions<'_>,
    expected_total: usize,
    progress: &mut Progress<'_>,
) -> Result<ModelFiles, FetchError> {
    let mut done = 0usize;
    let not_found = |file: &str| FetchError::Status {
        url: format!("{base}{file}"),
        status: 404,
    };
    let config = fetch_counted(
        base,
        "config.json",
        options,
        &mut done,
        expected_total,
        progress,
    )
    .await?
    .ok_or_else(|| not_found("config.json"))?;
    let mut weights = None;
    for file in weight_files {
        if let Some((w, size)) =
            fetch_weights(base, file, options, &mut done, expected_total, progress).await?
        {
            weights = Some((w, size, file.to_string()));
            break;
        }
    }
    let (weights, weights_bytes, weights_file) =
        weights.ok_or_else(|| not_found(weight_files[0]))?;
    let tokenizer = fetch_counted(
        base,
        "tokenizer.json",
        options,
        &mut done,
        expected_total,
        progress,
    )
    .await?
    .ok_or_else(|| not_found("tokenizer.json"))?;
    Ok(ModelFiles {
        name: name.into(),
        origin: base.into(),
        config,
        weights: Weights::Decoded(weights),
        weights_file,
        weights_bytes,
        tokenizer,
    })
}
