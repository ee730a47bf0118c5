//! The `nachweis` command line.

use app::entities::BeginWrite;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use app::audit::service::{AuditActor, Verification};
use app::domain::{EmailAddress, Role, ShortName, check_new_password};
use clap::{Args, Parser, Subcommand};
use rand::RngCore;

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

impl Cli {
    /// Whether this runs the web server (`serve`, also without a command).
    pub fn serves(&self) -> bool {
        matches!(self.command, None | Some(Command::Serve { .. }))
    }
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
    /// The TOM catalogue
    Tom {
        #[command(subcommand)]
        command: TomCommand,
    },
    /// The TOM annex: render, publish (signed) and verify
    Annex {
        #[command(subcommand)]
        command: AnnexCommand,
    },
    /// Evidence files: add one to a measure, check the store
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Privacy training: who is trained in which course
    Training {
        #[command(subcommand)]
        command: TrainingCommand,
    },
    /// Confidentiality pledges (Verpflichtung auf die Vertraulichkeit)
    Pledge {
        #[command(subcommand)]
        command: PledgeCommand,
    },
    /// The AVV concluded in the portal: which customer has which contract
    Avv {
        #[command(subcommand)]
        command: AvvCommand,
    },
    /// The record of processing activities as processor (Art. 30(2) GDPR)
    Register {
        #[command(subcommand)]
        command: RegisterCommand,
    },
    /// Effectiveness reviews of the measures (Art. 32(1)(d) GDPR)
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Write a consistent backup (database, evidence, keys) while the server runs
    Backup {
        /// The backup file to write (never overwritten)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Encrypt with the passphrase in this file (first line)
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Restore a backup into an empty data directory and database
    Restore {
        /// The backup file
        file: PathBuf,
        /// The passphrase of an encrypted backup (first line of the file)
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Coverage of the open cycle, overdue reviews, open and overdue actions
    Status {
        #[arg(long)]
        org: String,
    },
    /// Write a cycle's signed review report (a draft while the cycle is open)
    Report {
        #[arg(long)]
        org: String,
        #[arg(long)]
        cycle: app::ids::CycleId,
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TrainingCommand {
    /// Staff × courses (and the pledge), with the figure for the annex
    Report {
        #[arg(long)]
        org: String,
        /// Semicolon-separated CSV instead of a table
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// Write the register: a signed PDF, an XLSX workbook or a CSV file
    Export {
        #[arg(long)]
        org: String,
        /// pdf, xlsx or csv
        #[arg(long, value_parser = ["pdf", "xlsx", "csv"])]
        format: String,
        /// The file to write (replaced atomically)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AvvCommand {
    /// Per customer: not offered, offered since, concluded (which offer,
    /// by whom, when) or outdated; exits 0
    Status {
        #[arg(long)]
        org: String,
        /// Semicolon-separated CSV instead of a table
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PledgeCommand {
    /// Who has signed the current text, who must sign again, who has not
    Report {
        #[arg(long)]
        org: String,
        /// Semicolon-separated CSV instead of a table
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Upload a file as evidence of a measure (same checks as the browser upload)
    Add {
        #[arg(long)]
        org: String,
        /// The measure's number (as in /massnahmen/<id>)
        #[arg(long)]
        measure: app::ids::MeasureId,
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Title; default: the file name without extension
        #[arg(long)]
        title: Option<String>,
        /// Last day the evidence is valid (YYYY-MM-DD)
        #[arg(long, value_name = "DATE")]
        valid_until: Option<String>,
    },
    /// Remove leftovers of interrupted uploads and check that every file
    /// row has its file; exits 1 if a file is missing
    Check,
}

#[derive(Debug, Subcommand)]
pub enum TomCommand {
    /// Import an existing TOM document (Markdown or plain text) with the
    /// automatic mapping; prints what went where. Exits 1 and imports nothing
    /// if a part cannot be mapped, unless --assign-unmapped names a category.
    Import {
        #[arg(long)]
        org: String,
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Category for unmapped parts: its number ("3.1") or title
        #[arg(long, value_name = "CATEGORY")]
        assign_unmapped: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AnnexCommand {
    /// Render the current catalogue as an unsigned draft PDF
    Render {
        #[arg(long)]
        org: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Publish the next version (signed) and write its PDF
    Publish {
        #[arg(long)]
        org: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Check a PDF's signature and find the publication it is; exits 1 if either fails
    Verify {
        #[arg(value_name = "FILE")]
        file: PathBuf,
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

/// Who a report of the command line reads as: the organisation's auditor.
fn auditor_of(org_id: app::ids::OrgId) -> app::auth::service::Actor {
    app::auth::service::Actor {
        user_id: app::ids::UserId(0),
        org_id,
        role: app::domain::Role::Auditor,
        display_name: "cli".into(),
        email: "cli".into(),
        single_org: true,
        customer_id: None,
        joined: None,
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
            tracing::info!("stopped");
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
            let txn = db.begin_write().await?;
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
            let txn = db.begin_write().await?;
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
        Command::Annex { command } => annex(&global, command).await,
        Command::Evidence { command } => evidence(&global, command).await,
        Command::Training {
            command: TrainingCommand::Report { org, csv },
        } => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            let org = app::orgs::service::find_by_short(&db, &org).await?;
            // The report reads as the organisation's auditor would.
            let reader = auditor_of(org.id);
            let o = app::training::service::overview(
                &db,
                &reader,
                now(),
                &app::training::OverviewQuery::default(),
            )
            .await?;
            if csv {
                print!("{}", app::training::service::csv(&o));
                return Ok(0);
            }
            println!("{}: {}", org.legal_name, o.summary);
            println!("{}", o.pledge_summary);
            for r in &o.rows {
                let cells: Vec<String> = o
                    .courses
                    .iter()
                    .zip(&r.cells)
                    .map(|((_, title, _), c)| format!("{title}: {}", c.state))
                    .collect();
                println!(
                    "  {:<28} {:<34} {} | pledge: {}",
                    r.name,
                    r.email,
                    cells.join(", "),
                    r.pledge
                );
            }
            Ok(0)
        }
        Command::Register {
            command: RegisterCommand::Export { org, format, out },
        } => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            let org = app::orgs::service::find_by_short(&db, &org).await?;
            let format = app::register::service::Format::parse(&format)
                .ok_or_else(|| anyhow::anyhow!("--format must be pdf, xlsx or csv"))?;
            // The register reads as the organisation's auditor would.
            let reader = auditor_of(org.id);
            let setup = crate::secrets::signing_setup(&config)?;
            let bytes = app::register::service::export(&db, &setup, &reader, format, now()).await?;
            write_atomically(&out, &bytes)?;
            println!(
                "{}: the register (Art. 30(2) GDPR) written to {} ({} bytes).",
                org.legal_name,
                out.display(),
                bytes.len()
            );
            Ok(0)
        }
        Command::Avv {
            command: AvvCommand::Status { org, csv },
        } => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            let org = app::orgs::service::find_by_short(&db, &org).await?;
            let rows = app::contract::service::rows(&db, org.id).await?;
            if csv {
                print!("{}", app::contract::service::csv(&rows));
                return Ok(0);
            }
            let concluded = rows
                .iter()
                .filter(|r| r.standing == app::contract::ContractStanding::Accepted)
                .count();
            println!(
                "{}: {concluded} of {} customers have concluded the current AVV.",
                org.legal_name,
                rows.len()
            );
            for r in &rows {
                let detail = match (&r.concluded, &r.newest) {
                    (Some((o, a)), _)
                        if r.standing == app::contract::ContractStanding::Accepted =>
                    {
                        format!(
                            "offer {} (text version {}) accepted {} by {} ({})",
                            o.number, o.text_version, a.accepted_at, a.typed_name, a.function
                        )
                    }
                    (Some((o, a)), Some(n)) => format!(
                        "offer {} accepted {} by {}; offer {} waiting since {}",
                        o.number, a.accepted_at, a.typed_name, n.number, n.offered_at
                    ),
                    (None, Some(n)) => format!("offer {} waiting since {}", n.number, n.offered_at),
                    _ if !r.missing.is_empty() => format!("missing: {}", r.missing.join(", ")),
                    _ => "ready to offer".to_owned(),
                };
                let state = match r.standing {
                    app::contract::ContractStanding::NotOffered => "none",
                    app::contract::ContractStanding::Offered => "offered",
                    app::contract::ContractStanding::Accepted => "concluded",
                    app::contract::ContractStanding::Outdated => "outdated",
                };
                println!("  {state:<10} {:<34} {detail}", r.customer_name);
            }
            Ok(0)
        }
        Command::Pledge {
            command: PledgeCommand::Report { org, csv },
        } => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            let org = app::orgs::service::find_by_short(&db, &org).await?;
            let current = app::pledges::service::current(&db, org.id).await?;
            let rows = app::pledges::service::rows(&db, org.id, current.as_ref()).await?;
            if csv {
                print!("{}", app::pledges::service::csv(&rows));
                return Ok(0);
            }
            let signed = rows
                .iter()
                .filter(|r| r.state == app::pledges::PledgeState::Signed)
                .count();
            match &current {
                None => println!("{}: no pledge text set yet.", org.legal_name),
                Some(c) => println!(
                    "{}: {signed} of {} people signed version {} of the pledge.",
                    org.legal_name,
                    rows.len(),
                    c.version
                ),
            }
            for r in &rows {
                println!(
                    "  {:<9} {:<28} {:<34} {}",
                    match r.state.as_str() {
                        "signed" => "signed",
                        "outdated" => "outdated",
                        _ => "missing",
                    },
                    r.name,
                    r.email,
                    match (r.signed_version, &r.signed_at) {
                        (Some(v), Some(at)) => format!("version {v}, {at}"),
                        _ => String::new(),
                    }
                );
            }
            Ok(0)
        }
        Command::Review { command } => {
            let config = global.config(None)?;
            let db = crate::db::connect(&config).await?;
            match command {
                ReviewCommand::Status { org } => {
                    let org = app::orgs::service::find_by_short(&db, &org).await?;
                    println!("{}", org.legal_name);
                    print!(
                        "{}",
                        app::reviews::service::status_text(&db, org.id, now()).await?
                    );
                    Ok(0)
                }
                ReviewCommand::Report { org, cycle, out } => {
                    let setup = crate::secrets::signing_setup(&config)?;
                    let org = app::orgs::service::find_by_short(&db, &org).await?;
                    let (pdf, _) =
                        app::reviews::service::report_by_id(&db, &setup, org.id, cycle, now())
                            .await?;
                    write_atomically(&out, &pdf)?;
                    println!(
                        "Review report of cycle {cycle} ({}) written to {} ({} bytes, signed).",
                        org.legal_name,
                        out.display(),
                        pdf.len()
                    );
                    Ok(0)
                }
            }
        }
        Command::Tom {
            command:
                TomCommand::Import {
                    org,
                    file,
                    assign_unmapped,
                },
        } => tom_import(&global, &org, &file, assign_unmapped.as_deref()).await,
        Command::Backup {
            out,
            passphrase_file,
        } => {
            let config = global.config(None)?;
            let passphrase = passphrase_file
                .as_deref()
                .map(crate::backup::read_passphrase)
                .transpose()?;
            let s = crate::backup::backup(&config, &out, passphrase, now()).await?;
            println!(
                "Backup written to {}: {} tables, {} rows, {} evidence files, {} bytes{}.",
                out.display(),
                s.tables,
                s.rows,
                s.evidence_files,
                s.bytes,
                if s.encrypted { ", encrypted" } else { "" }
            );
            Ok(0)
        }
        Command::Restore {
            file,
            passphrase_file,
        } => {
            let config = global.config(None)?;
            let passphrase = passphrase_file
                .as_deref()
                .map(crate::backup::read_passphrase)
                .transpose()?;
            let r = crate::backup::restore(&config, &file, passphrase).await?;
            println!(
                "Restored into {}: {} tables, {} rows, {} evidence files; {} migration(s) applied after the restore.",
                config.data_dir.display(),
                r.tables,
                r.rows,
                r.evidence_files,
                r.migrations_applied
            );
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
                Verification::Broken { seq, reason, .. } => {
                    println!("Audit log BROKEN at row {seq}: {reason}");
                    Ok(1)
                }
            }
        }
    }
}

async fn evidence(global: &GlobalArgs, command: EvidenceCommand) -> anyhow::Result<i32> {
    let config = global.config(None)?;
    let db = crate::db::connect(&config).await?;
    let store = crate::storage::from_config(&config)?;
    match command {
        EvidenceCommand::Add {
            org,
            measure,
            file,
            title,
            valid_until,
        } => {
            let org = app::orgs::service::find_by_short(&db, &org).await?;
            let spooled =
                app::evidence::upload::spool_path(store.as_ref(), &file, config.evidence_max_bytes)
                    .await?;
            let title = title.unwrap_or_else(|| {
                app::evidence::upload::default_title(&app::evidence::sniff::sanitize_file_name(
                    &file.to_string_lossy(),
                ))
            });
            let meta = app::evidence::service::Meta::parse(
                &title,
                "",
                "",
                valid_until.as_deref().unwrap_or(""),
            )?;
            let res = app::evidence::upload::store_and_record(
                &db,
                store.as_ref(),
                now(),
                &AuditActor::system("cli"),
                org.id,
                app::evidence::service::Target::New {
                    measure_id: Some(measure),
                    meta,
                },
                spooled,
            )
            .await?;
            println!(
                "Evidence #{} (version {}) stored for measure {measure} of {}: {} ({} bytes, {})\nSHA-256 {}",
                res.evidence_id,
                res.version,
                org.legal_name,
                res.file_name,
                res.size,
                res.content_type,
                res.sha256
            );
            Ok(0)
        }
        EvidenceCommand::Check => {
            let check = crate::storage::check(&db, store.as_ref()).await?;
            println!(
                "Evidence store {}: {} files; {} leftover upload(s) and {} unreferenced file(s) removed; {} row(s) without file.",
                store.describe(),
                check.blobs,
                check.staging_removed,
                check.orphan_blobs_removed,
                check.rows_missing_blob.len()
            );
            if check.rows_missing_blob.is_empty() {
                Ok(0)
            } else {
                let ids: Vec<String> = check
                    .rows_missing_blob
                    .iter()
                    .map(|id| id.to_string())
                    .collect();
                println!("Rows without file (evidence versions): {}", ids.join(", "));
                Ok(1)
            }
        }
    }
}

async fn annex(global: &GlobalArgs, command: AnnexCommand) -> anyhow::Result<i32> {
    let config = global.config(None)?;
    let db = crate::db::connect(&config).await?;
    match command {
        AnnexCommand::Render { org, out } => {
            let org = app::orgs::service::find_by_short(&db, &org).await?;
            let pdf = app::annex::service::draft_pdf(&db, org.id, now()).await?;
            write_atomically(&out, &pdf)?;
            println!(
                "Draft annex of {} written to {} ({} bytes, unsigned).",
                org.legal_name,
                out.display(),
                pdf.len()
            );
            Ok(0)
        }
        AnnexCommand::Publish { org, out } => {
            let setup = crate::secrets::signing_setup(&config)?;
            let org = app::orgs::service::find_by_short(&db, &org).await?;
            let published = app::annex::publish::publish_for(
                &db,
                &setup,
                org.id,
                &AuditActor::system("cli"),
                now(),
                &config.public_url,
            )
            .await?;
            write_atomically(&out, &published.pdf)?;
            let info = published.info;
            println!(
                "Version {} of the annex of {} published (Stand {}), written to {}.\nSHA-256 {}\nSigned by {}{}",
                info.version,
                org.legal_name,
                info.stand,
                out.display(),
                info.sha256,
                info.signer,
                if info.self_signed {
                    " (self-signed: readers will show the signer as not trusted)"
                } else {
                    ""
                }
            );
            Ok(0)
        }
        AnnexCommand::Verify { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let check = match app::pdf::sign::verify_pdf(&bytes) {
                Ok(check) => check,
                Err(app::pdf::sign::VerifyError::Unsigned) => {
                    println!(
                        "NOT SIGNED: the file carries no signature (a draft, or not from Nachweis)."
                    );
                    return Ok(1);
                }
                Err(e) => {
                    println!("Signature INVALID: {e}.");
                    return Ok(1);
                }
            };
            if !check.covers_whole_file {
                println!(
                    "Signature valid, but the file was extended after signing: the signature does not cover all of it."
                );
                return Ok(1);
            }
            println!("Signature valid (signer {}).", check.signer_subject);
            match app::annex::publish::by_sha256(&db, &check.file_sha256).await? {
                Some((row, org)) => {
                    println!(
                        "This is version {} of the annex of {} (Stand {}), published {} by {}.\nSHA-256 {}",
                        row.version,
                        org.legal_name,
                        row.stand.format("%d.%m.%Y"),
                        row.published_at.format("%Y-%m-%d %H:%M UTC"),
                        row.published_by_label,
                        row.sha256
                    );
                    Ok(0)
                }
                None => {
                    println!(
                        "The file matches no publication stored in this installation (SHA-256 {}).",
                        check.file_sha256
                    );
                    Ok(1)
                }
            }
        }
    }
}

async fn tom_import(
    global: &GlobalArgs,
    org: &str,
    file: &std::path::Path,
    assign_unmapped: Option<&str>,
) -> anyhow::Result<i32> {
    use app::toms::import::{self, Place, Target};
    let config = global.config(None)?;
    let db = crate::db::connect(&config).await?;
    let org = app::orgs::service::find_by_short(&db, org).await?;
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let text = match import::decode(&bytes) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return Ok(2);
        }
    };
    let (blocks, mut targets, cats) = match import::suggest(&db, org.id, &text).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return Ok(2);
        }
    };
    if let Some(wanted) = assign_unmapped {
        let w = wanted.trim().trim_end_matches('.').to_lowercase();
        let Some((_, id, _)) = cats.iter().find(|(label, _, _)| {
            let (number, title) = label.split_once(". ").unwrap_or((label, ""));
            number == w || title.to_lowercase() == w
        }) else {
            eprintln!(
                "--assign-unmapped: no category \"{wanted}\" (give its number, e.g. 3.1, or its title)"
            );
            return Ok(2);
        };
        for t in targets.iter_mut().filter(|t| **t == Target::Unassigned) {
            *t = Target::Category(*id);
        }
    }
    let label = |t: &Target| match t {
        Target::Intro => "Einleitung".to_owned(),
        Target::Category(id) => cats
            .iter()
            .find(|(_, c, _)| c == id)
            .map(|(l, _, _)| l.clone())
            .unwrap_or_default(),
        Target::Skip => "(not imported)".to_owned(),
        Target::Unassigned => "UNMAPPED".to_owned(),
    };
    for (b, t) in blocks.iter().zip(&targets) {
        let excerpt: String = b.text.chars().take(70).collect();
        let from = match (&b.heading, b.place) {
            (_, Place::AfterEnd) => "after the Stand line".to_owned(),
            (Some(h), _) => h.clone(),
            (None, _) => "before the first heading".to_owned(),
        };
        println!("{:<40} <- [{from}] {excerpt}", label(t));
    }
    let open = targets.iter().filter(|t| **t == Target::Unassigned).count();
    if open > 0 {
        eprintln!(
            "{open} part(s) could not be mapped to a category (marked UNMAPPED above). Nothing was imported; use --assign-unmapped <category> or the import page."
        );
        return Ok(1);
    }
    let summary = import::plan_and_store(
        &db,
        now(),
        &AuditActor::system("cli"),
        org.id,
        &blocks,
        &targets,
        &cats,
    )
    .await?;
    println!(
        "Imported {} measures into {}{}{}.",
        summary.measures,
        org.legal_name,
        if summary.intro {
            ", introduction replaced"
        } else {
            ""
        },
        if summary.skipped > 0 {
            format!(
                ", {} part(s) after the Stand line not imported",
                summary.skipped
            )
        } else {
            String::new()
        }
    );
    Ok(0)
}

/// Writes `bytes` next to `path` first and renames: never a half-written file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| anyhow::anyhow!("cannot write into {}: {e}", dir.display()))?;
    tmp.write_all(bytes)?;
    #[cfg(unix)]
    {
        // A document to hand out, not a secret: the usual file mode.
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
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
