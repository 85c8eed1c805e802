//! Independent passes on the CPU's threads.
//!
//! burn-flex multiplies matrices on all threads but runs its elementwise operations (the adds,
//! LayerNorm's and softmax's steps) on one thread below four million elements, which every pass
//! of this crate stays under: one pass at a time leaves the other cores mostly idle. Passes that
//! only read what they share (the NTK's chunk halves, each with its own recorded forward pass;
//! the trainer's chunks, each with its own autodiff graph; the model's weights, which are not
//! tracked) can instead run side by side, on the CPU only (a GPU has one queue). In the browser
//! rayon's pool is the page's pool of Web Workers sharing the wasm memory (the web crate's
//! `worker::threads`); where it could not start, rayon runs everything on the calling thread
//! and the passes run one after the other.

use burn::prelude::Device;

/// Whether independent passes on `device` should run side by side: on the CPU backend, with
/// at least two threads in rayon's pool.
pub fn passes_side_by_side(device: &Device) -> bool {
    *device == Device::flex() && rayon::current_num_threads() >= 2
}

/// `pass` over each item, on rayon's threads, results in the items' order. Each pass runs its
/// futures to completion where it runs: on the CPU backend they are ready at once.
pub fn map_side_by_side<'a, T, R, F>(items: &'a [T], pass: impl Fn(&'a T) -> F + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: std::future::Future<Output = R>,
{
    use rayon::prelude::*;
    items
        .par_iter()
        .map(|t| pollster::block_on(pass(t)))
        .collect()
}

/// `pass` over `a` and over `b`, on two of rayon's threads; see [`map_side_by_side`].
pub fn pair_side_by_side<'a, T, R, F>(
    a: &'a T,
    b: &'a T,
    pass: impl Fn(&'a T) -> F + Sync,
) -> (R, R)
where
    T: Sync + ?Sized,
    R: Send,
    F: std::future::Future<Output = R>,
{
    rayon::join(
        || pollster::block_on(pass(a)),
        || pollster::block_on(pass(b)),
    )
}
