//! The `tenantry` binary: parse the command line, start telemetry, hand over to the library.

use std::process::ExitCode;

/// mimalloc returns freed memory to the system: argon2id takes 19 MiB per hash, and with the
/// system allocator every blocking thread kept its own copy (hundreds of MiB of RSS after a
/// log-in storm; see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The allocator's one setting, through mimalloc's C API (the only `unsafe` of the crate).
#[allow(unsafe_code)]
mod allocator {
    use std::ffi::{c_int, c_long};

    unsafe extern "C" {
        /// mimalloc's `mi_option_set` (linked by the `mimalloc` crate): it writes an option's
        /// value and has no other precondition than being called before other threads start.
        safe fn mi_option_set(option: c_int, value: c_long);
    }

    /// `mi_option_purge_delay` in mimalloc's `mi_option_e` (include/mimalloc.h).
    const PURGE_DELAY: c_int = 15;

    /// Freed pages go back to the system at once (MADV_DONTNEED) instead of after a delay that
    /// only later allocations would end: an idle service would otherwise keep the memory of its
    /// last burst (the start-up hash, a log-in storm) indefinitely. Measured in
    /// docs/performance.md: idle RSS 53 -> 25 MiB, no visible CPU cost per request.
    pub fn return_freed_memory_at_once() {
        mi_option_set(PURGE_DELAY, 0);
    }
}

use clap::Parser;
use tenantry::config::{Cli, Command};

fn main() -> ExitCode {
    allocator::return_freed_memory_at_once();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi(args) = &command {
        // Printing the spec needs neither a database nor a runtime.
        print!("{}", tenantry::api::spec(args.format));
        return ExitCode::SUCCESS;
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
            Command::Purge => tenantry::app::purge(&cli.settings).await.map(|purged| {
                for (kind, count) in purged {
                    println!("{kind}: {count} purged");
                }
            }),
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
