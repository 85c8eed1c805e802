//! `--backend`: the device an analysis runs on, and the peak memory it took.
//!
//! The CPU (burn-flex, every core) is the default: it needs nothing and gives the same numbers
//! everywhere. `wgpu` runs on a GPU through burn-wgpu (Vulkan, Metal or DX12); it is compiled in
//! with the `wgpu` feature (`cargo build --release -p ntk-lens --features wgpu`), so that the
//! common build stays small. A GPU is used only after
//! [`ntk_lens_core::selfcheck::check_against_cpu`] agrees with the CPU on a small kernel.

use ntk_lens_core::burn::prelude::Device;
use ntk_lens_core::device::{cpu_device, BackendInfo};
use ntk_lens_core::options::BackendChoice;

use crate::error::Failure;

/// The device for `choice` and how it was chosen. `wgpu` fails (exit 2) where no usable GPU is
/// found or its results disagree with the CPU's; `auto` falls back to the CPU and says why.
pub fn device(choice: BackendChoice) -> Result<(Device, BackendInfo), Failure> {
    match choice {
        BackendChoice::Cpu => Ok((cpu_device(), BackendInfo::Cpu { reason: None })),
        BackendChoice::Wgpu => gpu().map_err(|e| Failure::Input(format!("--backend wgpu: {e}"))),
        BackendChoice::Auto => Ok(gpu().unwrap_or_else(|reason| {
            (
                cpu_device(),
                BackendInfo::Cpu {
                    reason: Some(reason),
                },
            )
        })),
    }
}

#[cfg(feature = "wgpu")]
fn gpu() -> Result<(Device, BackendInfo), String> {
    use ntk_lens_core::block_on;
    use ntk_lens_core::device::init_wgpu;
    use ntk_lens_core::selfcheck::check_against_cpu;
    let (device, adapter) = block_on(init_wgpu())?;
    let check = block_on(check_against_cpu(&device)).map_err(|e| e.to_string())?;
    if !check.passed() {
        return Err(format!(
            "{adapter} disagrees with the CPU by {:.1e} (tolerance {:.0e})",
            check.max_relative_difference, check.tolerance
        ));
    }
    Ok((
        device,
        BackendInfo::Wgpu {
            adapter,
            check: Some(check),
        },
    ))
}

#[cfg(not(feature = "wgpu"))]
fn gpu() -> Result<(Device, BackendInfo), String> {
    Err("this ntk-lens was built without wgpu (build it with \
         `cargo build --release -p ntk-lens --features wgpu`)"
        .into())
}

/// The process's peak resident memory in MB (Linux `VmHWM`), for the notes.
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_plain_and_auto_falls_back_with_a_reason() {
        let (_, info) = device(BackendChoice::Cpu).unwrap();
        assert_eq!(info, BackendInfo::Cpu { reason: None });
        #[cfg(not(feature = "wgpu"))]
        {
            let (_, info) = device(BackendChoice::Auto).unwrap();
            assert!(
                info.label().contains("built without wgpu"),
                "{}",
                info.label()
            );
            let Err(Failure::Input(msg)) = device(BackendChoice::Wgpu) else {
                panic!("wgpu without the feature must be an input error");
            };
            assert!(msg.starts_with("--backend wgpu: "), "{msg}");
        }
    }

    #[test]
    fn peak_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let mb = peak_memory_mb().expect("VmHWM in /proc/self/status");
            assert!(mb > 1.0 && mb < 1e6, "{mb}");
        }
    }
}
