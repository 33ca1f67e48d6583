//! The `tenantry` binary: parse the command line, start telemetry, hand over to the library.

use std::process::ExitCode;

/// mimalloc returns freed memory to the system promptly: argon2id takes 19 MiB per hash, and
/// with the system allocator every blocking thread kept its own copy (hundreds of MiB of RSS
/// after a log-in storm; see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use tenantry::config::{Cli, Command};

fn main() -> ExitCode {
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
