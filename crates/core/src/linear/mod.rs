//! The linearized model `f̄(x) = f0(x) + J0(x)(θ̄ − θ0)` trained with the proximal squared loss
//! `L(θ̄) = Σ_i ½‖f̄(x_i) − y_i‖² + (λ/2)‖θ̄ − θ0‖²`, expressed through the train NTK
//! `K = J0 J0ᵀ` only (host `f64`; no device, no threads).
//!
//! * [`KernelRidge`]: the optimum (kernel ridge regression), `α = (K + λI)⁻¹ r0`,
//!   `r0 = Y − f0(X)`, train/eval predictions, `‖θ̄* − θ0‖` and its bound `‖r0‖/(2√λ)`.
//! * [`Trajectory`]: gradient descent with step `η` in closed form; see the `trajectory`
//!   module docs for the derivation of `r_t − r* = U diag((1 − η(μ_i + λ))^t) Uᵀ (r0 − r*)`.

mod ridge;
mod trajectory;

#[cfg(test)]
mod tests;

pub use ridge::{KernelRidge, RidgeFit};
pub use trajectory::{GatedTrajectory, GdStep, ResidualByEigen, Trajectory};
