//! `smartflowd`: the Smartflow AI gateway daemon.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the request path allocates many short-lived buffers across worker threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use smartflow_daemon::commands;
use smartflow_daemon::config::Overrides;

#[derive(Parser)]
#[command(name = "smartflowd", version, about = "Smartflow: an enterprise AI gateway")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default command).
    Serve(ServeArgs),
    /// Validate a configuration file and exit.
    Check {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Virtual keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "smartflow.toml")]
    config: PathBuf,
    /// Data-plane address, overriding `server.listen`.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Admin address, overriding `server.admin_listen`.
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print the hash of a key (read from stdin when not given) for a `[[keys]]` entry.
    Hash {
        /// The key; prefer stdin, which keeps it out of the process list.
        key: Option<String>,
    },
    /// Generate a new random key and print it with its hash.
    Generate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve(ServeArgs {
        config: PathBuf::from("smartflow.toml"),
        listen: None,
        admin_listen: None,
    })) {
        Command::Serve(args) => {
            let overrides = Overrides { listen: args.listen, admin_listen: args.admin_listen };
            commands::serve::main(&args.config, overrides)
        }
        Command::Check { config } => commands::check::main(&config),
        Command::Keys(KeysCommand::Hash { key }) => commands::keys::hash(key),
        Command::Keys(KeysCommand::Generate) => commands::keys::generate(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartflowd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
