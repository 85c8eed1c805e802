//! Every option a person chooses, defined once for the command line, the page's address and the
//! wire format between page and worker.
//!
//! Each enum has its serde name (the JSON of reports and messages), a short name used by
//! `--flag` values and `?key=` values ([`std::str::FromStr`] and [`std::fmt::Display`], with the
//! aliases older links used), and, with the crate feature `clap`, a `clap::ValueEnum` with one
//! line of help per value. [`MAX_SAMPLES`] is the one limit on the number of analysed samples.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The largest number of analysed (train) samples any shell accepts. The page further refuses an
/// analysis whose memory estimate is past its budget.
pub const MAX_SAMPLES: usize = 4096;

/// A value that is not one of an option's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: expected {}, got `{value}`", expected.join(", "))]
pub struct UnknownValue {
    /// The option, e.g. `kernel`.
    pub option: &'static str,
    /// What was given.
    pub value: String,
    /// The accepted names.
    pub expected: &'static [&'static str],
}

/// Implements the names of an option enum: `ALL`, `name()`, `Display`, `FromStr` (with aliases)
/// and, with feature `clap`, `clap::ValueEnum`.
macro_rules! named_options {
    ($ty:ident, $option:literal,
     { $($variant:ident => $name:literal $(| $alias:literal)* : $help:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order they are offered.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name on the command line and in the page's address.
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            /// One line saying what the value means.
            pub fn help(self) -> &'static str {
                match self {
                    $($ty::$variant => $help),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($name $(| $alias)* => Ok($ty::$variant),)+
                    other => Err(UnknownValue {
                        option: $option,
                        value: other.to_string(),
                        expected: &[$($name),+],
                    }),
                }
            }
        }

        #[cfg(feature = "clap")]
        impl clap::ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.name()).help(self.help()))
            }
        }
    };
}

/// Which kernel to assemble from the per-sample Jacobians `J`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelKind {
    /// The NTK `K = J Jᵀ` (symmetric, positive semi-definite).
    #[default]
    Plain,
    /// The official code's asymmetric smooth-sign kernel `S = J s(J)ᵀ`, which models Adam
    /// (Malladi et al. 2023, A-SignGD); not symmetric, not PSD.
    Sign,
}

named_options!(KernelKind, "kernel", {
    Plain => "plain": "the NTK J Jᵀ",
    Sign => "sign": "the official code's asymmetric smooth-sign kernel J s(J)ᵀ",
});

/// The parameters the Jacobian is taken with respect to (and that training moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamSet {
    /// Every LoRA `A` and `B` (the paper's choice; the head is frozen in the kernel).
    #[default]
    Lora,
    /// LoRA plus the classification head's weights and biases (block `head`).
    LoraAndHead,
}

named_options!(ParamSet, "params", {
    Lora => "lora": "every LoRA A and B",
    // `+` in a query is a space unless written %2B.
    LoraAndHead => "lora+head" | "lora_and_head" | "lora head": "LoRA plus the classification head",
});

/// How the rows and columns of a kernel are indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Layout {
    /// `nC × nC`, sample-major: row `i*C + a` is sample `i`, class (logit) `a`.
    #[default]
    Full,
    /// `n × n` class trace: `K_trace[i, j] = Σ_a K[i*C + a, j*C + a]`.
    Trace,
}

named_options!(Layout, "layout", {
    Full => "full": "nC × nC, sample-major (row i·C + a)",
    Trace => "trace": "n × n, summed over classes",
});

/// The optimizer of actual fine-tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Full-batch gradient descent `θ ← θ − η ∇L`.
    #[default]
    Gd,
    /// Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8, bias-corrected) on the full-batch gradient.
    Adam,
}

named_options!(OptimizerKind, "optimizer", {
    Gd => "gd": "full-batch gradient descent (the theory's setting)",
    Adam => "adam": "Adam on the full-batch gradient",
});

/// The per-sample loss of actual fine-tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// `½‖f − onehot(y)‖²` (the theory's loss; the linearized model uses it too).
    #[default]
    Mse,
    /// Cross-entropy of `softmax(f)` with the label.
    Ce,
}

named_options!(LossKind, "loss", {
    Mse => "mse": "½‖f − onehot(y)‖²",
    Ce => "ce": "cross-entropy",
});

/// How the analysed samples are drawn from the training split (the rows or the seed go beside
/// it, see [`crate::experiment::SampleChoice`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleMethod {
    /// The first `n` rows, in file order.
    First,
    /// A stratified random sample of `n` rows (the same share of every class).
    #[default]
    Stratified,
    /// Rows picked by hand.
    Picked,
}

named_options!(SampleMethod, "sample", {
    First => "first": "the first N rows in file order",
    Stratified => "stratified": "a stratified random sample of N rows (seed: --sample-seed)",
    Picked => "picked": "the rows given by --rows",
});

/// How the layer-selection study chooses blocks under its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Greedy forward selection minimising `κ(K_S + λI)`.
    #[default]
    GreedyKappa,
    /// Greedy forward selection maximising `λ_min(K_S + λI)`.
    GreedyLmin,
    /// The `k` blocks with the largest trace.
    Trace,
    /// Every single block scored alone; the `k` with the smallest κ.
    AllSingles,
}

named_options!(Strategy, "strategy", {
    GreedyKappa => "greedy-kappa": "greedy forward selection minimising κ(K_S + λI)",
    GreedyLmin => "greedy-lmin": "greedy forward selection maximising μ_min(K_S + λI), the smallest eigenvalue",
    Trace => "trace": "the K blocks with the largest trace",
    AllSingles => "all-singles": "each block alone; the K with the smallest κ",
});

/// How the layer study chooses each candidate's gradient-descent step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepRule {
    /// `η_S = 0.05/(μ_max(K_S) + λ)`: each subset's kernel is scaled alike, so that on the
    /// linearized model its slowest direction contracts by `1 − η_S(μ_min(K_S) + λ)` =
    /// `1 − 0.05/κ(K_S + λI)` per step, set by `κ(K_S + λI)` with the training λ (the theory's
    /// link between κ and training).
    #[default]
    PerSubset,
    /// One step for every subset, `0.05/(μ_max(K_all) + λ)` or the given learning rate (like
    /// the paper's single training recipe); on the linearized model a candidate's slowest
    /// direction then contracts by `1 − η(μ_min(K_S) + λ)`, so candidates with a larger smallest
    /// eigenvalue converge faster there, whatever their κ.
    Shared,
}

named_options!(StepRule, "step-rule", {
    PerSubset => "per-subset": "η_S = 0.05/(μ_max(K_S) + λ) per candidate: κ(K_S + λI) sets the pace",
    Shared => "shared": "one step for every candidate (0.05/(μ_max(K_all) + λ) or --lr)",
});

/// How a λ sweep chooses each λ's gradient-descent step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SweepStepRule {
    /// One step for every λ of the sweep, [`crate::train::shared_gd_lr`]
    /// `= min(0.05/μ_max, 1/(μ_max + λ_max))` or the given learning rate: the runs then differ
    /// only in their penalty, and the smallest λ is in effect the unpenalised run.
    #[default]
    Shared,
    /// `η_λ = 0.05/(μ_max + λ)` for each λ (each run's slowest direction contracts alike); the
    /// step then shrinks as λ grows, and what changes across λ is the step as much as the
    /// penalty.
    PerLambda,
}

named_options!(SweepStepRule, "step-rule", {
    Shared => "shared": "one step for every λ: min(0.05/μ_max, 1/(μ_max + λ_max)) or --lr",
    PerLambda => "per-lambda": "η = 0.05/(μ_max + λ) for each λ (the step shrinks as λ grows)",
});

/// How the layer study trains each candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recipe {
    /// The theory's setting: full-batch steps of the configured optimizer on LoRA alone; the
    /// final model counts.
    #[default]
    Theory,
    /// The paper's code's recipe, scaled to the analysed samples: Adam at 4e-3 (or the given
    /// rate), minibatches of [`PAPER_BATCH`], [`PAPER_EPOCHS`] epochs, a linear schedule with
    /// 6 % warm-up, cross-entropy for classes, the head trained too (it stays out of the NTK and
    /// of κ), and the epoch with the lowest eval loss counts (the lowest train loss without eval
    /// samples). Unlike the official code it keeps the proximal penalty `λ/2‖θ − θ0‖²` and has no
    /// LoRA dropout: the official code has no proximal term and LoRA dropout 0.1.
    Paper,
}

named_options!(Recipe, "recipe", {
    Theory => "theory": "full-batch steps on LoRA alone, the final model (the theory's setting)",
    Paper => "paper": "minibatch Adam 4e-3, 10 epochs, warm-up, head trained, best epoch; with \
                       the proximal λ and no LoRA dropout (the official code: no proximal term, dropout 0.1)",
});

/// Minibatch size of [`Recipe::Paper`] (the paper's 16 per device, halved for a few dozen
/// analysed samples so that an epoch has several steps).
pub const PAPER_BATCH: usize = 8;
/// Epochs of [`Recipe::Paper`] (the paper's 10).
pub const PAPER_EPOCHS: usize = 10;
/// Learning rate of [`Recipe::Paper`] unless one is given (the paper's 4e-3).
pub const PAPER_LR: f64 = 4e-3;
/// Warm-up fraction of [`Recipe::Paper`] (the paper's 6 %).
pub const PAPER_WARMUP: f64 = 0.06;

/// Where the computations run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// A hardware GPU whose results agree with the CPU, else the CPU.
    #[default]
    Auto,
    /// wgpu: WebGPU in the browser, Vulkan / Metal / DX12 natively.
    Wgpu,
    /// The CPU.
    Cpu,
}

named_options!(BackendChoice, "backend", {
    Auto => "auto": "a hardware GPU whose results agree with the CPU, else the CPU",
    Wgpu => "wgpu" | "webgpu" | "gpu": "wgpu: WebGPU in a browser, Vulkan/Metal/DX12 natively",
    Cpu => "cpu": "the CPU (burn-flex)",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_names_stay() {
        for k in KernelKind::ALL {
            assert_eq!(k.name().parse::<KernelKind>(), Ok(*k));
        }
        for p in ParamSet::ALL {
            assert_eq!(p.to_string().parse::<ParamSet>(), Ok(*p));
        }
        assert_eq!("lora head".parse::<ParamSet>(), Ok(ParamSet::LoraAndHead));
        assert_eq!("webgpu".parse::<BackendChoice>(), Ok(BackendChoice::Wgpu));
        assert_eq!(Strategy::AllSingles.to_string(), "all-singles");
        assert_eq!(SampleMethod::Picked.name(), "picked");
        // The wire and report names of the serde derive are unchanged.
        assert_eq!(
            serde_json::to_string(&ParamSet::LoraAndHead).unwrap(),
            "\"lora_and_head\""
        );
        assert_eq!(serde_json::to_string(&Layout::Trace).unwrap(), "\"Trace\"");
        assert_eq!(
            serde_json::to_string(&Strategy::GreedyKappa).unwrap(),
            "\"greedy-kappa\""
        );
        let e = "qkv".parse::<KernelKind>().unwrap_err();
        assert_eq!(e.to_string(), "kernel: expected plain, sign, got `qkv`");
    }
}
