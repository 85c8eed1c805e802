//! Model and samples for an analysis: head, LoRA, sample selection, tokenization.

use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Task};
use crate::lora::LoraConfig;
use crate::model::{Family, HeadKind, Model};
use crate::options::{SampleMethod, MAX_SAMPLES};
use crate::tokenize::{Encoded, TextTokenizer};
use crate::train::Targets;
use crate::CoreError;

/// How the analysed (train) samples are chosen from the dataset's train split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum SampleChoice {
    /// The first `n` rows, in file order.
    First {
        /// Number of samples.
        n: usize,
    },
    /// A stratified random sample of `n` rows drawn with `seed`.
    Stratified {
        /// Number of samples.
        n: usize,
        /// The seed.
        seed: u64,
    },
    /// Rows picked by index (0-based, in the dataset).
    Picked {
        /// The row indices.
        rows: Vec<usize>,
    },
}

impl SampleChoice {
    /// The choice of `method`: the first `n` rows, `n` stratified with `seed`, or the `rows`.
    pub fn new(method: SampleMethod, n: usize, seed: u64, rows: &[usize]) -> Self {
        match method {
            SampleMethod::First => SampleChoice::First { n },
            SampleMethod::Stratified => SampleChoice::Stratified { n, seed },
            SampleMethod::Picked => SampleChoice::Picked {
                rows: rows.to_vec(),
            },
        }
    }

    /// Which method this is.
    pub fn method(&self) -> SampleMethod {
        match self {
            SampleChoice::First { .. } => SampleMethod::First,
            SampleChoice::Stratified { .. } => SampleMethod::Stratified,
            SampleChoice::Picked { .. } => SampleMethod::Picked,
        }
    }

    /// The row indices this choice selects from `data`; typed errors for `n = 0`, `n` larger
    /// than the data, a class without rows (stratified), or an index out of range.
    pub fn indices(&self, data: &Dataset) -> Result<Vec<usize>, CoreError> {
        match self {
            SampleChoice::First { n } | SampleChoice::Stratified { n, .. } if *n > MAX_SAMPLES => {
                Err(CoreError::invalid(
                    "n",
                    format!("at most {MAX_SAMPLES} samples can be analysed, {n} were asked for"),
                ))
            }
            SampleChoice::First { n } => {
                data.first_n(*n)?;
                Ok((0..*n).collect())
            }
            SampleChoice::Stratified { n, seed } => Ok(data.sample_stratified_indices(*n, *seed)?),
            SampleChoice::Picked { rows } => {
                if rows.is_empty() {
                    return Err(CoreError::invalid("samples", "no rows are picked"));
                }
                if rows.len() > MAX_SAMPLES {
                    return Err(CoreError::invalid(
                        "samples",
                        format!(
                            "at most {MAX_SAMPLES} rows can be picked, got {}",
                            rows.len()
                        ),
                    ));
                }
                if let Some(&bad) = rows.iter().find(|&&r| r >= data.len()) {
                    return Err(CoreError::invalid(
                        "samples",
                        format!(
                            "row {bad} is picked but `{}` has {} rows",
                            data.name,
                            data.len()
                        ),
                    ));
                }
                Ok(rows.clone())
            }
        }
    }
}

/// The LoRA adapters to attach (PEFT init from `seed`), unless an adapter file was loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraSetup {
    /// Rank, scale, targets and layers.
    pub config: LoraConfig,
    /// Seed of `A`'s initialisation.
    pub seed: u64,
}

/// The head a base checkpoint gets for classification: mean-pool + linear for BERT-family
/// sentence encoders (all-MiniLM-L6-v2 is trained for mean pooling), the RoBERTa head
/// (dense + tanh + out_proj on `<s>`) for RoBERTa-family models.
pub fn default_head_kind(family: Family) -> HeadKind {
    match family {
        Family::Bert => HeadKind::MeanPoolLinear,
        Family::Roberta => HeadKind::Roberta,
    }
}

/// Tokenized samples with their labels and dataset row indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    /// Row indices in the dataset.
    pub rows: Vec<usize>,
    /// Token ids per sample.
    pub encoded: Vec<Encoded>,
    /// Class index per sample (0 for regression).
    pub labels: Vec<usize>,
    /// Score per sample, for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<f64>>,
}

impl Samples {
    /// Tokenizes `rows` of `data`.
    pub fn from_rows(
        data: &Dataset,
        rows: &[usize],
        tokenizer: &TextTokenizer,
    ) -> Result<Samples, CoreError> {
        let mut encoded = Vec::with_capacity(rows.len());
        let mut labels = Vec::with_capacity(rows.len());
        let mut scores = data.scores.as_ref().map(|_| Vec::with_capacity(rows.len()));
        for &r in rows {
            let text = data.texts.get(r).ok_or_else(|| {
                CoreError::invalid("samples", format!("row {r} is not in the dataset"))
            })?;
            let pair = data.text_pairs.as_ref().and_then(|p| p.get(r));
            encoded.push(tokenizer.encode(text, pair.map(String::as_str), r)?);
            labels.push(data.labels[r]);
            if let (Some(out), Some(all)) = (scores.as_mut(), data.scores.as_ref()) {
                out.push(all[r]);
            }
        }
        Ok(Samples {
            rows: rows.to_vec(),
            encoded,
            labels,
            scores,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Regression when the samples have scores, else classification.
    pub fn task(&self) -> Task {
        if self.scores.is_some() {
            Task::Regression
        } else {
            Task::Classification
        }
    }

    /// The targets: the scores for regression, else the labels over `classes` classes.
    pub fn targets(&self, classes: usize) -> Targets {
        match &self.scores {
            Some(scores) => Targets::Scores(scores.clone()),
            None => Targets::Classes {
                labels: self.labels.clone(),
                classes,
            },
        }
    }
}

/// A model ready for the analyses (head for the dataset's classes, LoRA attached) and the
/// train (analysed) and eval samples.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The model.
    pub model: Model,
    /// Number of classes `C`.
    pub classes: usize,
    /// The analysed train samples.
    pub train: Samples,
    /// Eval samples (may be empty).
    pub eval: Samples,
    /// Plain-language notes for the user (e.g. that `B = 0` at PEFT initialisation).
    pub notes: Vec<String>,
}

/// Prepares `model` for `data`: gives it a seeded head for `data`'s classes (one output for a
/// regression dataset) when it has none
/// (errors when its own head has another class count), attaches fresh LoRA from `lora` unless
/// adapters are already loaded (`lora = None`), and tokenizes the chosen train samples and the
/// eval rows.
pub fn prepare(
    mut model: Model,
    tokenizer: &TextTokenizer,
    data: &Dataset,
    train: &SampleChoice,
    eval_rows: &[usize],
    lora: Option<&LoraSetup>,
    head_seed: u64,
) -> Result<Prepared, CoreError> {
    let classes = data.num_classes();
    if classes < 2 && data.scores.is_none() {
        return Err(CoreError::invalid(
            "labels",
            format!(
                "`{}` has {classes} class(es); classification needs at least 2",
                data.name
            ),
        ));
    }
    let mut notes = Vec::new();
    match &model.head {
        Some(h) if h.num_classes() != classes => {
            return Err(CoreError::invalid(
                "head",
                format!(
                    "the model's classification head has {} classes but `{}` has {classes}",
                    h.num_classes(),
                    data.name
                ),
            ))
        }
        Some(_) => {}
        None => {
            let kind = default_head_kind(model.config.family);
            model.set_new_head(kind, classes, head_seed)?;
            notes.push(format!(
                "The checkpoint has no classification head: a new {kind:?} head for {classes} \
                 classes was initialised from seed {head_seed} (frozen unless the head is \
                 trained)."
            ));
        }
    }
    if let Some(l) = lora {
        model.apply_lora(&l.config, l.seed)?;
        notes.push(
            "LoRA is at PEFT initialisation (B = 0), so the Jacobian with respect to every A is \
             zero and only the B matrices contribute to the NTK."
                .into(),
        );
    }
    let rows = train.indices(data)?;
    let train = Samples::from_rows(data, &rows, tokenizer)?;
    let eval = Samples::from_rows(data, eval_rows, tokenizer)?;
    Ok(Prepared {
        model,
        classes,
        train,
        eval,
        notes,
    })
}
