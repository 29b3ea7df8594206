//! The command line, as operators and scripts call it. The names here are a
//! promise (issue 2): change them only with a migration path.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use mamori_domain::organisation::{
    FounderType, Language, OrgKind, Prefecture, RecruitmentRoute, Role,
};

/// Default address of `mamori serve`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default data directory (SQLite database and, later, files).
pub const DEFAULT_DATA_DIR: &str = "./mamori-data";

/// Mamori（守り）: 病院サイバーセキュリティ調査事業の運営基盤
/// / the hospital cybersecurity survey programme platform.
#[derive(Debug, Parser)]
#[command(name = "mamori", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives. Every subcommand takes these, so that the command
/// line works on the same database as the server.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// データ用ディレクトリ（SQLite: <DIR>/mamori.db）/ data directory
    #[arg(
        long,
        value_name = "DIR",
        env = "MAMORI_DATA_DIR",
        default_value = DEFAULT_DATA_DIR,
        global = true
    )]
    pub data_dir: String,

    /// PostgreSQL（postgres://…）または sqlite://… の URL。指定するとデータ用ディレクトリより優先
    /// / database URL; wins over the data directory
    #[arg(
        long,
        value_name = "URL",
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Web アプリケーションと API を起動する / run the web application and API
    Serve(ServeArgs),
    /// 組織 / organisations
    #[command(subcommand)]
    Org(OrgCommand),
    /// 利用者アカウント / user accounts
    #[command(subcommand)]
    User(UserCommand),
    /// 個人用 API トークン / personal API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// スキーマのマイグレーションを適用する / apply database migrations
    Migrate,
    /// 監査ログ / audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 脆弱性情報（NVD・CVE 5・CSAF・JVN・KEV）/ advisories (NVD, CVE 5, CSAF, JVN, KEV)
    #[command(subcommand)]
    Advisories(AdvisoriesCommand),
    /// データベースと保存ファイルを一つのアーカイブ（zip）に書き出す。稼働中でもよい
    /// / write the database and the stored files to one archive (zip), while the server runs if need be
    Backup(BackupArgs),
    /// バックアップを空のデータ用ディレクトリに復元し、検証する（SQLite のみ）
    /// / restore a backup into an empty data directory and verify it (SQLite only)
    Restore(RestoreArgs),
    /// 架空のデモ事業を登録し、--scale で全国規模の合成データ（病院・調査・台帳・回答・工数）を追加する
    /// / seed the fictional demo programme and, with --scale, add a nationwide synthetic dataset (hospitals, engagements, ledgers, answers, hours)
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// 追加する合成病院の数（0: デモ事業だけ）/ synthetic hospitals to add (0: the demo programme only)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=50_000))]
    pub scale: u32,

    /// 乱数の種（同じ種なら同じデータ）/ random seed: the same seed gives the same data
    #[arg(long, value_name = "S", default_value_t = crate::demo::DEFAULT_SCALE_SEED)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// 書き出すアーカイブ / the archive to write
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,

    /// 既存のファイルを上書きする / overwrite FILE if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// `mamori backup` が書き出したアーカイブ / an archive written by `mamori backup`
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 待ち受けアドレス / address to listen on
    #[arg(long, value_name = "ADDR", env = "MAMORI_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: String,

    /// 空のデータベースに架空のデモ事業を登録する / fill an empty database with a fictional demo programme
    #[arg(long)]
    pub demo: bool,

    /// TLS を終端するリバースプロキシの後ろで動く（Secure Cookie と HSTS）
    /// / served over TLS by a proxy in front: Secure cookies and HSTS
    #[arg(long = "tls-proxy", env = "MAMORI_TLS")]
    pub tls: bool,

    /// X-Forwarded-For をクライアントのアドレスとして信頼する（自前のプロキシの後ろでのみ）
    /// / trust X-Forwarded-For (only behind a proxy you run)
    #[arg(long, env = "MAMORI_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// 通知メールの送信先 SMTP サーバ（未設定なら送信待ちメール画面に残る）
    /// / SMTP server for notification mail, e.g. smtps://user:pass@host:465 or smtp://user:pass@host:587?tls=required (unset: mail stays in the outbox page)
    #[arg(
        long,
        value_name = "URL",
        env = "MAMORI_SMTP_URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,

    /// 通知メールの差出人 / sender of notification mail
    #[arg(
        long,
        value_name = "ADDRESS",
        env = "MAMORI_MAIL_FROM",
        default_value = "Mamori <mamori@localhost>"
    )]
    pub mail_from: String,

    /// 利用者が Mamori にアクセスする URL（通知メールのリンクに使う） / the address people reach Mamori at, for links in mail
    #[arg(long, value_name = "URL", env = "MAMORI_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// 期限確認の間隔（分） / minutes between deadline checks
    #[arg(
        long,
        value_name = "MINUTES",
        env = "MAMORI_DEADLINE_CHECK_MINUTES",
        default_value_t = 60
    )]
    pub deadline_check_minutes: u64,

    /// For tests of several instances: the deadline check every this many
    /// seconds, instead of minutes.
    #[arg(long, hide = true, env = "MAMORI_DEADLINE_CHECK_SECONDS")]
    pub deadline_check_seconds: Option<u64>,

    /// 脆弱性情報の取り込み用フォルダ: 置かれたファイルを定期的に取り込んで照合し、done/ へ（読めなければ failed/ と理由の .error.txt へ）移す
    /// / watched folder for advisory files: each file put there is imported and matched, then moved to done/ (or, when unreadable, to failed/ beside a .error.txt giving the reason)
    #[arg(long, value_name = "DIR", env = "MAMORI_ADVISORY_INBOX")]
    pub advisory_inbox: Option<std::path::PathBuf>,

    /// 取り込み用フォルダを見る間隔（秒） / seconds between looks at the advisory folder
    #[arg(
        long,
        value_name = "SECONDS",
        env = "MAMORI_ADVISORY_INBOX_EVERY_SECS",
        default_value_t = 30
    )]
    pub advisory_inbox_every_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// 組織を登録し、その ID を表示する / register an organisation and print its id
    Add(OrgAddArgs),
}

#[derive(Debug, Args)]
pub struct OrgAddArgs {
    /// 組織の種別 / kind of organisation
    #[arg(long, value_parser = kind_parser())]
    pub kind: OrgKind,

    /// 組織名 / name
    #[arg(long)]
    pub name: String,

    /// 病院の都道府県（コード 1–47 または名称）/ hospital's prefecture (code or name)
    #[arg(long, value_parser = parse_prefecture, requires_all = ["beds", "founder", "recruitment"])]
    pub prefecture: Option<Prefecture>,

    /// 病床数 / number of beds
    #[arg(long, requires_all = ["prefecture", "founder", "recruitment"])]
    pub beds: Option<u32>,

    /// 開設者区分 / type of founder
    #[arg(long, value_parser = founder_parser(), requires_all = ["prefecture", "beds", "recruitment"])]
    pub founder: Option<FounderType>,

    /// 参加の経緯 / how the hospital was recruited
    #[arg(long, value_parser = recruitment_parser(), requires_all = ["prefecture", "beds", "founder"])]
    pub recruitment: Option<RecruitmentRoute>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// アカウントを作成する。パスワードは標準入力から（なければ生成して一度だけ表示）
    /// / create an account; the password comes from standard input, or is generated and printed once
    Add(UserAddArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// ログイン用メールアドレス / login e-mail
    #[arg(long)]
    pub email: String,

    /// 表示名 / display name
    #[arg(long)]
    pub name: String,

    /// 所属組織の ID または正確な名称 / organisation id or exact name
    #[arg(long)]
    pub org: String,

    /// 組織内の役割 / role in the organisation
    #[arg(long, value_parser = role_parser())]
    pub role: Role,

    /// 画面の言語 / language of the screens
    #[arg(long, value_parser = language_parser(), default_value = "ja")]
    pub language: Language,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// API トークンを作成し、最終行に表示する / create an API token, printed alone on the last line
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// トークンの持ち主のメールアドレス / the owner's e-mail
    #[arg(long)]
    pub email: String,

    /// トークンの名前 / a name to recognise the token by
    #[arg(long, default_value = "cli")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// ハッシュ連鎖を検証する（壊れていれば記録を示し終了コード 1）
    /// / verify the hash chain; names the first broken record and exits 1
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum AdvisoriesCommand {
    /// ファイルまたはフォルダ（再帰的）から脆弱性情報を取り込む
    /// / import advisories from files or folders (walked recursively)
    Import(AdvisoriesImportArgs),
    /// 照合結果を表示する（既定: 病院の台帳との記録済みの一致、--inventory: 機器一覧 CSV との照合）
    /// / show matches: those recorded against the hospitals' ledgers, or with --inventory the stored advisories against an inventory CSV
    Match(AdvisoriesMatchArgs),
    /// 取り込んだ脆弱性情報をすべての病院の台帳と照合し直す
    /// / match every stored advisory against every hospital's ledger again
    Rematch,
}

/// The format of an advisory file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AdvisoryFormat {
    /// ファイルごとに判別する / detect per file
    Auto,
    /// NVD CVE API 2.0（ページ・年次フィード・.json.gz）/ NVD pages, feeds, .json.gz
    Nvd,
    /// CVE JSON 5
    Cve5,
    /// CSAF 2.0
    Csaf,
    /// JVN（VULDEF・JVNRSS）
    Jvn,
    /// CISA KEV（JSON・CSV）
    Kev,
}

#[derive(Debug, Args)]
pub struct AdvisoriesImportArgs {
    /// 取り込むファイルまたはフォルダ / files or folders to import
    #[arg(value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<std::path::PathBuf>,

    /// ファイルの形式 / file format
    #[arg(long, value_enum, default_value = "auto")]
    pub format: AdvisoryFormat,

    /// 取り込んだ後に病院の台帳と照合しない（後で `advisories rematch`）
    /// / do not match the new and updated advisories against the hospitals' ledgers after importing
    #[arg(long)]
    pub no_match: bool,
}

/// How matches are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatchFormat {
    /// 桁を揃えた表 / aligned columns
    Table,
    /// JSON の配列 / a JSON array
    Json,
    /// 見出し行つき CSV / CSV with a header row
    Csv,
}

#[derive(Debug, Args)]
pub struct AdvisoriesMatchArgs {
    /// 機器一覧 CSV（hospital,asset,cpe と任意で vendor,product,version,model）
    /// / inventory CSV: hospital,asset,cpe and optionally vendor,product,version,model
    #[arg(long, value_name = "FILE.csv")]
    pub inventory: Option<std::path::PathBuf>,

    /// 出力形式 / output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: MatchFormat,

    /// この日付（YYYY-MM-DD）以降の分だけ: 記録済みの一致はその日（日本時間）以降に見つかったもの、--inventory では公開・更新されたもの
    /// / only from this date on: recorded matches found on or after it (Japan time); with --inventory, advisories published or modified on or after it
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// この病院（ID または正確な名称）の分だけ / only this hospital's matches (its id or exact name)
    #[arg(long, value_name = "HOSPITAL")]
    pub hospital: Option<String>,
}

fn slugs<T: Copy>(all: &[T], slug: fn(T) -> &'static str) -> PossibleValuesParser {
    PossibleValuesParser::new(all.iter().map(|v| slug(*v)))
}

fn kind_parser() -> impl TypedValueParser<Value = OrgKind> {
    slugs(OrgKind::ALL, OrgKind::slug).try_map(|s| OrgKind::parse(&s))
}

fn role_parser() -> impl TypedValueParser<Value = Role> {
    slugs(Role::ALL, Role::slug).try_map(|s| Role::parse(&s))
}

fn language_parser() -> impl TypedValueParser<Value = Language> {
    slugs(Language::ALL, Language::slug).try_map(|s| Language::parse(&s))
}

fn founder_parser() -> impl TypedValueParser<Value = FounderType> {
    slugs(FounderType::ALL, FounderType::slug).try_map(|s| FounderType::parse(&s))
}

fn recruitment_parser() -> impl TypedValueParser<Value = RecruitmentRoute> {
    slugs(RecruitmentRoute::ALL, RecruitmentRoute::slug).try_map(|s| RecruitmentRoute::parse(&s))
}

fn parse_prefecture(value: &str) -> Result<Prefecture, String> {
    Prefecture::parse(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn database_arguments_are_global() {
        let cli = Cli::try_parse_from([
            "mamori",
            "migrate",
            "--data-dir",
            "/tmp/x",
            "--database-url",
            "sqlite://y",
        ])
        .expect("parses");
        assert_eq!(cli.database.data_dir, "/tmp/x");
        assert_eq!(cli.database.database_url.as_deref(), Some("sqlite://y"));
    }

    #[test]
    fn unknown_kind_lists_the_valid_ones() {
        let err = Cli::try_parse_from(["mamori", "org", "add", "--kind", "clinic", "--name", "x"])
            .expect_err("refused");
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        for kind in OrgKind::ALL {
            assert!(text.contains(kind.slug()), "{text}");
        }
    }

    #[test]
    fn hospital_attributes_come_together() {
        let err = Cli::try_parse_from([
            "mamori", "org", "add", "--kind", "hospital", "--name", "x", "--beds", "10",
        ])
        .expect_err("refused");
        assert_eq!(err.exit_code(), 2);
        let ok = Cli::try_parse_from([
            "mamori",
            "org",
            "add",
            "--kind",
            "hospital",
            "--name",
            "x",
            "--beds",
            "10",
            "--prefecture",
            "島根",
            "--founder",
            "public",
            "--recruitment",
            "open-call",
        ]);
        assert!(ok.is_ok(), "{ok:?}");
    }
}
