//! What each subcommand does. Input is checked before the database is
//! opened, so a refused command writes nothing.

use crate::cli::{
    AdvisoriesCommand, AuditCommand, Cli, Command, DEFAULT_DATA_DIR, DatabaseArgs, OrgAddArgs,
    OrgCommand, ServeArgs, TokenCommand, TokenCreateArgs, UserAddArgs, UserCommand,
};
use crate::demo::{self, DemoOutcome};
use mamori_domain::audit::ChainBreak;
use mamori_domain::organisation::{HospitalAttributes, OrgKind};
use mamori_domain::validate;
use mamori_store::secret_key::SecretKey;
use mamori_store::{AuditContext, NewAccount, NewOrganisation, Store, StoreError};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Why a command failed, and so which exit code it ends with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input on the command line or standard input: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The database could not be opened or migrated; names the setting.
    #[error("{setting}: {}", cause(source))]
    Database {
        setting: &'static str,
        source: StoreError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("audit chain broken: {0}")]
    AuditBroken(ChainBreak),
    #[error("{0}")]
    Io(String),
    /// Nothing of the input could be used (every file failed).
    #[error("{detail}")]
    Failed {
        japanese: &'static str,
        detail: String,
    },
}

/// The store's message without its own `DATABASE_URL:` prefix (the
/// setting is named once, by the caller).
fn cause(err: &StoreError) -> String {
    match err {
        StoreError::BadUrl(detail) => detail.clone(),
        other => other.to_string(),
    }
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Store(StoreError::Invalid(_)) => 2,
            _ => 1,
        }
    }

    /// The first, Japanese line of the message.
    fn japanese(&self) -> &'static str {
        match self {
            CliError::Usage(_) | CliError::Store(StoreError::Invalid(_)) => {
                "入力が正しくありません"
            }
            CliError::Database { .. } => "データベースを開けません",
            CliError::Store(StoreError::Duplicate { .. }) => "すでに登録されています",
            CliError::Store(StoreError::NotFound { .. }) => "見つかりません",
            CliError::Store(_) => "処理に失敗しました",
            CliError::AuditBroken(_) => "監査ログのハッシュ連鎖が壊れています",
            CliError::Io(_) => "入出力に失敗しました",
            CliError::Failed { japanese, .. } => japanese,
        }
    }

    /// `エラー: <日本語>` then `error: <English detail>`.
    pub fn report(&self) -> String {
        format!("エラー: {}\nerror: {self}", self.japanese())
    }
}

impl From<mamori_domain::DomainError> for CliError {
    fn from(err: mamori_domain::DomainError) -> Self {
        CliError::Usage(err.to_string())
    }
}

/// Runs one parsed command line and returns the process's exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", err.report());
            ExitCode::from(err.exit_code())
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let db = &cli.database;
    match cli.command {
        Command::Serve(args) => serve(db, args).await,
        Command::Org(OrgCommand::Add(args)) => org_add(db, args).await,
        Command::User(UserCommand::Add(args)) => user_add(db, args).await,
        Command::Token(TokenCommand::Create(args)) => token_create(db, args).await,
        Command::Migrate => migrate(db).await,
        Command::Audit(AuditCommand::Verify) => audit_verify(db).await,
        Command::Advisories(AdvisoriesCommand::Import(args)) => {
            crate::advisories::import(db, args).await
        }
        Command::Advisories(AdvisoriesCommand::Match(args)) => {
            crate::advisories::match_command(db, args).await
        }
        Command::Advisories(AdvisoriesCommand::Rematch) => crate::advisories::rematch(db).await,
        Command::Backup(args) => crate::backup::backup(db, args).await,
        Command::Restore(args) => crate::backup::restore(db, args).await,
        Command::Demo(args) => demo_command(db, args).await,
    }
}

/// Which database a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Url(String),
    DataDir(PathBuf),
}

impl Location {
    /// `DATABASE_URL` wins over the data directory; empty values count as unset.
    pub fn from_args(db: &DatabaseArgs) -> Location {
        match db.database_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => Location::Url(url.to_string()),
            _ => {
                let dir = db.data_dir.trim();
                let dir = if dir.is_empty() {
                    DEFAULT_DATA_DIR
                } else {
                    dir
                };
                Location::DataDir(PathBuf::from(dir))
            }
        }
    }

    pub(crate) fn setting(&self) -> &'static str {
        match self {
            Location::Url(_) => "DATABASE_URL (--database-url)",
            Location::DataDir(_) => "MAMORI_DATA_DIR (--data-dir)",
        }
    }

    /// Said to the operator at start: which database, without secrets.
    fn describe(&self, store: &Store) -> String {
        match (self, store.backend()) {
            (Location::DataDir(dir), _) => {
                format!("SQLite {}", dir.join("mamori.db").display())
            }
            (Location::Url(_), mamori_store::Backend::Postgres) => {
                "PostgreSQL (DATABASE_URL)".to_string()
            }
            (Location::Url(_), mamori_store::Backend::Sqlite) => {
                "SQLite (DATABASE_URL)".to_string()
            }
        }
    }
}

/// Opens the database and applies pending migrations. Errors name the
/// setting the database came from and the cause.
pub async fn open(location: &Location) -> Result<(Store, mamori_store::MigrationReport), CliError> {
    let setting = location.setting();
    let opened = match location {
        Location::Url(url) => Store::connect(url).await,
        Location::DataDir(dir) => Store::open_data_dir(dir).await,
    };
    let store = opened.map_err(|source| CliError::Database { setting, source })?;
    let report = store
        .migrate()
        .await
        .map_err(|source| CliError::Database { setting, source })?;
    let store = match secret_key(location)? {
        Some(key) => {
            let store = store.with_secret_key(key);
            store.seal_plain_totp_secrets().await?;
            store
        }
        None => store,
    };
    let store = match object_storage() {
        Some(config) => {
            let store = store.with_object_storage(&config)?;
            store.check_object_storage().await?;
            store
        }
        None => store,
    };
    Ok((store, report))
}

/// The bucket for stored files, when `MAMORI_S3_BUCKET` names one:
/// `MAMORI_S3_ENDPOINT` (MinIO, Ceph, a local service), `MAMORI_S3_REGION`,
/// `MAMORI_S3_PREFIX`; credentials from `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY` (or the machine's role).
fn object_storage() -> Option<mamori_store::ObjectStorageConfig> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let bucket = var("MAMORI_S3_BUCKET")?;
    Some(mamori_store::ObjectStorageConfig {
        bucket,
        endpoint: var("MAMORI_S3_ENDPOINT"),
        region: var("MAMORI_S3_REGION"),
        access_key_id: None,
        secret_access_key: None,
        prefix: var("MAMORI_S3_PREFIX").unwrap_or_default(),
    })
}

/// The key TOTP secrets are sealed with: `MAMORI_SECRET_KEY` (64 hex
/// digits or base64 of 32 bytes), else the file `MAMORI_SECRET_KEY_FILE`,
/// else `secret.key` in the data directory, made on first start. With a
/// database URL and neither setting there is no key (said at `serve`).
fn secret_key(location: &Location) -> Result<Option<SecretKey>, CliError> {
    let from = |setting: &str, text: &str| {
        SecretKey::from_text(text).map_err(|e| CliError::Usage(format!("{setting}: {e}")))
    };
    if let Ok(text) = std::env::var("MAMORI_SECRET_KEY")
        && !text.trim().is_empty()
    {
        return from("MAMORI_SECRET_KEY", &text).map(Some);
    }
    let path = match std::env::var("MAMORI_SECRET_KEY_FILE") {
        Ok(path) if !path.trim().is_empty() => PathBuf::from(path.trim()),
        _ => match location {
            Location::DataDir(dir) => dir.join(SECRET_KEY_FILE),
            Location::Url(_) => return Ok(None),
        },
    };
    if !path.exists() {
        write_new_key(&path)?;
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::Io(format!("{}: {e}", path.display())))?;
    from(&path.display().to_string(), &text).map(Some)
}

pub(crate) const SECRET_KEY_FILE: &str = "secret.key";

/// A new random key in a file only its owner reads, created atomically
/// (two processes starting together agree on one key).
fn write_new_key(path: &Path) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::Io(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            writeln!(file, "{}", SecretKey::generate_text()).map_err(io)?;
            file.sync_all().map_err(io)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}

pub(crate) fn operator() -> AuditContext {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    AuditContext::operator(format!("cli:{user}"))
}

async fn org_add(db: &DatabaseArgs, args: OrgAddArgs) -> Result<(), CliError> {
    let name = validate::display_name("name", &args.name)?;
    let hospital = match (args.prefecture, args.beds, args.founder, args.recruitment) {
        (Some(p), Some(b), Some(f), Some(r)) => Some(HospitalAttributes::new(p, b, f, r)?),
        (None, None, None, None) => None,
        _ => {
            return Err(CliError::Usage(
                "--prefecture, --beds, --founder and --recruitment go together".into(),
            ));
        }
    };
    if hospital.is_some() && args.kind != OrgKind::Hospital {
        return Err(CliError::Usage(format!(
            "--prefecture, --beds, --founder and --recruitment are for hospitals, not {}",
            args.kind
        )));
    }
    let (store, _) = open(&Location::from_args(db)).await?;
    let org = store
        .create_organisation(
            &operator(),
            NewOrganisation {
                kind: args.kind,
                name,
                hospital,
            },
        )
        .await?;
    eprintln!(
        "組織を登録しました / organisation registered: {} {} (id {})",
        org.kind, org.name, org.id
    );
    println!("{}", org.id);
    store.close().await;
    Ok(())
}

/// The password for `user add`: the first line of standard input when it is
/// not a terminal and not empty; `None` means "generate one".
fn password_from_stdin() -> Result<Option<String>, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut input = String::new();
    stdin
        .lock()
        .read_to_string(&mut input)
        .map_err(|e| CliError::Io(format!("standard input: {e}")))?;
    let line = input.lines().next().unwrap_or("");
    if line.is_empty() {
        return Ok(None);
    }
    validate::new_password(line)?;
    Ok(Some(line.to_string()))
}

async fn user_add(db: &DatabaseArgs, args: UserAddArgs) -> Result<(), CliError> {
    let email = validate::email(&args.email)?;
    let display_name = validate::display_name("name", &args.name)?;
    let org_key = args.org.trim();
    if org_key.is_empty() {
        return Err(CliError::Usage("--org: must not be empty".into()));
    }
    let supplied = password_from_stdin()?;
    let generated = supplied.is_none();
    let password = match supplied {
        Some(p) => p,
        None => mamori_store::credentials::random_token(15),
    };
    let (store, _) = open(&Location::from_args(db)).await?;
    let org = store.find_organisation(org_key).await?;
    let account = store
        .create_account(
            &operator(),
            NewAccount {
                org: org.id,
                email,
                display_name,
                role: args.role,
                language: args.language,
                password: password.clone(),
            },
        )
        .await?;
    eprintln!(
        "アカウントを作成しました / account created: {} ({} {}, {})",
        account.email, org.kind, org.name, account.role
    );
    println!("{}", account.id);
    if generated {
        println!("初期パスワード（一度だけ表示）/ initial password (shown once): {password}");
    }
    store.close().await;
    Ok(())
}

async fn token_create(db: &DatabaseArgs, args: TokenCreateArgs) -> Result<(), CliError> {
    let email = validate::email(&args.email)?;
    let name = validate::display_name("name", &args.name)?;
    let (store, _) = open(&Location::from_args(db)).await?;
    let account = store.account_by_email(&email).await?;
    let (token, record) = store
        .create_api_token(&operator(), account.id, &name)
        .await?;
    eprintln!(
        "API トークンを作成しました（再表示できません）/ API token created for {} (name \"{}\"; shown only now):",
        account.email, record.name
    );
    println!("{token}");
    store.close().await;
    Ok(())
}

async fn migrate(db: &DatabaseArgs) -> Result<(), CliError> {
    let (store, report) = open(&Location::from_args(db)).await?;
    if report.applied.is_empty() {
        println!("適用したマイグレーション / applied migrations: なし / none");
    } else {
        println!("適用したマイグレーション / applied migrations:");
        for (version, name) in &report.applied {
            println!("  {version:04} {name}");
        }
    }
    println!("現在のスキーマ版 / schema version: {}", report.current);
    store.close().await;
    Ok(())
}

async fn audit_verify(db: &DatabaseArgs) -> Result<(), CliError> {
    let (store, _) = open(&Location::from_args(db)).await?;
    let outcome = store.verify_audit_chain().await;
    store.close().await;
    match outcome? {
        Ok(records) => {
            println!(
                "OK: {records} records（監査ログの連鎖は正常です / the audit chain is intact）"
            );
            Ok(())
        }
        Err(broken) => Err(CliError::AuditBroken(broken)),
    }
}

async fn serve(db: &DatabaseArgs, args: ServeArgs) -> Result<(), CliError> {
    let public_url = match args.public_url.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => {
            let parsed = url::Url::parse(url).map_err(|e| {
                CliError::Usage(format!("MAMORI_PUBLIC_URL (--public-url): `{url}`: {e}"))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(CliError::Usage(format!(
                    "MAMORI_PUBLIC_URL (--public-url): `{url}` is not an http(s) address"
                )));
            }
            Some(url.trim_end_matches('/').to_string())
        }
        _ => None,
    };
    let mailer = match args.smtp_url.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => Some(
            crate::jobs::Mailer::new(url, &args.mail_from, public_url.as_deref().unwrap_or(""))
                .map_err(CliError::Usage)?,
        ),
        _ => None,
    };
    if !(1..=24 * 60).contains(&args.deadline_check_minutes) {
        return Err(CliError::Usage(format!(
            "MAMORI_DEADLINE_CHECK_MINUTES (--deadline-check-minutes): {} is not between 1 and 1440",
            args.deadline_check_minutes
        )));
    }
    if !(1..=24 * 60 * 60).contains(&args.advisory_inbox_every_secs) {
        return Err(CliError::Usage(format!(
            "MAMORI_ADVISORY_INBOX_EVERY_SECS (--advisory-inbox-every-secs): {} is not between 1 and 86400",
            args.advisory_inbox_every_secs
        )));
    }
    let inbox = match &args.advisory_inbox {
        Some(dir) if !dir.as_os_str().is_empty() => {
            Some(crate::inbox::Inbox::open(dir).map_err(|e| {
                CliError::Usage(format!("MAMORI_ADVISORY_INBOX (--advisory-inbox): {e}"))
            })?)
        }
        _ => None,
    };
    let listen = match args.listen.trim() {
        "" => crate::cli::DEFAULT_LISTEN,
        listen => listen,
    };
    // Bind first: a taken port fails before anything is written.
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        CliError::Io(format!(
            "MAMORI_LISTEN (--listen): cannot listen on {listen}: {e}"
        ))
    })?;
    let address = listener
        .local_addr()
        .map_err(|e| CliError::Io(format!("listening address: {e}")))?;
    let location = Location::from_args(db);
    let (store, report) = open(&location).await?;
    tracing::info!(
        database = %location.describe(&store),
        schema = report.current,
        applied = report.applied.len(),
        "database ready"
    );
    if matches!(location, Location::Url(_))
        && std::env::var_os("MAMORI_SECRET_KEY").is_none()
        && std::env::var_os("MAMORI_SECRET_KEY_FILE").is_none()
    {
        println!(
            "  注意: MAMORI_SECRET_KEY が未設定のため TOTP シークレットは暗号化されません / MAMORI_SECRET_KEY is not set: TOTP secrets are stored unsealed"
        );
    }
    if args.demo {
        print_demo(demo::seed_demo_if_empty(&store).await?);
    }
    let config = mamori_web::WebConfig {
        tls: args.tls,
        trust_forwarded_for: args.trust_forwarded_for,
        public_url,
    };
    println!(
        "Mamori を起動しました / listening on http://{address}/ ({})",
        location.describe(&store)
    );
    println!(
        "  保存ファイルの置き場所 / stored files: {}",
        store.file_storage_label()
    );
    if args.tls {
        println!(
            "  TLS はプロキシが終端します / TLS is terminated by the proxy in front (Secure cookies, HSTS)"
        );
    }
    if mailer.is_none() {
        println!(
            "  SMTP は未設定です。通知メールは「送信待ちメール」画面に残ります / no SMTP server: mail stays in the outbox page"
        );
    }
    if let Some(inbox) = &inbox {
        println!(
            "  脆弱性情報の取り込み用フォルダ / advisory inbox: {} (every {} s)",
            inbox.dir().display(),
            args.advisory_inbox_every_secs
        );
    }
    let _ = std::io::stdout().flush();
    crate::jobs::spawn(
        store.clone(),
        mailer,
        std::time::Duration::from_secs(
            args.deadline_check_seconds
                .unwrap_or(args.deadline_check_minutes * 60)
                .max(1),
        ),
        inbox.map(|inbox| {
            (
                inbox,
                std::time::Duration::from_secs(args.advisory_inbox_every_secs),
            )
        }),
    );
    tracing::info!(%address, tls = args.tls, "serving");
    let served = mamori_web::serve(store.clone(), listener, config).await;
    store.close().await;
    served.map_err(|e| CliError::Io(format!("server: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

/// `mamori demo [--scale N] [--seed S]`: the demo programme, then N
/// synthetic hospitals (refused, changing nothing, on a database that has
/// had a `--scale` run or holds other data).
async fn demo_command(db: &DatabaseArgs, args: crate::cli::DemoArgs) -> Result<(), CliError> {
    let location = Location::from_args(db);
    let (store, _) = open(&location).await?;
    eprintln!("データベース / database: {}", location.describe(&store));
    let outcome = if args.scale == 0 {
        print_demo(demo::seed_demo_if_empty(&store).await?);
        Ok(())
    } else {
        let options = demo::ScaleOptions {
            hospitals: args.scale as usize,
            seed: args.seed,
        };
        match demo::seed_scale(&store, &options).await? {
            demo::ScaleOutcome::Done(summary) => {
                print_scale(&summary, args.seed);
                print_demo_accounts(&demo::demo_accounts());
                Ok(())
            }
            demo::ScaleOutcome::Refused(detail) => Err(CliError::Failed {
                japanese: "合成データを追加しませんでした（変更なし）",
                detail,
            }),
        }
    };
    store.close().await;
    outcome
}

fn print_scale(s: &demo::ScaleSummary, seed: u64) {
    println!(
        "合成データを追加しました / synthetic data added: {} hospitals in {} prefectures, {} synthetic companies (seed {seed}), {:.1} s",
        s.hospitals,
        s.prefectures,
        s.companies,
        s.elapsed.as_secs_f64()
    );
    println!("  事業 / programmes:");
    for p in &s.programmes {
        println!("    {p}");
    }
    println!("  調査の状態 / engagements by state:");
    for (state, n) in &s.states {
        println!("    {:<18} {n}", state.slug());
    }
    println!(
        "  台帳 / ledgers: {} hospitals, {}–{} assets each",
        s.ledgers, s.smallest_ledger, s.largest_ledger
    );
    println!("  行数 / rows (whole database):");
    for (table, n) in &s.tables {
        println!("    {table:<24} {n}");
    }
    println!(
        "  調査員アカウント / synthetic surveyors: surveyor-s01…s{:02}@demo.mamori.example",
        demo::SCALE_COMPANY_COUNT
    );
}

fn print_demo(outcome: DemoOutcome) {
    match outcome {
        DemoOutcome::Seeded(summary) => {
            println!(
                "デモ用の架空の事業を登録しました / demo programme created: {} organisations, {} engagements",
                summary.organisations.len(),
                summary.engagements.len()
            );
            print_demo_accounts(&summary.accounts);
        }
        DemoOutcome::AlreadyThere(accounts) => {
            println!("デモデータは登録済みです / demo data already present");
            print_demo_accounts(&accounts);
        }
        DemoOutcome::NotEmpty => {
            println!(
                "組織が登録済みのためデモデータは追加しません / the database already has organisations: demo data not added"
            );
        }
    }
}

fn print_demo_accounts(accounts: &[demo::DemoAccount]) {
    println!(
        "デモ用アカウント / demo accounts — パスワード / password: {}",
        demo::DEMO_PASSWORD
    );
    println!("  {:<36} {:<30} 組織 / organisation", "e-mail", "role");
    for account in accounts {
        println!(
            "  {:<36} {:<30} {}",
            account.email, account.role_label, account.org_name
        );
    }
    println!(
        "  ※ デモ用パスワードは公開されています。本番では --demo を使わないでください / the demo password is public: never use --demo in production"
    );
}
