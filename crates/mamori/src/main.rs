use clap::Parser;
use clap::error::ErrorKind;
use mamori::cli::{Cli, Command};
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Every password check takes 19 MiB (Argon2id). glibc would keep those
/// blocks in per-thread arenas after the first few, so an idle server would
/// hold over 100 MiB; a fixed mmap threshold hands them back at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_allocations_to_the_system() {
    // SAFETY: mallopt only changes allocator tuning; it is called once,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_allocations_to_the_system() {}

fn main() -> ExitCode {
    return_large_allocations_to_the_system();
    // The bucket's HTTP client finds its TLS provider here.
    #[cfg(feature = "s3")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            if !matches!(
                err.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                eprintln!("エラー: コマンドラインの指定が正しくありません（下記を参照）");
            }
            err.exit();
        }
    };
    // The server logs at info, slow statements included; other commands
    // keep their output clean, and their batch statements (thousands of
    // rows each) are slow by nature, not worth a screenful of SQL.
    let default_level = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn,sqlx::query=error",
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!(
                "エラー: 実行環境を用意できません\nerror: cannot start the async runtime: {err}"
            );
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(mamori::run::run(cli))
}
