//! `nachweis`: parse the command line, set up logging, run the command.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// jemalloc instead of glibc's malloc, for Rust and for the C libraries
/// (SQLite): under load it is faster and hands freed memory back to the
/// system. The tests link the library with the system allocator; the
/// binary users run is what the load bench measures.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("NACHWEIS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        .init();
    let cli = server::cli::Cli::parse();
    match server::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // The causes on the same line: "error: what failed: why".
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
