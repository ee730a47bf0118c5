//! `nachweis`: parse the command line, set up logging, run the command.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// jemalloc instead of glibc's malloc, for Rust and for the C libraries
/// (SQLite): under load it is faster and hands freed memory back to the
/// system. The tests link the library with the system allocator; the
/// binary users run is what the load bench measures.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts (`MALLOC_CONF` in the
/// environment still overrides them): freed pages go back to the system
/// after a second instead of ten, by a background thread, so the memory a
/// burst of requests needed is returned once it is over (load bench, RSS
/// after the load: 122 MB before, 108 MB with this; after the soak 235 and
/// 179 MB).
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
static malloc_conf: MallocConf = MallocConf(
    c"background_thread:true,max_background_threads:1,dirty_decay_ms:1000,muzzy_decay_ms:0"
        .as_ptr(),
);

/// A C string pointer jemalloc reads at start; never written.
#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);
// SAFETY: the pointer is to a static, immutable C string literal.
unsafe impl Sync for MallocConf {}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("NACHWEIS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        // Colours only for a person at a terminal: a log file or journald
        // would otherwise keep the escape codes in every line.
        .with_ansi(std::io::stdout().is_terminal())
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
