//! `minewatch serve`, `users` and `audit`: the server and the people who use it.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use minewatch_store::users::{self, Role};
use minewatch_store::{audit, rows, time};

use crate::cases::DbArg;
use crate::output::{Format, print_formats};

/// `serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Serve over TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    #[command(flatten)]
    db: DbArg,
}

/// User commands.
#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user; prints a one-time password, which must be changed at the first log-in.
    Add(AddArgs),
    /// Give a user an API token for machines; prints it once.
    Token(TokenArgs),
    /// List users.
    List(DbArg),
    /// Disable a user: their sessions end and their tokens stop working.
    Disable(NameArgs),
    /// Enable a disabled user.
    Enable(NameArgs),
    /// Give a user a new one-time password (printed), ending their sessions.
    ResetPassword(NameArgs),
    /// API tokens: list them, revoke one.
    #[command(subcommand)]
    Tokens(TokensCommand),
}

/// `users disable|enable|reset-password`.
#[derive(Args)]
pub struct NameArgs {
    /// The user.
    name: String,
    #[command(flatten)]
    db: DbArg,
}

/// `users tokens …`.
#[derive(Subcommand)]
pub enum TokensCommand {
    /// Every token (or one user's): public id, owner, label, made, expires, revoked.
    List(TokenListArgs),
    /// Revoke a token by its public id.
    Revoke(RevokeArgs),
}

/// `users tokens list`.
#[derive(Args)]
pub struct TokenListArgs {
    /// Only this user's.
    #[arg(long)]
    name: Option<String>,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    db: DbArg,
}

/// `users tokens revoke`.
#[derive(Args)]
pub struct RevokeArgs {
    /// The token's public id (12 hex digits, from `users tokens list`).
    id: String,
    #[command(flatten)]
    db: DbArg,
}

/// `users add`.
#[derive(Args)]
pub struct AddArgs {
    /// Log-in name.
    #[arg(long)]
    name: String,
    /// network, grid, finance, police, coordination, auditor or admin.
    #[arg(long, value_parser = parse_role)]
    role: Role,
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
    /// Days the token lasts (1 to 366).
    #[arg(long, default_value_t = minewatch_server::accounts::TOKEN_DAYS)]
    days: i64,
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

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| "network, grid, finance, police, coordination, auditor or admin".into())
}

/// Runs `serve`.
pub fn serve(a: ServeArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let tls = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => Some(minewatch_server::TlsFiles { cert, key }),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!(
        "minewatch: serving {} on {scheme}://{}",
        minewatch_store::db::redact(&a.db.db),
        a.listen
    );
    if let Some(w) = minewatch_server::plain_http_warning(&a.listen, tls.is_some()) {
        eprintln!("minewatch: {w}");
    }
    rt.block_on(minewatch_server::serve(&a.db.db, &a.listen, tls))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Who the CLI acts as in the audit log.
const CLI_ACTOR: &str = "minewatch";

/// Runs a user command.
pub fn users(c: UsersCommand) -> Result<ExitCode> {
    use minewatch_server::accounts;
    let now = time::now();
    match c {
        UsersCommand::Add(a) => {
            let mut store = a.db.open()?;
            let (name, role) = (&a.name, a.role);
            let password =
                accounts::add_user(&mut store.conn, CLI_ACTOR, name, role, &a.region, now)?;
            let region = if a.region.is_empty() {
                "all"
            } else {
                &a.region
            };
            eprintln!(
                "minewatch: user {name} ({}, region {region}) added; one-time password (to be changed at the first log-in):",
                role.name()
            );
            println!("{password}");
        }
        UsersCommand::Token(a) => {
            let mut store = a.db.open()?;
            let (id, token) =
                accounts::add_token(&mut store.conn, CLI_ACTOR, &a.name, &a.label, a.days, now)?;
            eprintln!(
                "minewatch: API token {id} for {}, valid {} days (send as 'Authorization: Bearer …'):",
                a.name, a.days
            );
            println!("{token}");
        }
        UsersCommand::List(db) => {
            let mut store = db.open()?;
            let list = users::list(&mut store.conn)?;
            let cols = (&rows::USER_COLUMNS[..], users::User::cells);
            print_formats(Format::resolve(None), &list, cols, cols)?;
        }
        UsersCommand::Disable(a) => {
            let mut store = a.db.open()?;
            accounts::set_disabled(&mut store.conn, CLI_ACTOR, &a.name, true, now)?;
            eprintln!("minewatch: user {} disabled; their sessions ended", a.name);
        }
        UsersCommand::Enable(a) => {
            let mut store = a.db.open()?;
            accounts::set_disabled(&mut store.conn, CLI_ACTOR, &a.name, false, now)?;
            eprintln!("minewatch: user {} enabled", a.name);
        }
        UsersCommand::ResetPassword(a) => {
            let mut store = a.db.open()?;
            let password = accounts::reset_password(&mut store.conn, CLI_ACTOR, &a.name, now)?;
            eprintln!(
                "minewatch: new one-time password for {} (to be changed at the next log-in):",
                a.name
            );
            println!("{password}");
        }
        UsersCommand::Tokens(TokensCommand::List(a)) => {
            let mut store = a.db.open()?;
            let list = accounts::tokens(&mut store.conn, a.name.as_deref())?;
            let cols = (&rows::TOKEN_COLUMNS[..], users::TokenInfo::cells);
            print_formats(Format::resolve(a.format), &list, cols, cols)?;
        }
        UsersCommand::Tokens(TokensCommand::Revoke(a)) => {
            let mut store = a.db.open()?;
            accounts::revoke_token(&mut store.conn, CLI_ACTOR, &a.id, now)?;
            eprintln!("minewatch: token {} revoked", a.id);
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
            let list = audit::latest(&mut store.conn, a.limit)?;
            let cols = (&rows::AUDIT_COLUMNS[..], audit::Entry::cells);
            print_formats(Format::resolve(a.format), &list, cols, cols)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
