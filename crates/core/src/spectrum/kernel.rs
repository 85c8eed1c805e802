//! The [`Kernel`] type: a square `f64` matrix that knows how its rows are laid out.

use faer::Mat;

use crate::CoreError;

pub use crate::options::Layout;

/// A square kernel (Gram) matrix over `n` samples with `C` output classes, in `f64`.
///
/// The matrix is `nC × nC` for [`Layout::Full`] and `n × n` for [`Layout::Trace`]. Every entry is
/// finite (checked on construction).
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    samples: usize,
    classes: usize,
    layout: Layout,
    matrix: Mat<f64>,
}

impl Kernel {
    /// Builds a kernel from a row-major buffer; checks that its length is `dim²` with
    /// `dim = n·C` (full) or `n` (trace), that `n, C ≥ 1`, and that every entry is finite.
    pub fn from_row_major(
        samples: usize,
        classes: usize,
        layout: Layout,
        data: &[f64],
    ) -> Result<Self, CoreError> {
        let dim = Self::dim_for(samples, classes, layout)?;
        if data.len() != dim * dim {
            return Err(CoreError::mismatch("kernel entries", dim * dim, data.len()));
        }
        Self::from_mat(
            samples,
            classes,
            layout,
            Mat::from_fn(dim, dim, |r, c| data[r * dim + c]),
        )
    }

    /// Builds a kernel from a faer matrix; same checks as [`Kernel::from_row_major`].
    pub fn from_mat(
        samples: usize,
        classes: usize,
        layout: Layout,
        matrix: Mat<f64>,
    ) -> Result<Self, CoreError> {
        let dim = Self::dim_for(samples, classes, layout)?;
        if matrix.nrows() != dim {
            return Err(CoreError::mismatch("kernel rows", dim, matrix.nrows()));
        }
        if matrix.ncols() != dim {
            return Err(CoreError::mismatch("kernel columns", dim, matrix.ncols()));
        }
        check_finite("kernel", &matrix)?;
        Ok(Kernel {
            samples,
            classes,
            layout,
            matrix,
        })
    }

    /// The side length a kernel of this shape must have: `n·C` (full) or `n` (trace).
    pub fn dim_for(samples: usize, classes: usize, layout: Layout) -> Result<usize, CoreError> {
        if samples == 0 {
            return Err(CoreError::invalid("samples", "need at least one sample"));
        }
        if classes == 0 {
            return Err(CoreError::invalid("classes", "need at least one class"));
        }
        match layout {
            Layout::Full => samples
                .checked_mul(classes)
                .ok_or_else(|| CoreError::invalid("samples", "n·C overflows")),
            Layout::Trace => Ok(samples),
        }
    }

    /// Number of samples `n`.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Number of classes (outputs per sample) `C`.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The layout of rows and columns.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Side length of the matrix (`n·C` or `n`).
    pub fn dim(&self) -> usize {
        self.matrix.nrows()
    }

    /// The matrix itself.
    pub fn matrix(&self) -> &Mat<f64> {
        &self.matrix
    }

    /// The entries, row-major.
    pub fn to_row_major(&self) -> Vec<f64> {
        let d = self.dim();
        (0..d * d).map(|k| self.matrix[(k / d, k % d)]).collect()
    }

    /// True when both kernels have the same `n`, `C` and layout.
    pub fn same_shape(&self, other: &Kernel) -> bool {
        self.samples == other.samples
            && self.classes == other.classes
            && self.layout == other.layout
    }

    /// Errors unless `other` has the same `n`, `C` and layout; `what` names the comparison.
    pub fn check_same_shape(&self, other: &Kernel, what: &str) -> Result<(), CoreError> {
        if self.layout != other.layout {
            return Err(CoreError::invalid(
                what,
                format!("layouts differ: {:?} vs {:?}", self.layout, other.layout),
            ));
        }
        if self.samples != other.samples {
            return Err(CoreError::mismatch(what, self.samples, other.samples));
        }
        if self.classes != other.classes {
            return Err(CoreError::mismatch(what, self.classes, other.classes));
        }
        Ok(())
    }

    /// Converts a full kernel to its class trace, `K_trace[i, j] = Σ_a K[i*C + a, j*C + a]`;
    /// a trace kernel is returned unchanged.
    pub fn to_trace(&self) -> Kernel {
        match self.layout {
            Layout::Trace => self.clone(),
            Layout::Full => {
                let c = self.classes;
                let m = &self.matrix;
                let matrix = Mat::from_fn(self.samples, self.samples, |i, j| {
                    (0..c).map(|a| m[(i * c + a, j * c + a)]).sum()
                });
                Kernel {
                    samples: self.samples,
                    classes: self.classes,
                    layout: Layout::Trace,
                    matrix,
                }
            }
        }
    }

    /// Relative asymmetry `max_{ij} |K_ij − K_ji| / max_{ij} |K_ij|` (0 for the zero matrix).
    pub fn asymmetry(&self) -> f64 {
        let d = self.dim();
        let m = &self.matrix;
        let mut diff: f64 = 0.0;
        let mut scale: f64 = 0.0;
        for i in 0..d {
            for j in 0..d {
                diff = diff.max((m[(i, j)] - m[(j, i)]).abs());
                scale = scale.max(m[(i, j)].abs());
            }
        }
        if scale > 0.0 {
            diff / scale
        } else {
            0.0
        }
    }

    /// The symmetric part `½(K + Kᵀ)`.
    pub fn symmetrised(&self) -> Mat<f64> {
        let m = &self.matrix;
        Mat::from_fn(self.dim(), self.dim(), |i, j| 0.5 * (m[(i, j)] + m[(j, i)]))
    }

    /// Frobenius norm `‖K‖_F = (Σ_ij K_ij²)^{1/2}`.
    pub fn frobenius(&self) -> f64 {
        frobenius(&self.matrix)
    }

    /// Trace `Σ_i K_ii`.
    pub fn trace(&self) -> f64 {
        (0..self.dim()).map(|i| self.matrix[(i, i)]).sum()
    }

    /// Entry-wise sum `K + other`; errors unless both have the same shape.
    pub fn add(&self, other: &Kernel) -> Result<Kernel, CoreError> {
        self.check_same_shape(other, "kernel sum")?;
        Ok(Kernel {
            matrix: &self.matrix + &other.matrix,
            ..self.clone()
        })
    }

    /// `K + λI` as a plain matrix (any finite `λ`).
    pub fn shifted(&self, lambda: f64) -> Mat<f64> {
        let m = &self.matrix;
        Mat::from_fn(self.dim(), self.dim(), |i, j| {
            m[(i, j)] + if i == j { lambda } else { 0.0 }
        })
    }
}

/// Frobenius norm of a matrix, accumulated in `f64`.
pub(crate) fn frobenius(m: &Mat<f64>) -> f64 {
    let mut s = 0.0;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            s += m[(i, j)] * m[(i, j)];
        }
    }
    s.sqrt()
}

/// Errors with [`CoreError::NonFinite`] if any entry is NaN or infinite.
pub(crate) fn check_finite(what: &str, m: &Mat<f64>) -> Result<(), CoreError> {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            if !m[(i, j)].is_finite() {
                return Err(CoreError::NonFinite(what.to_string()));
            }
        }
    }
    Ok(())
}

/// Errors with [`CoreError::NonFinite`] if any value of the slice is NaN or infinite.
pub(crate) fn check_finite_slice(what: &str, v: &[f64]) -> Result<(), CoreError> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(CoreError::NonFinite(what.to_string()))
    }
}

/// Checks a regularisation strength: finite and `λ ≥ 0` (or `λ > 0` when `strict`).
pub(crate) fn check_lambda(lambda: f64, strict: bool) -> Result<(), CoreError> {
    if !lambda.is_finite() {
        return Err(CoreError::NonFinite("lambda".into()));
    }
    if lambda < 0.0 || (strict && lambda == 0.0) {
        let need = if strict { "λ > 0" } else { "λ ≥ 0" };
        return Err(CoreError::invalid(
            "lambda",
            format!("expected {need}, got {lambda}"),
        ));
    }
    Ok(())
}
