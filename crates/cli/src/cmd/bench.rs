//! `ntk-lens bench-forward`: forward throughput of the encoder on the CPU backend, for
//! `benches/forward.sh` (which runs the same in PyTorch and prints the ratio).

use std::path::PathBuf;
use std::time::Instant;

use clap::builder::RangedU64ValueParser;
use clap::Args;
use ntk_lens_core::block_on;
use ntk_lens_core::device::cpu_device;
use ntk_lens_core::model::{mean_pool, TokenBatch};
use ntk_lens_core::readback::read_f32;
use serde::Serialize;

use crate::args::ModelArgs;
use crate::error::Failure;
use crate::load;
use crate::output::write_json;

/// Flags of `bench-forward`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Sentences per batch.
    #[arg(long, default_value_t = 32, value_parser = RangedU64ValueParser::<usize>::new().range(1..=4096))]
    batch: usize,
    /// Tokens per sentence (no padding).
    #[arg(long, default_value_t = 32, value_parser = RangedU64ValueParser::<usize>::new().range(1..=512))]
    len: usize,
    /// Untimed forward passes before timing.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Timed forward passes.
    #[arg(long, default_value_t = 10, value_parser = RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    reps: usize,
    /// Write the JSON result here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// What `bench-forward` reports.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// `ntk-lens` (burn-flex).
    pub backend: &'static str,
    /// Sentences per batch.
    pub batch: usize,
    /// Tokens per sentence.
    pub len: usize,
    /// Timed passes.
    pub reps: usize,
    /// `RAYON_NUM_THREADS` if set, else the available parallelism.
    pub threads: usize,
    /// Seconds of each timed pass (forward, mean pooling and read-back to the host).
    pub seconds: Vec<f64>,
    /// `batch / median(seconds)`.
    pub sentences_per_s: f64,
}

/// The benchmark's token ids, shared with `benches/forward_torch.py`:
/// `ids[b][t] = 1000 + (31 b + 7 t) mod (vocab − 1000)` (all real tokens, no padding).
pub fn bench_ids(batch: usize, len: usize, vocab: usize) -> Vec<u32> {
    let span = vocab.saturating_sub(1000).max(1);
    let base = 1000.min(vocab.saturating_sub(1));
    (0..batch)
        .flat_map(|b| (0..len).map(move |t| (base + (31 * b + 7 * t) % span) as u32))
        .collect()
}

/// The thread count the CPU backend uses (rayon's global pool).
pub fn threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Times `reps` inference passes ([`Model::infer`](ntk_lens_core::model::Model::infer), natively
/// two halves side by side) of one fixed batch, after `warmup`.
pub fn run(args: BenchArgs) -> Result<(), Failure> {
    let model = load::model(&args.model.model, &cpu_device())?;
    if args.len > model.config.max_sequence_length() {
        return Err(Failure::input(
            "--len",
            format!(
                "{} exceeds the model's {} positions",
                args.len,
                model.config.max_sequence_length()
            ),
        ));
    }
    let n = args.batch * args.len;
    let batch = TokenBatch::new(
        args.batch,
        args.len,
        bench_ids(args.batch, args.len, model.config.vocab_size),
        vec![1; n],
        None,
    )?;
    let pass = || -> Result<f64, Failure> {
        let start = Instant::now();
        let out = model.infer(&batch)?.encoder;
        let pooled = block_on(read_f32(mean_pool(out.last_hidden_state, out.mask)))?;
        std::hint::black_box(pooled);
        Ok(start.elapsed().as_secs_f64())
    };
    for _ in 0..args.warmup {
        pass()?;
    }
    let seconds = (0..args.reps)
        .map(|_| pass())
        .collect::<Result<Vec<_>, _>>()?;
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let report = BenchReport {
        backend: "ntk-lens",
        batch: args.batch,
        len: args.len,
        reps: args.reps,
        threads: threads(),
        sentences_per_s: args.batch as f64 / median,
        seconds,
    };
    write_json(&report, args.out.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_documented_formula() {
        let ids = bench_ids(2, 3, 30_522);
        assert_eq!(ids, [1000, 1007, 1014, 1031, 1038, 1045]);
        assert!(bench_ids(4, 64, 1010)
            .iter()
            .all(|&i| (1000..1010).contains(&i)));
        assert!(bench_ids(4, 64, 140).iter().all(|&i| i < 140));
    }
}
