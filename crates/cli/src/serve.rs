//! `minewatch serve`, `users` and `audit`: the server and the people who use it.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use minewatch_store::users::{self, Role};
use minewatch_store::{audit, time};

use crate::cases::DbArg;
use crate::output::{Format, write_records};

/// `serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    #[command(flatten)]
    db: DbArg,
}

/// User commands.
#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user; prints a one-time password.
    Add(AddArgs),
    /// Give a user an API token for machines; prints it once.
    Token(TokenArgs),
    /// List users.
    List(DbArg),
}

/// `users add`.
#[derive(Args)]
pub struct AddArgs {
    /// Log-in name.
    #[arg(long)]
    name: String,
    /// network, grid, finance, police, coordination, auditor or admin.
    #[arg(long)]
    role: String,
    /// Region scope (GB/T 2260 prefix; omit for everywhere).
    #[arg(long, default_value = "")]
    region: String,
    #[command(flatten)]
    db: DbArg,
}

/// `users token`.
#[derive(Args)]
pub struct TokenArgs {
    /// The user.
    #[arg(long)]
    name: String,
    /// What the token is for.
    #[arg(long, default_value = "api")]
    label: String,
    #[command(flatten)]
    db: DbArg,
}

/// Audit commands.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: exit 0 intact, 1 broken (naming the first bad entry).
    Verify(DbArg),
    /// The latest entries.
    List(ListArgs),
}

/// `audit list`.
#[derive(Args)]
pub struct ListArgs {
    /// How many.
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    db: DbArg,
}

/// Runs `serve`.
pub fn serve(a: ServeArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    eprintln!(
        "minewatch: serving {} on http://{}",
        minewatch_store::db::redact(&a.db.db),
        a.listen
    );
    rt.block_on(minewatch_server::serve(&a.db.db, &a.listen))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs a user command.
pub fn users(c: UsersCommand) -> Result<ExitCode> {
    match c {
        UsersCommand::Add(a) => {
            let role = Role::parse(&a.role).with_context(|| {
                format!(
                    "--role '{}': network, grid, finance, police, coordination, auditor or admin",
                    a.role
                )
            })?;
            let password =
                minewatch_server::auth::random_hex(12).map_err(|e| anyhow::anyhow!("{e}"))?;
            let hash = minewatch_server::auth::hash_password(&password)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut store = a.db.open()?;
            let now = time::now();
            store.conn.transaction(|c| {
                let id = users::add(c, &a.name, role, &a.region, &hash, now)?;
                audit::append(
                    c,
                    now,
                    "minewatch",
                    "user.add",
                    &format!("user:{id}"),
                    &serde_json::json!({"name": a.name, "role": role.name(), "region": a.region})
                        .to_string(),
                )?;
                Ok(())
            })?;
            eprintln!(
                "minewatch: user {} ({}, region {}) added; one-time password:",
                a.name,
                role.name(),
                if a.region.is_empty() {
                    "all"
                } else {
                    &a.region
                }
            );
            println!("{password}");
        }
        UsersCommand::Token(a) => {
            let mut store = a.db.open()?;
            let Some((user, _)) = users::by_name(&mut store.conn, &a.name)? else {
                bail!("no user {}", a.name);
            };
            let token =
                minewatch_server::auth::random_hex(32).map_err(|e| anyhow::anyhow!("{e}"))?;
            let now = time::now();
            store.conn.transaction(|c| {
                users::add_token(c, user.user_id, &token, &a.label, now)?;
                audit::append(
                    c,
                    now,
                    "minewatch",
                    "token.add",
                    &format!("user:{}", user.user_id),
                    &serde_json::json!({"label": a.label}).to_string(),
                )?;
                Ok(())
            })?;
            eprintln!(
                "minewatch: API token for {} (send as 'Authorization: Bearer …'):",
                a.name
            );
            println!("{token}");
        }
        UsersCommand::List(db) => {
            let mut store = db.open()?;
            let list = users::list(&mut store.conn)?;
            write_records(
                Format::resolve(None),
                &list,
                &["name", "role", "region", "disabled"],
                |u| {
                    vec![
                        u.name.clone(),
                        u.role.name().into(),
                        u.region.clone(),
                        u.disabled.to_string(),
                    ]
                },
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs an audit command.
pub fn audit(c: AuditCommand) -> Result<ExitCode> {
    match c {
        AuditCommand::Verify(db) => {
            let mut store = db.open()?;
            let v = audit::verify(&mut store.conn)?;
            match (v.broken_at, &v.problem) {
                (Some(at), Some(p)) => {
                    println!("audit log BROKEN at entry {at} of {}: {p}", v.entries);
                    Ok(ExitCode::from(1))
                }
                _ => {
                    println!("audit log intact: {} entries", v.entries);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        AuditCommand::List(a) => {
            let mut store = a.db.open()?;
            let rows = audit::latest(&mut store.conn, a.limit)?;
            write_records(
                Format::resolve(a.format),
                &rows,
                &["seq", "at", "actor", "action", "target", "detail"],
                |e| {
                    vec![
                        e.seq.to_string(),
                        e.at.clone(),
                        e.actor.clone(),
                        e.action.clone(),
                        e.target.clone(),
                        e.detail.clone(),
                    ]
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
