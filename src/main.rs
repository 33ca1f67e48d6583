//! The `tenantry` binary: parse the command line, start telemetry, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use tenantry::config::{Cli, Command};

/// mimalloc returns freed memory to the system: argon2id takes 19 MiB per hash, and with the
/// system allocator every blocking thread kept its own copy (hundreds of MiB of RSS after a
/// log-in storm; see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The allocator's settings, through mimalloc's C API (the only `unsafe` of the crate).
#[allow(unsafe_code)]
mod allocator {
    use std::ffi::{c_int, c_long};

    unsafe extern "C" {
        /// mimalloc's `mi_option_set` (linked by the `mimalloc` crate): it writes an option's
        /// value and has no other precondition than being called before other threads start.
        safe fn mi_option_set(option: c_int, value: c_long);
    }

    /// Indices in mimalloc's `mi_option_e` (include/mimalloc.h).
    const ARENA_EAGER_COMMIT: c_int = 4;
    const PURGE_DELAY: c_int = 15;

    /// Freed memory goes back to the system at once, and stays returned:
    /// - `purge_delay` 0: freed pages are purged (MADV_DONTNEED) when freed, not after a delay
    ///   that only later allocations would end (an idle service kept its last burst's memory);
    /// - `arena_eager_commit` 0: arenas are committed on demand; committed eagerly (mimalloc's
    ///   default on Linux), their freed pages stayed resident.
    ///
    /// Arenas are reserved by the first allocations, before `main`: on Linux this runs as a
    /// constructor of the executable (`.init_array`), ahead of the Rust runtime. Measured in
    /// docs/performance.md.
    extern "C" fn return_freed_memory_at_once() {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, 0);
    }

    #[cfg(target_os = "linux")]
    #[used]
    #[unsafe(link_section = ".init_array")]
    static RETURN_FREED_MEMORY_AT_ONCE: extern "C" fn() = return_freed_memory_at_once;

    /// Elsewhere, as early as `main` can.
    pub fn configure() {
        #[cfg(not(target_os = "linux"))]
        return_freed_memory_at_once();
    }
}

fn main() -> ExitCode {
    allocator::configure();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi(args) = &command {
        // Printing the spec needs neither a database nor a runtime.
        return match tenantry::api::spec(args.format) {
            Ok(spec) => {
                print!("{spec}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        };
    }
    tenantry::telemetry::init(cli.settings.log_format());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Migrate => tenantry::app::migrate(&cli.settings).await,
            Command::Distribute => tenantry::app::distribute(&cli.settings).await.map(|done| {
                for (relation, action) in done.changed {
                    println!("{relation}: {action}");
                }
                println!(
                    "may log in to the workers: {}",
                    done.worker_roles.join(", ")
                );
            }),
            Command::Purge => tenantry::app::purge(&cli.settings).await.map(|purged| {
                for (kind, count) in purged {
                    println!("{kind}: {count} purged");
                }
            }),
            Command::Relay => tenantry::app::relay(cli.settings).await,
            _ => tenantry::app::serve(cli.settings).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "tenantry stopped with an error");
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
