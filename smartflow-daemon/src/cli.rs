//! The `smartflowd` command line: subcommands, flags and dispatch to [`crate::commands`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::commands::key_admin::{self, CreateArgs, KeyCommand};
use crate::config::Overrides;

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
    /// The verified audit stream.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The response cache.
    #[command(subcommand)]
    Cache(CacheCommand),
}

#[derive(Subcommand)]
enum CacheCommand {
    /// Distil the static embedder from all-MiniLM-L6-v2 (needs a build with `--features minilm`;
    /// otherwise exit status 2).
    Distill(commands::distill::DistillArgs),
    /// Print the running daemon's cache analytics (admin API; admin key from SMARTFLOW_ADMIN_KEY).
    Stats {
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Remove entries from the running daemon's cache: all of them, one scope's or one model's.
    Flush {
        #[command(flatten)]
        admin: AdminArgs,
        /// Every entry.
        #[arg(long, conflicts_with_all = ["scope", "model"], required_unless_present_any = ["scope", "model"])]
        all: bool,
        /// One scope's entries (`team:payments`, `key:demo`).
        #[arg(long, conflicts_with = "model")]
        scope: Option<String>,
        /// One virtual model's entries.
        #[arg(long)]
        model: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify a stream directory: every changed, missing, reordered or inserted record and a
    /// torn tail are reported with their position; exit status 1 when anything does not hold.
    Verify {
        /// A configuration file with an [audit.verified] section.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The stream directory (instead of the configuration's).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The HMAC key as `env:NAME` or `file:PATH` (instead of the configuration's).
        #[arg(long)]
        hmac_key: Option<String>,
        /// The Ed25519 public key (hex) to check checkpoint signatures with.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Generate an HMAC key and an Ed25519 signing seed for [audit.verified].
    Keygen,
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
    /// Create a stored key through the running daemon (needs SMARTFLOW_ADMIN_KEY).
    Create(Box<CreateCli>),
    /// List stored keys (needs SMARTFLOW_ADMIN_KEY).
    List {
        #[command(flatten)]
        admin: AdminArgs,
        /// Include revoked keys.
        #[arg(long)]
        include_revoked: bool,
    },
    /// Revoke a stored key by id (needs SMARTFLOW_ADMIN_KEY).
    Revoke {
        #[command(flatten)]
        admin: AdminArgs,
        /// The key id (`key_...`).
        id: String,
    },
    /// Rotate a stored key by id: the old secret stops working now (needs SMARTFLOW_ADMIN_KEY).
    Rotate {
        #[command(flatten)]
        admin: AdminArgs,
        /// The key id (`key_...`).
        id: String,
    },
}

/// `keys create` options.
#[derive(clap::Args)]
struct CreateCli {
    #[command(flatten)]
    admin: AdminArgs,
    /// A label for people.
    #[arg(long)]
    name: Option<String>,
    /// The end user.
    #[arg(long)]
    user: Option<String>,
    /// The team.
    #[arg(long)]
    team: Option<String>,
    /// The department (information-barrier segment).
    #[arg(long)]
    department: Option<String>,
    /// The model tier.
    #[arg(long)]
    tier: Option<String>,
    /// A group (repeat for more).
    #[arg(long = "group")]
    groups: Vec<String>,
    /// An allowed virtual model (repeat for more; none: all, or the tier's).
    #[arg(long = "model")]
    models: Vec<String>,
    /// Give the key admin rights.
    #[arg(long)]
    admin_rights: bool,
    /// Requests per minute.
    #[arg(long)]
    requests_per_minute: Option<u64>,
    /// Tokens per minute.
    #[arg(long)]
    tokens_per_minute: Option<u64>,
    /// Monthly budget in dollars.
    #[arg(long)]
    budget_usd: Option<f64>,
    /// Lifetime, e.g. "90d".
    #[arg(long, value_parser = humantime::parse_duration)]
    expires_in: Option<std::time::Duration>,
}

/// How the key commands reach the daemon.
#[derive(clap::Args)]
struct AdminArgs {
    /// The configuration file (for `server.admin_listen`).
    #[arg(long, short, default_value = "smartflow.toml")]
    config: PathBuf,
    /// The admin API base URL, instead of the configuration's address.
    #[arg(long)]
    admin_url: Option<String>,
}

fn key_command(admin: AdminArgs, command: KeyCommand) -> anyhow::Result<()> {
    let target = key_admin::Target::resolve(&admin.config, admin.admin_url)?;
    key_admin::main(target, command)
}

/// Parses the command line, runs the command, and turns its result into the exit status.
pub fn run() -> ExitCode {
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
        Command::Audit(AuditCommand::Verify { config, dir, hmac_key, public_key }) => {
            commands::audit::verify_main(commands::audit::VerifyArgs { config, dir, hmac_key, public_key })
        }
        Command::Audit(AuditCommand::Keygen) => commands::audit::keygen(),
        Command::Cache(CacheCommand::Distill(args)) => return commands::distill::main(&args),
        Command::Cache(CacheCommand::Stats { admin }) => key_admin::Target::resolve(&admin.config, admin.admin_url)
            .and_then(|t| key_admin::request(&t, http::Method::GET, "/api/cache/stats", None)),
        Command::Cache(CacheCommand::Flush { admin, all, scope, model }) => {
            let body = match (all, scope, model) {
                (true, _, _) => serde_json::json!({"all": true}),
                (_, Some(scope), _) => serde_json::json!({"scope": scope}),
                (_, _, Some(model)) => serde_json::json!({"model": model}),
                _ => serde_json::json!({}),
            };
            key_admin::Target::resolve(&admin.config, admin.admin_url)
                .and_then(|t| key_admin::request(&t, http::Method::POST, "/api/cache/flush", Some(body)))
        }
        Command::Keys(KeysCommand::Hash { key }) => commands::keys::hash(key),
        Command::Keys(KeysCommand::Generate) => commands::keys::generate(),
        Command::Keys(KeysCommand::Create(c)) => {
            let CreateCli {
                admin,
                name,
                user,
                team,
                department,
                tier,
                groups,
                models,
                admin_rights,
                requests_per_minute,
                tokens_per_minute,
                budget_usd,
                expires_in,
            } = *c;
            key_command(
                admin,
                KeyCommand::Create(Box::new(CreateArgs {
                    name,
                    user,
                    team,
                    department,
                    tier,
                    groups,
                    models,
                    admin: admin_rights,
                    requests_per_minute,
                    tokens_per_minute,
                    budget_usd,
                    expires_in,
                })),
            )
        }
        Command::Keys(KeysCommand::List { admin, include_revoked }) => {
            key_command(admin, KeyCommand::List { include_revoked })
        }
        Command::Keys(KeysCommand::Revoke { admin, id }) => key_command(admin, KeyCommand::Revoke(id)),
        Command::Keys(KeysCommand::Rotate { admin, id }) => key_command(admin, KeyCommand::Rotate(id)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartflowd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
