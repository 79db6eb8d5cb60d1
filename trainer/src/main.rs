//! `trainer`: learns the digit VAE on MNIST with dfdx, evaluates it, draws
//! sample grids, and exports the quantized decoder for the runtime.
//!
//! ```text
//! cargo run --release -p trainer -- export        # train if needed, then export models/mcu.*
//! cargo run --release -p trainer -- train --arch classic --epochs 10
//! cargo run --release -p trainer -- eval --arch classic --iw-samples 100
//! ```
//!
//! The commands live in the library (`trainer::cli`); this file parses the
//! command line, sets up the thread pool and reports errors.

use clap::Parser;

fn main() {
    let cli = trainer::cli::Cli::parse();
    // The command runs on a thread of rayon's pool (the one dfdx, gemm and
    // the trainer's own kernels split their work over), not beside it: a
    // parallel loop started from outside the pool hands its work over and
    // sleeps until woken, two thread switches each time, and a training
    // step starts dozens of them. From inside, the calling thread does its
    // share and the others join in.
    let big_stacks = rayon::ThreadPoolBuilder::new()
        .stack_size(8 << 20)
        .build_global();
    if let Err(e) = big_stacks {
        eprintln!("warning: rayon's thread pool was already set up: {e}");
    }
    if let Err(e) = rayon::scope(|_| trainer::cli::run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
