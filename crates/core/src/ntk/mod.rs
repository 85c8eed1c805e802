//! The empirical NTK of the LoRA-adapted model over selected samples.
//!
//! For the class logits `f(θ; x) ∈ R^C` and the trainable parameters `θ` (all LoRA `A` and `B`,
//! optionally the classification head), the kernel is `K[(i,a),(j,b)] = ⟨∂f_a(x_i)/∂θ,
//! ∂f_b(x_j)/∂θ⟩`, rows and columns sample-major (`i*C + a`).
//!
//! * [`options`]: which parameters, which kernel (plain `J Jᵀ` or the official code's asymmetric
//!   smooth-sign kernel `J s(J)ᵀ`), chunk size.
//! * [`factor`]: per-sample gradients of one parameter block, materialised (`[rows, P]`) or
//!   factored (`g ⊗ z` for dense head layers), and Gram products between them.
//! * [`backward`]: the model's backward pass written out by hand for every class at once, after
//!   one forward pass (burn's autodiff would need the chunk replicated once per class).
//! * [`jacobian`]: the fast path: from each adapted layer's inputs and output gradients (one
//!   forward and one backward pass over a chunk of samples), every block's per-sample gradients.
//! * [`reference`]: the straightforward path (autodiff w.r.t. each tensor, one sample and one
//!   class at a time), kept to check the fast path.
//! * [`memory`]: the peak memory of an NTK (and of a training step), estimated before it
//!   starts, so that shells can shrink chunks or refuse instead of running out.
//! * [`builder`]: [`NtkBuilder`], steppable assembly of the per-block train kernels and cross
//!   kernels (eval × train) chunk by chunk; [`NtkBlocks`] is its result.

pub mod backward;
pub mod builder;
pub mod factor;
pub mod jacobian;
pub mod memory;
pub mod options;
pub mod reference;
pub mod transfer;

pub use builder::{EvalPart, NtkBlocks, NtkBuilder, TrainPart};
pub use memory::NtkMemory;
pub use options::{KernelKind, NtkOptions, ParamSet, SIGN_EPS};
pub use transfer::NtkBlocksData;
