//! A named set of kernel blocks of one shape (e.g. one per LoRA module) and their subset sums.
//!
//! The plain NTK is additive over parameter blocks, `K_S = Σ_{b ∈ S} K_b`, so any subset of
//! layers/modules can be analysed by summation without recomputing Jacobians.

use super::kernel::Kernel;
use crate::CoreError;

/// Named kernels that all have the same `n`, `C` and layout; names are unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockSet {
    names: Vec<String>,
    kernels: Vec<Kernel>,
}

impl BlockSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a block; errors if the name is taken or the shape differs from the first block.
    pub fn insert(&mut self, name: impl Into<String>, kernel: Kernel) -> Result<(), CoreError> {
        let name = name.into();
        if self.index_of(&name).is_some() {
            return Err(CoreError::invalid(
                "block",
                format!("a block named `{name}` is already in the set"),
            ));
        }
        if let Some(first) = self.kernels.first() {
            first.check_same_shape(&kernel, &format!("block `{name}`"))?;
        }
        self.names.push(name);
        self.kernels.push(kernel);
        Ok(())
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the set has no blocks.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The block names in insertion order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The block called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Kernel> {
        self.index_of(name).map(|i| &self.kernels[i])
    }

    /// Position of the block called `name` in insertion order.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The block at position `index` (insertion order).
    pub(crate) fn kernel_at(&self, index: usize) -> &Kernel {
        &self.kernels[index]
    }

    /// `K_S = Σ_{b ∈ subset} K_b`; errors on an empty subset, an unknown or a repeated name.
    pub fn sum<S: AsRef<str>>(&self, subset: &[S]) -> Result<Kernel, CoreError> {
        let indices = self.resolve(subset)?;
        let mut total = self.kernels[indices[0]].clone();
        for &i in &indices[1..] {
            total = total.add(&self.kernels[i])?;
        }
        Ok(total)
    }

    /// The sum of every block, `K = Σ_b K_b`.
    pub fn total(&self) -> Result<Kernel, CoreError> {
        self.sum(&self.names)
    }

    /// Positions of the named blocks; errors on empty, unknown or repeated names.
    pub(crate) fn resolve<S: AsRef<str>>(&self, subset: &[S]) -> Result<Vec<usize>, CoreError> {
        if subset.is_empty() {
            return Err(CoreError::invalid("subset", "select at least one block"));
        }
        let mut indices = Vec::with_capacity(subset.len());
        for name in subset {
            let name = name.as_ref();
            let i = self
                .index_of(name)
                .ok_or_else(|| CoreError::invalid("subset", format!("no block named `{name}`")))?;
            if indices.contains(&i) {
                return Err(CoreError::invalid(
                    "subset",
                    format!("block `{name}` is listed twice"),
                ));
            }
            indices.push(i);
        }
        Ok(indices)
    }
}
