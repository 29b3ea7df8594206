//! The `mamori` binary as operators and scripts use it: run for real, on a
//! temporary data directory (SQLite) and, when `MAMORI_TEST_DATABASE_URL`
//! is set, on a fresh PostgreSQL schema.

use mamori::demo::{self, DEMO_PASSWORD};
use mamori_domain::organisation::OrgKind;
use mamori_store::LoginOutcome;
use mamori_store::testing;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod support;

use support::{BIN, Target, targets};
const PASSWORD: &str = "correct horse battery staple";

fn data_dir(root: &Path) -> String {
    root.join("data").display().to_string()
}

/// The binary with none of the operator's settings leaking in.
fn mamori() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "DATABASE_URL",
        "MAMORI_DATA_DIR",
        "MAMORI_LISTEN",
        "MAMORI_TLS",
        "MAMORI_TRUST_FORWARDED_FOR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "warn").stdin(Stdio::null());
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Run {
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start mamori");
    if let Some(input) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("mamori ran");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn on(target: &Target, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = mamori();
    cmd.args(args).args(target.args());
    run(cmd, stdin)
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("").trim()
}

#[tokio::test(flavor = "multi_thread")]
async fn organisations_users_and_tokens_from_the_command_line() {
    for target in targets().await {
        let label = target.label();
        let hospital = on(
            &target,
            &[
                "org",
                "add",
                "--kind",
                "hospital",
                "--name",
                "島根テスト病院",
                "--prefecture",
                "島根",
                "--beds",
                "199",
                "--founder",
                "medical-corporation",
                "--recruitment",
                "company-referral",
            ],
            None,
        );
        assert_eq!(hospital.code, 0, "{label}: {hospital:?}");
        let hospital_id: i64 = last_line(&hospital.stdout).parse().expect("id printed");

        let company = on(
            &target,
            &[
                "org",
                "add",
                "--kind",
                "survey-company",
                "--name",
                "テスト調査株式会社",
            ],
            None,
        );
        assert_eq!(company.code, 0, "{label}: {company:?}");

        // Password from standard input, organisation by id.
        let user = on(
            &target,
            &[
                "user",
                "add",
                "--email",
                "Staff@Example.JP",
                "--name",
                "病院 太郎",
                "--org",
                &hospital_id.to_string(),
                "--role",
                "admin",
            ],
            Some(&format!("{PASSWORD}\n")),
        );
        assert_eq!(user.code, 0, "{label}: {user:?}");
        assert!(!user.stdout.contains(PASSWORD), "{label}: {user:?}");
        assert!(
            !user.stdout.contains("initial password"),
            "{label}: {user:?}"
        );

        // No standard input: a password is generated and printed once;
        // organisation by exact name; English screens.
        let generated = on(
            &target,
            &[
                "user",
                "add",
                "--email",
                "surveyor@example.jp",
                "--name",
                "Surveyor",
                "--org",
                "テスト調査株式会社",
                "--role",
                "member",
                "--language",
                "en",
            ],
            None,
        );
        assert_eq!(generated.code, 0, "{label}: {generated:?}");
        let generated_password = generated
            .stdout
            .lines()
            .find_map(|l| {
                l.split_once("(shown once): ")
                    .map(|(_, p)| p.trim().to_string())
            })
            .expect("generated password printed");

        let store = target.store().await;
        match store.check_login("staff@example.jp", PASSWORD, None).await {
            Ok(LoginOutcome::Success(account)) => {
                assert_eq!(account.org_id.0, hospital_id, "{label}");
                assert_eq!(account.role.slug(), "admin");
                assert_eq!(account.org_kind, OrgKind::Hospital);
            }
            other => panic!("{label}: login with the piped password: {other:?}"),
        }
        assert!(matches!(
            store
                .check_login("surveyor@example.jp", &generated_password, None)
                .await,
            Ok(LoginOutcome::Success(_))
        ));
        let hospital_org = store
            .find_organisation("島根テスト病院")
            .await
            .expect("org");
        let attributes = hospital_org.hospital.expect("hospital attributes stored");
        assert_eq!(attributes.bed_count, 199);
        assert_eq!(attributes.prefecture.code(), 32);

        let token = on(
            &target,
            &[
                "token",
                "create",
                "--email",
                "staff@example.jp",
                "--name",
                "監視スクリプト",
            ],
            None,
        );
        assert_eq!(token.code, 0, "{label}: {token:?}");
        let secret = last_line(&token.stdout);
        assert!(secret.starts_with("mamori_"), "{label}: {token:?}");
        let owner = store
            .account_for_token(secret)
            .await
            .expect("lookup")
            .expect("token works");
        assert_eq!(owner.email, "staff@example.jp");

        // Mistakes say what is wrong and exit non-zero.
        let duplicate = on(
            &target,
            &[
                "user",
                "add",
                "--email",
                "staff@example.jp",
                "--name",
                "x",
                "--org",
                "島根テスト病院",
                "--role",
                "member",
            ],
            Some(&format!("{PASSWORD}\n")),
        );
        assert_eq!(duplicate.code, 1, "{label}: {duplicate:?}");
        assert!(duplicate.stderr.contains("already exists"), "{duplicate:?}");
        let no_org = on(
            &target,
            &[
                "user",
                "add",
                "--email",
                "n@example.jp",
                "--name",
                "x",
                "--org",
                "存在しない病院",
                "--role",
                "member",
            ],
            None,
        );
        assert_eq!(no_org.code, 1, "{label}: {no_org:?}");
        assert!(no_org.stderr.contains("存在しない病院"), "{no_org:?}");
        let no_account = on(
            &target,
            &["token", "create", "--email", "nobody@example.jp"],
            None,
        );
        assert_eq!(no_account.code, 1, "{label}: {no_account:?}");
        let short = on(
            &target,
            &[
                "user",
                "add",
                "--email",
                "s@example.jp",
                "--name",
                "x",
                "--org",
                "島根テスト病院",
                "--role",
                "member",
            ],
            Some("short\n"),
        );
        assert_eq!(short.code, 2, "{label}: {short:?}");
        assert!(short.stderr.contains("password"), "{short:?}");

        let verify = on(&target, &["audit", "verify"], None);
        assert_eq!(verify.code, 0, "{label}: {verify:?}");
        assert!(verify.stdout.starts_with("OK: "), "{label}: {verify:?}");
        if let Target::DataDir(_) = target {
            store.close().await;
        }
        target.finish().await;
    }
}

#[test]
fn unknown_kind_role_or_input_lists_what_is_valid_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = data_dir(dir.path());
    let attempt = |args: &[&str]| {
        let mut cmd = mamori();
        cmd.args(args).args(["--data-dir", &data]);
        run(cmd, None)
    };

    let kind = attempt(&["org", "add", "--kind", "clinic", "--name", "x"]);
    assert_eq!(kind.code, 2, "{kind:?}");
    for valid in OrgKind::ALL {
        assert!(kind.stderr.contains(valid.slug()), "{kind:?}");
    }
    assert!(kind.stderr.contains("clinic"), "{kind:?}");

    let role = attempt(&[
        "user",
        "add",
        "--email",
        "a@example.jp",
        "--name",
        "x",
        "--org",
        "1",
        "--role",
        "boss",
    ]);
    assert_eq!(role.code, 2, "{role:?}");
    assert!(
        role.stderr.contains("admin") && role.stderr.contains("member"),
        "{role:?}"
    );

    let language = attempt(&[
        "user",
        "add",
        "--email",
        "a@example.jp",
        "--name",
        "x",
        "--org",
        "1",
        "--role",
        "admin",
        "--language",
        "fr",
    ]);
    assert_eq!(language.code, 2, "{language:?}");
    assert!(
        language.stderr.contains("ja") && language.stderr.contains("en"),
        "{language:?}"
    );

    let email = attempt(&[
        "user",
        "add",
        "--email",
        "not-an-address",
        "--name",
        "x",
        "--org",
        "1",
        "--role",
        "admin",
    ]);
    assert_eq!(email.code, 2, "{email:?}");
    assert!(email.stderr.contains("email"), "{email:?}");

    let partial = attempt(&[
        "org", "add", "--kind", "hospital", "--name", "x", "--beds", "10",
    ]);
    assert_eq!(partial.code, 2, "{partial:?}");

    let not_hospital = attempt(&[
        "org",
        "add",
        "--kind",
        "vendor",
        "--name",
        "x",
        "--prefecture",
        "1",
        "--beds",
        "10",
        "--founder",
        "public",
        "--recruitment",
        "other",
    ]);
    assert_eq!(not_hospital.code, 2, "{not_hospital:?}");

    let beds = attempt(&[
        "org",
        "add",
        "--kind",
        "hospital",
        "--name",
        "x",
        "--prefecture",
        "1",
        "--beds",
        "90000",
        "--founder",
        "public",
        "--recruitment",
        "other",
    ]);
    assert_eq!(beds.code, 2, "{beds:?}");
    assert!(beds.stderr.contains("bed"), "{beds:?}");

    let prefecture = attempt(&[
        "org",
        "add",
        "--kind",
        "hospital",
        "--name",
        "x",
        "--prefecture",
        "Atlantis",
        "--beds",
        "90",
        "--founder",
        "public",
        "--recruitment",
        "other",
    ]);
    assert_eq!(prefecture.code, 2, "{prefecture:?}");

    assert!(
        !PathBuf::from(&data).exists(),
        "a refused command must not even create the database"
    );
}

#[test]
fn a_bad_database_url_names_the_setting_and_the_cause() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = data_dir(dir.path());

    let mut malformed = mamori();
    malformed
        .env("DATABASE_URL", "mysql://admin:hunter2@db.example/mamori")
        .args(["migrate", "--data-dir", &data]);
    let malformed = run(malformed, None);
    assert_ne!(malformed.code, 0, "{malformed:?}");
    assert!(malformed.stderr.contains("DATABASE_URL"), "{malformed:?}");
    assert!(malformed.stderr.contains("postgres://"), "{malformed:?}");
    assert!(
        !malformed.stderr.contains("hunter2"),
        "password shown: {malformed:?}"
    );
    assert!(
        !PathBuf::from(&data).exists(),
        "DATABASE_URL wins over the data dir"
    );

    let mut unreachable = mamori();
    unreachable.args([
        "audit",
        "verify",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
    ]);
    let unreachable = run(unreachable, None);
    assert_ne!(unreachable.code, 0, "{unreachable:?}");
    assert!(
        unreachable.stderr.contains("DATABASE_URL"),
        "{unreachable:?}"
    );
    assert!(
        unreachable.stderr.contains("unreachable"),
        "{unreachable:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_names_the_changed_record() {
    for db in testing::all().await {
        let target = Target::Url(db);
        let label = target.label();
        for name in ["監査テスト病院", "監査テスト第二病院"] {
            let org = on(
                &target,
                &["org", "add", "--kind", "hospital", "--name", name],
                None,
            );
            assert_eq!(org.code, 0, "{label}: {org:?}");
        }
        let user = on(
            &target,
            &[
                "user",
                "add",
                "--email",
                "a@example.jp",
                "--name",
                "x",
                "--org",
                "監査テスト病院",
                "--role",
                "member",
            ],
            Some(&format!("{PASSWORD}\n")),
        );
        assert_eq!(user.code, 0, "{label}: {user:?}");

        let intact = on(&target, &["audit", "verify"], None);
        assert_eq!(intact.code, 0, "{label}: {intact:?}");
        // The shipped checklist frameworks are installed, and audited, first.
        let shipped = mamori_domain::checklist::builtin::builtin_frameworks()
            .expect("shipped frameworks")
            .len();
        let expected = format!("OK: {} records", shipped + 3);
        assert_eq!(
            last_line(&intact.stdout).split('（').next(),
            Some(expected.as_str())
        );

        let Target::Url(db) = &target else {
            unreachable!()
        };
        let changed = db
            .execute_raw(
                "UPDATE audit_events SET detail = 'kind=hospital name=別の病院' WHERE seq = 2",
            )
            .await
            .expect("tamper");
        assert_eq!(changed, 1);

        let broken = on(&target, &["audit", "verify"], None);
        assert_eq!(broken.code, 1, "{label}: {broken:?}");
        assert!(broken.stderr.contains("record 2"), "{label}: {broken:?}");
        assert!(!broken.stdout.contains("OK"), "{label}: {broken:?}");
        target.finish().await;
    }
}

#[test]
fn version_and_migrate() {
    let mut version = mamori();
    version.arg("--version");
    let version = run(version, None);
    assert_eq!(version.code, 0, "{version:?}");
    assert_eq!(
        version.stdout.trim(),
        format!("mamori {}", env!("CARGO_PKG_VERSION"))
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let data = data_dir(dir.path());
    let mut first = mamori();
    first.args(["migrate"]).env("MAMORI_DATA_DIR", &data);
    let first = run(first, None);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("0001 foundation"), "{first:?}");
    assert!(Path::new(&data).join("mamori.db").exists());
    let mut again = mamori();
    again.args(["migrate", "--data-dir", &data]);
    let again = run(again, None);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("none"), "{again:?}");
    assert!(!again.stdout.contains("0001"), "{again:?}");
}

/// Kills the server when the test ends, however it ends.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    fn start(target: &Target) -> Server {
        let mut cmd = mamori();
        cmd.args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .args(target.args())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start mamori serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads standard output until the "listening on" line; returns the URL.
    fn url(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let url = line
                        .find("http://")
                        .and_then(|at| line[at..].split_whitespace().next())
                        .map(|u| u.trim_end_matches('/').to_string());
                    self.seen.push(line);
                    if let Some(url) = url {
                        return url;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!("server exited with {status}: {:?}", self.seen);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("server closed its output: {:?}", self.seen)
                }
            }
        }
        panic!("server did not say where it listens: {:?}", self.seen);
    }

    fn output(&self) -> String {
        self.seen.join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn healthz(url: &str) -> u16 {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.get(format!("{url}/healthz")).send().await {
            Ok(response) if response.status().is_success() || Instant::now() > deadline => {
                return response.status().as_u16();
            }
            Err(err) if Instant::now() > deadline => panic!("healthz: {err}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_demo_starts_and_answers_healthz() {
    for target in targets().await {
        let label = target.label();
        {
            let mut server = Server::start(&target);
            let url = server.url();
            assert_eq!(healthz(&url).await, 200, "{label}");
            let printed = server.output();
            assert!(printed.contains(DEMO_PASSWORD), "{label}: {printed}");
            for account in demo::demo_accounts() {
                assert!(printed.contains(account.email), "{label}: {printed}");
            }
        }
        let store = target.store().await;
        let organisations = store.all_organisations().await.expect("organisations");
        assert_eq!(
            organisations
                .iter()
                .filter(|o| o.kind == OrgKind::Hospital)
                .count(),
            13,
            "{label}"
        );
        // The demo programme shows every state of the lifecycle.
        let engagements = store
            .engagements_visible_to(&mamori_store::AuditContext::operator("test"))
            .await
            .expect("engagements");
        let mut states: Vec<_> = engagements.iter().map(|e| e.state).collect();
        states.sort_unstable();
        states.dedup();
        assert_eq!(states.len(), 13, "{label}");
        assert!(matches!(
            store
                .check_login(demo::emails::SECRETARIAT_ADMIN, DEMO_PASSWORD, None)
                .await,
            Ok(LoginOutcome::Success(_))
        ));

        // A second start finds the demo and adds nothing.
        {
            let mut server = Server::start(&target);
            let url = server.url();
            assert_eq!(healthz(&url).await, 200, "{label}");
            assert!(server.output().contains("already present"), "{label}");
        }
        assert_eq!(
            store
                .all_organisations()
                .await
                .expect("organisations")
                .len(),
            organisations.len()
        );
        if let Target::DataDir(_) = target {
            store.close().await;
        }
        target.finish().await;
    }
}
