//! The tabs of the explorer.

/// The tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Model and backend.
    Model,
    /// Dataset choice and preview.
    Data,
    /// Empirical NTK and its spectrum.
    Ntk,
    /// Linearized vs actual fine-tuning as lambda varies.
    Linearization,
    /// Layer selection and spectral perturbation.
    LayerSelection,
    /// Plain-language explanations.
    Learn,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Tab; 6] = [
        Tab::Model,
        Tab::Data,
        Tab::Ntk,
        Tab::Linearization,
        Tab::LayerSelection,
        Tab::Learn,
    ];

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Model => "Model",
            Tab::Data => "Data",
            Tab::Ntk => "NTK",
            Tab::Linearization => "Linearization",
            Tab::LayerSelection => "Layer selection",
            Tab::Learn => "Learn",
        }
    }

    /// The stable id used in `data-testid` and element ids.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Model => "model",
            Tab::Data => "data",
            Tab::Ntk => "ntk",
            Tab::Linearization => "linearization",
            Tab::LayerSelection => "layers",
            Tab::Learn => "learn",
        }
    }
}
