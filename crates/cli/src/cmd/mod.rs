//! One module per subcommand: its flags (a clap `Args` struct) and its `run`.

pub mod bench;
pub mod info;
pub mod logits;
pub mod ntk;
pub mod select;
pub mod self_check;
pub mod sweep;
