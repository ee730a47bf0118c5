//! The `nachweis` command line.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use app::audit::service::{AuditActor, Verification};
use app::domain::{EmailAddress, Role, ShortName, check_new_password};
use clap::{Args, Parser, Subcommand};
use rand::RngCore;
use sea_orm::TransactionTrait;

use crate::config::{Config, Overrides, ProcessEnv};
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(
    name = "nachweis",
    version,
    about = "Nachweis: technische und organisatorische Maßnahmen nach Art. 32 DSGVO"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Data directory (SQLite database, evidence files). Env: NACHWEIS_DATA_DIR
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite:… or postgres://…). Env: DATABASE_URL
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Configuration file (TOML). Env: NACHWEIS_CONFIG; default: <data dir>/nachweis.toml
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (default)
    Serve {
        /// Address to listen on. Env: NACHWEIS_LISTEN
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply database migrations and exit
    Migrate,
    /// Manage organisations
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage administrators
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Load the demo organisations (ConRat, clickbits) and print their logins
    Demo,
    /// The audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation with the default Art. 32 catalogue
    Create {
        #[arg(long)]
        short: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin (DPO) of an organisation. The password is read from
    /// standard input when it is not a terminal; otherwise a one-time password is printed.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exits 1 and names the first broken row if tampered
    Verify,
}

impl GlobalArgs {
    fn config(&self, listen: Option<String>) -> anyhow::Result<Config> {
        let flags = Overrides {
            config_file: self.config.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            listen,
        };
        Ok(Config::load(&flags, &ProcessEnv)?)
    }
}

#[allow(clippy::disallowed_methods)] // the CLI is the edge where the wall clock is read
fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let Cli { global, command } = cli;
    match command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { listen } => {
            let config = global.config(listen)?;
            let app = Application::build(&config).await?;
            tracing::info!(
                "Nachweis listens on http://{}/ (public URL {})",
                config.listen,
                config.public_url
            );
            app.run_until(shutdown_signal()).await?;
            Ok(0)
        }
        Command::Migrate => {
            let config = global.config(None)?;
            crate::db::connect(&config).await?;
            println!("Migrations applied.");
            Ok(0)
        }
        Command::Org {
            command: OrgCommand::Create { short, name },
        } => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            let short = ShortName::parse(&short)?;
            let txn = db.begin().await?;
            let org = app::orgs::service::create_org(
                &txn,
                now(),
                &AuditActor::system("cli"),
                &short,
                &name,
            )
            .await?;
            txn.commit().await?;
            println!(
                "Organisation {} ({}) created.",
                org.legal_name, org.short_name
            );
            Ok(0)
        }
        Command::Admin {
            command: AdminCommand::Create { org, email, name },
        } => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            let email = EmailAddress::parse(&email)?;
            let (password, generated) = read_or_generate_password()?;
            let txn = db.begin().await?;
            let actor = AuditActor::system("cli");
            let org = app::orgs::service::find_by_short(&txn, &org).await?;
            let user = app::auth::service::create_user(
                &txn,
                now(),
                &actor,
                &email,
                &name,
                Some(&password),
            )
            .await?;
            app::orgs::service::add_membership(&txn, now(), &actor, org.id, user.id, Role::Admin)
                .await?;
            txn.commit().await?;
            println!("Admin {} for {} created.", user.email, org.legal_name);
            if generated {
                println!("One-time password (change it after the first login): {password}");
            }
            Ok(0)
        }
        Command::Demo => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            let logins = crate::demo::load(&db, now()).await?;
            println!(
                "Demo data loaded. Logins (password for all: {}):",
                crate::demo::DEMO_PASSWORD
            );
            for (org, email, name, role) in logins {
                println!("  {org:<10} {:<9} {email:<34} {name}", role.as_str());
            }
            Ok(0)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            match app::audit::service::verify(&db).await? {
                Verification::Intact { rows } => {
                    println!("Audit log intact: {rows} rows verified.");
                    Ok(0)
                }
                Verification::Broken { seq, reason } => {
                    println!("Audit log BROKEN at row {seq}: {reason}");
                    Ok(1)
                }
            }
        }
    }
}

fn read_or_generate_password() -> anyhow::Result<(String, bool)> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\n', '\r']).to_owned();
        if !pw.is_empty() {
            check_new_password(&pw)?;
            return Ok((pw, false));
        }
    }
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Ok((hex::encode(bytes), true))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
