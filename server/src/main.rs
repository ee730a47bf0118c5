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
    let cli = server::cli::Cli::parse();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("NACHWEIS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        // Colours only for a person at a terminal: a log file or journald
        // would otherwise keep the escape codes in every line.
        .with_ansi(std::io::stdout().is_terminal());
    // The server logs a line per request. Those lines go to a thread of
    // their own, which writes whatever has queued up in one go: a request
    // neither waits for the terminal, journald's pipe or a log file nor
    // costs a write of its own (load bench, 304 at c=32 with the log at
    // `info`: see the README). Nothing is dropped: when the queue is full,
    // requests wait for it (`lossy(false)`). The commands keep writing
    // directly, so their log lines and their output stay in order.
    let flushed_at_exit = if cli.serves() {
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .thread_name("nachweis-log")
            .finish(std::io::BufWriter::new(std::io::stdout()));
        subscriber.with_writer(writer).init();
        Some(guard)
    } else {
        subscriber.init();
        None
    };
    let outcome = server::cli::run(cli).await;
    // `exit` runs no destructors: the queued lines are written here, before
    // an error is printed, so the error comes last.
    drop(flushed_at_exit);
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // The causes on the same line: "error: what failed: why".
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
