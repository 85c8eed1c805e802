//! The CLI's tests in one binary: the built `ntk-lens` run as a user would (`commands`: help,
//! exit codes, self-check, logits and info against transformers/PEFT, bad inputs; `analyses`:
//! ntk, sweep and select against the torch.func fixtures and for bad inputs; `bad_inputs`: the
//! corpus of tests/bad-inputs).

mod common;

mod analyses;
mod bad_inputs;
mod commands;
