//! Least privilege: inspect the role the server was given, and when it can do more than read,
//! run the tools as restricted roles instead (or refuse to start).
//!
//! The restricted roles are ordinary login roles that the server creates and owns (marked by a
//! comment): `mcp_reader` holds `pg_read_all_data` and nothing else, `mcp_writer` (only with
//! writes enabled) `pg_read_all_data` and `pg_write_all_data`. Neither is a superuser or a member
//! of `pg_read_server_files`, `pg_write_server_files`, `pg_execute_server_program` or
//! `pg_signal_backend`, and each connects as itself — so no statement can `SET ROLE` or
//! `set_config('role', …)` its way back to the configured role. After provisioning, the server
//! logs in as each restricted role and runs the same inspection from inside its session; if that
//! finds anything, the server refuses to start.
//!
//! Their passwords are derived (HMAC-SHA-256) from `MCP_POSTGRES_ROLE_SECRET`, or else from the
//! configured URL's password, so several server instances agree on them; they are sent to
//! PostgreSQL only as SCRAM verifiers, never in clear text.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, NoTls};

use super::config::{Config, PrivilegedPolicy};
use super::db::{describe_target, DbPool, Purpose};

/// Marks roles this server created and may manage.
const MARKER: &str = "managed by the MCP postgres-server example: restricted role for its tools";

/// Predefined roles that reach outside the database or into other sessions.
const DANGEROUS_ROLES: [&str; 4] = [
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
    "pg_signal_backend",
];

/// Functions that read or write server files; revoked from PUBLIC by default.
const FILE_FUNCTIONS: [&str; 9] = [
    "pg_read_file(text)",
    "pg_read_file(text,bigint,bigint)",
    "pg_read_binary_file(text)",
    "pg_ls_dir(text)",
    "pg_stat_file(text)",
    "lo_import(text)",
    "lo_import(text,oid)",
    "lo_export(oid,text)",
    "pg_file_write(text,text,boolean)",
];

/// What a session's role may do beyond reading.
#[derive(Debug, Clone)]
pub(crate) struct RoleReport {
    /// The login role (what `RESET ROLE` returns to).
    pub(crate) session_user: String,
    /// Superuser.
    pub(crate) superuser: bool,
    /// May create roles.
    pub(crate) create_role: bool,
    /// `server_version_num`.
    pub(crate) server_version: i32,
    /// Every right beyond reading, in words; empty for a plain role.
    pub(crate) reasons: Vec<String>,
}

impl RoleReport {
    /// Whether the role holds any right beyond reading.
    pub(crate) fn is_privileged(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// Inspects the session's login role (not `current_user`: a statement could reset that).
pub(crate) async fn inspect(client: &Client) -> Result<RoleReport, tokio_postgres::Error> {
    let dangerous: Vec<&str> = DANGEROUS_ROLES.to_vec();
    let functions: Vec<&str> = FILE_FUNCTIONS.to_vec();
    let row = client
        .query_one(
            "SELECT session_user::text, r.rolsuper, r.rolcreaterole, r.rolreplication, \
                    current_setting('server_version_num')::int, \
                    ARRAY(SELECT d FROM unnest($1::text[]) AS d \
                          WHERE to_regrole(d) IS NOT NULL AND pg_has_role(session_user, d, 'MEMBER')), \
                    ARRAY(SELECT s.rolname::text FROM pg_roles s \
                          WHERE (s.rolsuper OR s.rolcreaterole OR s.rolreplication) \
                            AND s.rolname <> session_user \
                            AND pg_has_role(session_user, s.oid, 'MEMBER')), \
                    ARRAY(SELECT f FROM unnest($2::text[]) AS f \
                          WHERE to_regprocedure(f) IS NOT NULL \
                            AND has_function_privilege(session_user, to_regprocedure(f), 'EXECUTE')) \
             FROM pg_roles r WHERE r.rolname = session_user",
            &[&dangerous, &functions],
        )
        .await?;
    let session_user: String = row.try_get(0)?;
    let superuser: bool = row.try_get(1)?;
    let create_role: bool = row.try_get(2)?;
    let replication: bool = row.try_get(3)?;
    let server_version: i32 = row.try_get(4)?;
    let roles: Vec<String> = row.try_get(5)?;
    let powerful: Vec<String> = row.try_get(6)?;
    let file_functions: Vec<String> = row.try_get(7)?;
    let mut reasons = Vec::new();
    if superuser {
        reasons.push(
            "is a superuser (can read server files, run server programs and terminate any session)"
                .to_owned(),
        );
    } else {
        if create_role {
            reasons.push("has CREATEROLE (can grant itself pg_execute_server_program and other predefined roles)".to_owned());
        }
        if replication {
            reasons.push("has REPLICATION".to_owned());
        }
        for r in &roles {
            let what = match r.as_str() {
                "pg_read_server_files" => "can read server files",
                "pg_write_server_files" => "can write server files",
                "pg_execute_server_program" => "can run programs on the database server",
                _ => "can signal (cancel, terminate) other sessions",
            };
            reasons.push(format!("is a member of {r} ({what})"));
        }
        for r in &powerful {
            reasons.push(format!(
                "is a member of the privileged role {r} (and could SET ROLE to it)"
            ));
        }
        for f in &file_functions {
            reasons.push(format!("may execute {f}"));
        }
    }
    Ok(RoleReport {
        session_user,
        superuser,
        create_role,
        server_version,
        reasons,
    })
}

/// How the tools reach the database, decided at startup.
#[derive(Debug, Clone)]
pub struct Database {
    /// For reads.
    pub(crate) reader: DbPool,
    /// For `execute`; `None` when writes are disabled.
    pub(crate) writer: Option<DbPool>,
    /// The role reads run as.
    pub(crate) reader_role: String,
    /// The role writes run as.
    pub(crate) writer_role: Option<String>,
    /// The configured role, when it was replaced by restricted roles.
    pub(crate) restricted_from: Option<String>,
    /// `host:port/dbname`.
    pub(crate) target: String,
}

async fn connect_once(
    cfg: &tokio_postgres::Config,
    timeout: Duration,
) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = match tokio::time::timeout(timeout, cfg.connect(NoTls)).await {
        Ok(r) => r?,
        Err(_) => {
            // Let tokio-postgres produce its own timeout error by connecting with a tiny timeout.
            let mut quick = cfg.clone();
            quick.connect_timeout(Duration::from_millis(1));
            quick.connect(NoTls).await?
        }
    };
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("setup connection ended: {e}");
        }
    });
    Ok(client)
}

/// Runs a statement built by PostgreSQL's own `format()` (`%I` quotes identifiers, `%L`
/// literals), so names are never spliced into SQL by hand.
async fn run_format<C: GenericClient + Sync>(
    client: &C,
    template: &str,
    args: &[&(dyn ToSql + Sync)],
) -> Result<(), tokio_postgres::Error> {
    let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("${i}::text")).collect();
    let sql: String = client
        .query_one(
            &format!("SELECT format('{template}', {})", placeholders.join(", ")),
            args,
        )
        .await?
        .try_get(0)?;
    client.batch_execute(&sql).await
}

/// The password of a restricted role: HMAC-SHA-256 over its name and the database name, keyed by
/// the role secret, hex-encoded. Not over the host or port: the same database reached through
/// another address (a proxy, a replica's VIP) must get the same password, or instances would
/// keep resetting it under each other.
pub(crate) fn role_password(secret: &[u8], role: &str, database: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(b"mcp-postgres-server/v1\0");
    mac.update(role.as_bytes());
    mac.update(b"\0");
    mac.update(database.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Creates or updates a restricted role. `grants` are the only roles it may be a member of.
async fn ensure_role(
    admin: &mut Client,
    name: &str,
    password: &str,
    grants: &[&str],
    read_only: bool,
) -> Result<(), String> {
    let err =
        |e: tokio_postgres::Error| format!("while setting up the role {name}: {}", sql_error(&e));
    let tx = admin.transaction().await.map_err(err)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('mcp-postgres-server:roles'))",
        &[],
    )
    .await
    .map_err(err)?;
    let existing = tx
        .query_opt(
            "SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = $1",
            &[&name],
        )
        .await
        .map_err(err)?;
    match existing {
        Some(row) => {
            let comment: String = row.try_get(0).map_err(err)?;
            if comment != MARKER {
                return Err(format!(
                    "a role named {name} already exists and was not created by this server, so it \
                     will not take it over. Choose another name (--reader-role / --writer-role), \
                     or drop that role."
                ));
            }
        }
        None => run_format(&tx, "CREATE ROLE %I", &[&name])
            .await
            .map_err(err)?,
    }
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    run_format(
        &tx,
        "ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS \
         INHERIT PASSWORD %L",
        &[&name, &verifier],
    )
    .await
    .map_err(err)?;
    run_format(&tx, "COMMENT ON ROLE %I IS %L", &[&name, &MARKER])
        .await
        .map_err(err)?;
    if read_only {
        run_format(
            &tx,
            "ALTER ROLE %I SET default_transaction_read_only = on",
            &[&name],
        )
        .await
        .map_err(err)?;
    }
    let members: Vec<String> = tx
        .query(
            "SELECT b.rolname::text FROM pg_auth_members m \
             JOIN pg_roles b ON b.oid = m.roleid JOIN pg_roles u ON u.oid = m.member \
             WHERE u.rolname = $1",
            &[&name],
        )
        .await
        .map_err(err)?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    for m in members.iter().filter(|m| !grants.contains(&m.as_str())) {
        run_format(&tx, "REVOKE %I FROM %I", &[m, &name])
            .await
            .map_err(err)?;
    }
    for g in grants {
        run_format(&tx, "GRANT %I TO %I", &[g, &name])
            .await
            .map_err(err)?;
    }
    let db: String = tx
        .query_one("SELECT current_database()::text", &[])
        .await
        .map_err(err)?
        .try_get(0)
        .map_err(err)?;
    run_format(&tx, "GRANT CONNECT ON DATABASE %I TO %I", &[&db, &name])
        .await
        .map_err(err)?;
    tx.commit().await.map_err(err)
}

/// Creates the schema and table that remember idempotency keys.
async fn ensure_state(admin: &mut Client, schema: &str) -> Result<(), String> {
    let err = |e: tokio_postgres::Error| {
        format!(
            "writes are enabled, but the table that remembers idempotency keys could not be \
             created in schema {schema}: {}. Let the configured role CREATE in this database, or \
             create the schema for it, or pick another with --state-schema.",
            sql_error(&e)
        )
    };
    let tx = admin.transaction().await.map_err(err)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('mcp-postgres-server:state'))",
        &[],
    )
    .await
    .map_err(err)?;
    run_format(&tx, "CREATE SCHEMA IF NOT EXISTS %I", &[&schema])
        .await
        .map_err(err)?;
    run_format(
        &tx,
        "CREATE TABLE IF NOT EXISTS %I.idempotency_keys (\
           key text PRIMARY KEY, \
           statement_sha256 text NOT NULL, \
           rows_affected bigint, \
           committed_at timestamptz NOT NULL DEFAULT now())",
        &[&schema],
    )
    .await
    .map_err(err)?;
    run_format(
        &tx,
        "COMMENT ON TABLE %I.idempotency_keys IS %L",
        &[
            &schema,
            &"Idempotency keys of the MCP postgres-server execute tool: a retried call with the same key does not write twice.",
        ],
    )
    .await
    .map_err(err)?;
    tx.commit().await.map_err(err)
}

fn sql_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

fn refusal(report: &RoleReport, target: &str, why_not_restricted: &str) -> String {
    format!(
        "refusing to start: the role {role} at {target} can do more than read:\n  - {reasons}\n\n\
         Through this server's tools nobody may read server files, run server programs or \
         signal other sessions, so it will not run them as {role}. {why}\n\n\
         Do one of:\n  \
         * connect with a role that can only read (see docs/postgres.md, \"A role for the server\"):\n      \
           CREATE ROLE mcp_ro LOGIN PASSWORD '…'; GRANT pg_read_all_data TO mcp_ro;\n  \
         * or start with --privileged-role restrict (the default) using a role that may create \
         roles, so the server runs its tools as restricted roles it creates.",
        role = report.session_user,
        reasons = report.reasons.join("\n  - "),
        why = why_not_restricted,
    )
}

/// Connects, inspects the role, provisions restricted roles when needed, and builds the pools.
pub async fn connect(config: &Config) -> Result<Database, String> {
    let mut admin_cfg: tokio_postgres::Config = config.database_url.parse().map_err(|e| {
        format!("the database URL is not valid: {e} (expected postgres://user:password@host:5432/dbname)")
    })?;
    admin_cfg.connect_timeout(config.connect_timeout);
    admin_cfg.application_name("mcp-postgres-server/setup");
    let target = describe_target(&admin_cfg);
    let mut admin = connect_once(&admin_cfg, config.connect_timeout)
        .await
        .map_err(|e| {
            format!(
                "cannot connect to PostgreSQL at {target}: {}. Is it running, and are the URL's \
                 host, port, user and password right?",
                sql_error(&e)
            )
        })?;
    let report = inspect(&admin)
        .await
        .map_err(|e| format!("cannot inspect the role: {}", sql_error(&e)))?;

    let statement_ms = config.statement_timeout.as_millis();
    let reader_options = format!(
        "-c default_transaction_read_only=on -c statement_timeout={statement_ms} \
         -c idle_in_transaction_session_timeout={}",
        (statement_ms * 4).max(60_000)
    );
    let writer_options = format!("-c statement_timeout={statement_ms}");
    let mut reader_cfg = admin_cfg.clone();
    reader_cfg
        .options(reader_options)
        .application_name("mcp-postgres-server/read");
    let mut writer_cfg = admin_cfg.clone();
    writer_cfg
        .options(writer_options)
        .application_name("mcp-postgres-server/write");

    let mut restricted_from = None;
    let (reader_role, writer_role) = if !report.is_privileged() {
        let others: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = session_user AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .and_then(|r| r.try_get(0))
            .unwrap_or(0);
        if others > 0 {
            eprintln!(
                "postgres-server: note: {others} other session(s) use the role {role}; a role may \
                 cancel its own sessions, so give this server a role of its own (docs/postgres.md)",
                role = report.session_user
            );
        }
        (
            report.session_user.clone(),
            config.writes_enabled().then(|| report.session_user.clone()),
        )
    } else {
        if config.privileged == PrivilegedPolicy::Refuse {
            return Err(refusal(
                &report,
                &target,
                "--privileged-role refuse is set, so it will not create restricted roles either.",
            ));
        }
        if !(report.superuser || report.create_role) {
            return Err(refusal(
                &report,
                &target,
                "It cannot create restricted roles to use instead, because it lacks CREATEROLE.",
            ));
        }
        if report.server_version < 140_000 {
            return Err(refusal(
                &report,
                &target,
                "Restricted roles need PostgreSQL 14 or later (pg_read_all_data); this server is older.",
            ));
        }
        let secret: Vec<u8> = match (&config.role_secret, admin_cfg.get_password()) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(p)) if !p.is_empty() => p.to_vec(),
            _ => {
                // No shared secret: a random one (other instances will reset the password when
                // they start; set MCP_POSTGRES_ROLE_SECRET to share one).
                let mut b = [0u8; 32];
                getrandom::fill(&mut b).map_err(|e| format!("no randomness: {e}"))?;
                b.to_vec()
            }
        };
        let database = admin_cfg
            .get_dbname()
            .or(admin_cfg.get_user())
            .unwrap_or("postgres")
            .to_owned();
        let reader_pw = role_password(&secret, &config.reader_role, &database);
        ensure_role(
            &mut admin,
            &config.reader_role,
            &reader_pw,
            &["pg_read_all_data"],
            true,
        )
        .await?;
        reader_cfg
            .user(config.reader_role.clone())
            .password(reader_pw);
        let writer = if config.writes_enabled() {
            let writer_pw = role_password(&secret, &config.writer_role, &database);
            ensure_role(
                &mut admin,
                &config.writer_role,
                &writer_pw,
                &["pg_read_all_data", "pg_write_all_data"],
                false,
            )
            .await?;
            writer_cfg
                .user(config.writer_role.clone())
                .password(writer_pw);
            Some(config.writer_role.clone())
        } else {
            None
        };
        restricted_from = Some(report.session_user.clone());
        (config.reader_role.clone(), writer)
    };

    if config.writes_enabled() {
        ensure_state(&mut admin, &config.state_schema).await?;
    }
    drop(admin);

    // Check each restricted role from inside its own session.
    let mut verify = vec![(reader_cfg.clone(), reader_role.clone())];
    if let Some(w) = &writer_role {
        verify.push((writer_cfg.clone(), w.clone()));
    }
    if restricted_from.is_some() {
        for (cfg, role) in verify {
            let client = connect_once(&cfg, config.connect_timeout)
                .await
                .map_err(|e| {
                    format!(
                        "the restricted role {role} was set up, but logging in as it failed: {}. \
                     pg_hba.conf must let {role} log in with a password (scram-sha-256 or md5) \
                     from this host. Or connect with a role that can only read (docs/postgres.md).",
                        sql_error(&e)
                    )
                })?;
            let check = inspect(&client)
                .await
                .map_err(|e| format!("cannot inspect the role {role}: {}", sql_error(&e)))?;
            if check.session_user != role || check.is_privileged() {
                return Err(format!(
                    "refusing to start: the restricted role {role} still can do more than read:\n  - {}",
                    check.reasons.join("\n  - ")
                ));
            }
        }
    }

    let pool = |cfg: tokio_postgres::Config, purpose| {
        DbPool::new(
            cfg,
            config.pool_size,
            config.pool_timeout,
            config.connect_timeout,
            config.statement_timeout,
            purpose,
        )
    };
    let reader = pool(reader_cfg, Purpose::Read)?;
    let writer = match writer_role {
        Some(_) => Some(pool(writer_cfg, Purpose::Write)?),
        None => None,
    };
    Ok(Database {
        reader,
        writer,
        reader_role,
        writer_role,
        restricted_from,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_stable_and_distinct() {
        let a = role_password(b"secret", "mcp_reader", "shop");
        assert_eq!(a, role_password(b"secret", "mcp_reader", "shop"));
        assert_ne!(a, role_password(b"secret", "mcp_writer", "shop"));
        assert_ne!(a, role_password(b"other", "mcp_reader", "shop"));
        assert_eq!(a.len(), 64);
    }
}
