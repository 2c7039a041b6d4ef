//! The real `prayer-bot` binary, run as a person would: parse, import, week.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use prayer_bot::ids::GuildId;
use prayer_bot::storage::Store;

/// A Sunday: the coming prayer week is Monday 2026-11-23.
const TODAY: &str = "2026-11-22";

fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn prayer_bot(db: &Path, args: &[&str]) -> Output {
    command(db, args).output().expect("the binary runs")
}

/// The binary with `args`, the database and the fixed date, and none of the
/// caller's settings.
fn command(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_prayer-bot"));
    command.args(args);
    // `parse` touches no database, so it takes no --database.
    if args.first() != Some(&"parse") {
        command.arg("--database").arg(db);
    }
    command
        .args(["--today", TODAY])
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("DISCORD_TOKEN")
        .env_remove("DISCORD_API_URL")
        .env_remove("NO_COLOR");
    command
}

/// Runs `command` to its end, failing the test if it takes longer than a
/// few seconds (then it is killed, so a hang fails instead of hanging).
fn within_seconds(mut command: Command, what: &str) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().expect("waits").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} took more than 5 seconds");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("its output")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// How many bulletins `db` holds; 0 if there is no database at all.
fn stored(db: &Path) -> i64 {
    if db.exists() { bulletin_count(db) } else { 0 }
}

fn bulletin_count(db: &Path) -> i64 {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let store = Store::open(db.to_str().expect("a UTF-8 path"))
            .await
            .expect("the database opens");
        let count = store.bulletin_count().await.expect("counts");
        store.close().await;
        count
    })
}

fn database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("prayer-bot.db");
    (dir, db)
}

/// A new database holding `examples/week-1.txt` for the coming week.
fn database_with_example() -> (tempfile::TempDir, PathBuf) {
    let (dir, db) = database();
    let out = prayer_bot(&db, &["import", &path("examples/week-1.txt")]);
    assert!(out.status.success(), "{}", stderr(&out));
    (dir, db)
}

fn path(relative: &str) -> String {
    project(relative).to_string_lossy().into_owned()
}

#[test]
fn parse_json_prints_the_documented_shape() {
    let (_dir, db) = database();
    let out = prayer_bot(&db, &["parse", &path("examples/week-1.txt"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["title"], "IJM Prayer Requests");
    assert_eq!(json["date"], serde_json::Value::Null);
    assert_eq!(json["verse"]["reference"], "Psalm 82:3");
    assert_eq!(json["requests"][0]["region"], "Africa");
    assert_eq!(json["requests"][0]["kind"], "praise");
    // It praises, and asks for prayer too: it gets the buttons.
    assert_eq!(json["requests"][0]["prayable"], true);
    assert_eq!(
        json["requests"][0]["countries"],
        serde_json::json!(["Kenya"])
    );
    assert_eq!(json["notes"][0]["region"], "IJM HQ & Global Partners");
    assert!(!db.exists(), "parse does not touch the database");
}

#[test]
fn import_then_week_shows_the_coming_week_as_it_will_be_posted() {
    let (_dir, db) = database();
    let out = prayer_bot(
        &db,
        &[
            "import",
            &path("examples/week-1.txt"),
            &path("examples/week-2.html"),
            &path("examples/week-3.txt"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains("week-1.txt: 6 requests in 5 regions, 1 note for the week of 2026-11-23."),
        "{printed}"
    );
    assert!(
        printed
            .contains("week-2.html: 5 requests in 4 regions, 0 notes for the week of 2026-11-30."),
        "{printed}"
    );
    assert!(
        printed.contains("week-3.txt: 4 requests in 4 regions, 1 note for the week of 2026-12-07."),
        "{printed}"
    );
    assert!(
        printed.contains("3 imported, 0 already imported, 0 failed"),
        "{printed}"
    );

    let out = prayer_bot(&db, &["week"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let week = stdout(&out);
    assert!(week.starts_with("Week of Monday 2026-11-23"), "{week}");
    let header = week
        .find("**IJM Prayer Requests** · week of Monday 23 November 2026")
        .expect("header");
    let africa = week.find("🎉 Praise · **Africa**").expect("Africa");
    let latin = week
        .find("🙏 **Latin America**\nPlease pray for Mateo,\\*")
        .expect("Latin America, escaped");
    let partners = week
        .find("🙏 **IJM HQ & Global Partners**")
        .expect("partners");
    assert!(
        header < africa && africa < latin && latin < partners,
        "{week}"
    );
    assert!(
        !week.contains("partner offices"),
        "notes are not posted as requests"
    );
}

#[test]
fn week_shows_one_region_when_asked_and_names_the_regions_when_not_found() {
    let (_dir, db) = database();
    assert!(
        prayer_bot(&db, &["import", &path("examples/week-2.html")])
            .status
            .success()
    );
    let out = prayer_bot(
        &db,
        &["week", "--week", "2026-11-23", "--region", "south asia"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let week = stdout(&out);
    assert_eq!(week.matches("🙏 **South Asia**").count(), 2, "{week}");
    assert!(!week.contains("Ghana") && !week.contains("Peru"), "{week}");

    let out = prayer_bot(&db, &["week", "--region", "Antarctica"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("its regions are: Africa, Latin America, South Asia, Southeast Asia")
    );
}

#[test]
fn reimporting_the_same_bulletin_adds_nothing_and_says_so() {
    let (_dir, db) = database();
    let file = path("examples/week-1.txt");
    assert!(prayer_bot(&db, &["import", &file]).status.success());
    let out = prayer_bot(&db, &["import", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "This bulletin is already imported, for the week of 2026-11-23. Nothing was added;"
        ),
        "{}",
        stdout(&out)
    );
    assert_eq!(bulletin_count(&db), 1);
}

#[test]
fn a_bulletin_lands_in_one_week_and_moves_to_a_named_week_until_it_is_posted() {
    let (_dir, db) = database();
    let file = path("examples/week-1.txt");
    assert!(prayer_bot(&db, &["import", &file]).status.success());
    // Named for another week: it moves there, as one bulletin in one week.
    let out = prayer_bot(&db, &["import", &file, "--week", "2026-12-07"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "moved {file}: This bulletin was imported for the week of 2026-11-23; it is now the bulletin of the week of 2026-12-07, and the week of 2026-11-23 has none."
                .replace("{file}", &file)
                .as_str()
        ),
        "{}",
        stdout(&out)
    );
    assert_eq!(bulletin_count(&db), 1);
    let moved = prayer_bot(&db, &["week", "--week", "2026-12-07"]);
    assert!(stdout(&moved).contains("Mateo"), "{}", stderr(&moved));
    let left = prayer_bot(&db, &["week", "--week", "2026-11-23"]);
    assert!(!left.status.success());
    // Without a week, it stays where it is and says so.
    let out = prayer_bot(&db, &["import", &file]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("already imported, for the week of 2026-12-07"),
        "{}",
        stdout(&out)
    );

    // Once a server has posted its week, naming another week is refused.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let store = Store::open(db.to_str().expect("a UTF-8 path"))
            .await
            .expect("opens");
        let week = "2026-12-07".parse().expect("a week");
        let stored = store
            .week(prayer_bot::storage::Scope::Shared, week)
            .await
            .expect("reads")
            .expect("stored");
        let now = chrono::Utc::now();
        store
            .lease_week_post(
                GuildId::of::<1>(),
                week,
                stored.bulletin_id,
                "test",
                now,
                now,
            )
            .await
            .expect("claims");
        store.close().await;
    });
    let out = prayer_bot(&db, &["import", &file, "--week", "2026-12-14"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already imported, for the week of 2026-12-07, which has been posted, so it was not stored for the week of 2026-12-14 too")
            && stderr(&out).contains("Nothing changed. To fill the week of 2026-12-14, import the bulletin meant for it."),
        "{}",
        stderr(&out)
    );
    assert_eq!(bulletin_count(&db), 1);
    assert!(
        !prayer_bot(&db, &["week", "--week", "2026-12-14"])
            .status
            .success()
    );
}

/// A project README's shape: it names prayer everywhere (the tool, its
/// commands, a button) and asks for none.
const README_LIKE: &str = "# prayer-bot\n\nA Discord bot that posts a weekly prayer bulletin and tracks who prayed.\n\n## Running it\n\nEach prayer request gets two buttons, I'll pray and Prayed.\n\nMembers add 🙏 to say they prayed; `/prayer who` lists them.\n\n`prayer-bot import FILE` stores a prayer bulletin.\n\nThe prayer week starts on Monday.\n\n## Tracking\n\nPrayer marks are kept per server.\n\nA praise report is shared with `/praise`.\n";

#[test]
fn a_file_that_is_not_a_bulletin_is_refused_and_nothing_is_stored() {
    let (dir, db) = database();
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, README_LIKE).expect("writes");
    let readme = readme.to_string_lossy().into_owned();
    for file in [
        readme.as_str(),
        &path("README.md"),
        &path("ARCHITECTURE.md"),
    ] {
        for command in ["parse", "import"] {
            let out = prayer_bot(&db, &[command, file]);
            assert!(!out.status.success(), "{command} {file}");
            let said = stderr(&out);
            assert!(
                said.contains(&format!(
                    "{file}: this does not look like a prayer bulletin: "
                )) && said.contains("ask for prayer or give thanks"),
                "{said}"
            );
            assert_eq!(said.lines().count(), 1, "one line: {said}");
        }
    }
    assert_eq!(stored(&db), 0, "nothing stored");
}

#[test]
fn parse_says_which_requests_are_prayable() {
    let (dir, db) = database();
    let file = dir.path().join("bulletin.txt");
    std::fs::write(
        &file,
        "IJM Prayer Requests\n\nAfrica\n• Praise God for a verdict in Kenya. Please pray with us that the police enforce it.\n\nAsia\n• Praise God for rain in Nepal.\n• Pray for the farmers of India.\n",
    )
    .expect("writes");
    let file = file.to_string_lossy().into_owned();
    let out = prayer_bot(&db, &["parse", "--json", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let prayable: Vec<(String, bool)> = json["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or_default().to_owned(),
                r["prayable"].as_bool().expect("a prayable flag"),
            )
        })
        .collect();
    assert_eq!(
        prayable,
        [
            ("praise".to_owned(), true),
            ("praise".to_owned(), false),
            ("petition".to_owned(), true)
        ]
    );
    let text = stdout(&prayer_bot(&db, &["parse", &file]));
    assert!(
        text.contains("(1 petition, 2 praises; 2 prayable)")
            && text.contains("  praise (prayable) Praise God for a verdict")
            && text.contains("  praise (thanks only) Praise God for rain"),
        "{text}"
    );
}

#[test]
fn a_dated_bulletin_goes_to_the_monday_after_its_date() {
    let (_dir, db) = database();
    let out = prayer_bot(&db, &["import", &path("tests/fixtures/dated.txt")]);
    assert!(
        stdout(&out).contains("week of 2019-04-29"),
        "{}",
        stdout(&out)
    );
    let out = prayer_bot(&db, &["week", "--week", "2019-04-29"]);
    assert!(stdout(&out).contains("(a past week)"), "{}", stdout(&out));
}

#[test]
fn files_that_are_not_bulletins_are_refused_with_one_line_naming_them() {
    let (_dir, db) = database();
    for (fixture, reason) in [
        ("tests/fixtures/empty.txt", "the file is empty"),
        ("tests/fixtures/binary.png", "the file is binary, not text"),
        (
            "tests/fixtures/not-a-bulletin.txt",
            "no prayer requests found",
        ),
        ("tests/fixtures/missing.txt", "cannot read"),
    ] {
        let file = path(fixture);
        let out = prayer_bot(&db, &["import", &file]);
        assert_eq!(out.status.code(), Some(1), "{fixture}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line for {fixture}: {err}");
        assert!(
            err.starts_with(&format!("error: {file}: {reason}")),
            "{err}"
        );
        assert!(!err.contains("panicked"));

        let out = prayer_bot(&db, &["parse", &file]);
        assert_eq!(out.status.code(), Some(1), "{fixture}");
        assert!(stderr(&out).contains(reason), "{}", stderr(&out));
    }
    assert_eq!(bulletin_count(&db), 0);
}

#[test]
fn a_file_that_fails_among_good_ones_leaves_the_good_ones_imported() {
    let (_dir, db) = database();
    let out = prayer_bot(
        &db,
        &[
            "import",
            &path("examples/week-1.txt"),
            &path("tests/fixtures/not-a-bulletin.txt"),
            &path("examples/week-3.txt"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("2 imported, 0 already imported, 1 failed"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("not-a-bulletin.txt: no prayer requests found"));
    assert_eq!(bulletin_count(&db), 2);
}

#[test]
fn a_week_not_named_by_its_monday_is_refused_and_nothing_is_stored() {
    let (_dir, db) = database();
    let out = prayer_bot(
        &db,
        &[
            "import",
            &path("examples/week-1.txt"),
            "--week",
            "2026-11-25",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        stderr(&out).contains("2026-11-25 is a Wednesday; a prayer week is named by its Monday, e.g. 2026-11-23 or 2026-11-30"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists() || bulletin_count(&db) == 0);
}

#[test]
fn week_without_any_bulletin_says_how_to_import_one() {
    let (_dir, db) = database();
    assert_eq!(bulletin_count(&db), 0, "an empty database");
    let out = prayer_bot(&db, &["week"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: no bulletin for the week of 2026-11-16 or any later week; import one with `prayer-bot import FILE`"
    );
}

/// The real bulletins in `../shared/bulletins` (present in CI) parse as a
/// reader expects. They are read in place, never copied into the project.
#[test]
fn the_shared_sample_bulletins_parse_as_a_reader_expects() {
    let dir = project("../shared/bulletins");
    if !dir.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ../shared/bulletins"
        );
        eprintln!("skipped: {} is not here", dir.display());
        return;
    }
    let (_dir, db) = database();
    let regions = [
        "Africa",
        "Latin America",
        "South Asia",
        "Southeast Asia",
        "IJM HQ & Global Partners",
    ];
    let kinds = [
        ["praise", "petition", "petition", "praise", "petition"],
        ["petition", "praise", "petition", "praise", "petition"],
        ["praise", "praise", "petition", "praise", "petition"],
    ];
    for (n, kinds) in (1..=3).zip(kinds) {
        let file = dir.join(format!("sample-{n}.txt"));
        let out = prayer_bot(&db, &["parse", &file.to_string_lossy(), "--json"]);
        assert!(out.status.success(), "sample-{n}: {}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let requests = json["requests"].as_array().expect("requests");
        let got: Vec<_> = requests
            .iter()
            .map(|r| r["region"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(got, regions, "sample-{n}");
        let got: Vec<_> = requests
            .iter()
            .map(|r| r["kind"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(got, kinds, "sample-{n}");
        assert!(
            json["title"]
                .as_str()
                .unwrap_or("")
                .starts_with("IJM Prayer Request")
        );
        assert!(
            json["verse"]["reference"]
                .as_str()
                .is_some_and(|r| r.contains(':'))
        );
        assert_eq!(
            json["notes"][0]["text"],
            "IJM has partner offices in Australia, Canada, Germany, the Netherlands and the U.K."
        );
        for request in requests {
            let text = request["text"].as_str().unwrap_or("");
            assert!(
                !text.contains("Read the full story") && !text.contains('\u{a0}'),
                "{text}"
            );
            assert!(
                !text.contains(".He ") && !text.contains(",Hidden"),
                "{text}"
            );
        }
    }
}

/// A bulletin unlike any other: `n` makes its text, and so its fingerprint,
/// its own.
fn write_bulletin(dir: &Path, n: usize) -> PathBuf {
    let file = dir.join(format!("bulletin-{n}.txt"));
    std::fs::write(
        &file,
        format!("IJM Prayer Requests\n\nAfrica\n• Pray for the {n} families in Kenya.\n"),
    )
    .expect("a bulletin is written");
    file
}

/// The `n`th Monday from 2026-11-23, as `--week` takes it.
fn monday(n: usize) -> String {
    let first = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("a date");
    (first + chrono::Days::new(7 * n as u64)).to_string()
}

#[cfg(unix)]
#[test]
fn what_is_not_a_regular_file_or_is_too_large_is_refused_at_once_naming_it() {
    let (dir, db) = database();
    let fifo = dir.path().join("pipe.txt");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let sparse = dir.path().join("huge.txt");
    std::fs::File::create(&sparse)
        .and_then(|file| file.set_len(1 << 30))
        .expect("a sparse file of 1 GB");
    let directory = dir.path().to_string_lossy().into_owned();
    let fifo = fifo.to_string_lossy().into_owned();
    let sparse = sparse.to_string_lossy().into_owned();
    for (subcommand, file, reason) in [
        (
            "parse",
            "/dev/zero",
            "it is a character device, not a regular file",
        ),
        (
            "import",
            "/dev/urandom",
            "it is a character device, not a regular file",
        ),
        (
            "parse",
            fifo.as_str(),
            "it is a FIFO (named pipe), not a regular file",
        ),
        (
            "import",
            fifo.as_str(),
            "it is a FIFO (named pipe), not a regular file",
        ),
        (
            "import",
            directory.as_str(),
            "it is a directory, not a regular file",
        ),
        (
            "import",
            sparse.as_str(),
            "the file is 1073741824 bytes; the most allowed is 1048576 bytes",
        ),
        (
            "parse",
            sparse.as_str(),
            "the file is 1073741824 bytes; the most allowed is 1048576 bytes",
        ),
    ] {
        let what = format!("{subcommand} {file}");
        let out = within_seconds(command(&db, &[subcommand, file]), &what);
        assert_eq!(out.status.code(), Some(1), "{what}");
        assert_eq!(stderr(&out), format!("error: {file}: {reason}\n"), "{what}");
    }
    assert_eq!(stored(&db), 0);

    let out = within_seconds(
        command(&db, &["run", "--config", "/dev/zero"]),
        "run --config /dev/zero",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: settings file /dev/zero: it is a character device, not a regular file\n"
    );
}

#[test]
fn eight_imports_started_at_once_on_a_new_database_all_succeed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let files: Vec<PathBuf> = (0..8).map(|n| write_bulletin(dir.path(), n)).collect();
    // A race shows in some runs and not others; five rounds make it show.
    for round in 0..5 {
        let db = dir.path().join(format!("round-{round}.db"));
        let children: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(n, file)| {
                command(
                    &db,
                    &["import", &file.to_string_lossy(), "--week", &monday(n)],
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the binary runs")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("it ends");
            assert!(out.status.success(), "round {round}: {}", stderr(&out));
        }
        assert_eq!(bulletin_count(&db), 8, "round {round}");
    }
}

/// Stdout a pipe whose reader has already gone, so every write fails with
/// a broken pipe.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer
}

#[cfg(unix)]
fn full_disk() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full opens")
}

#[test]
fn week_and_parse_end_quietly_when_the_reader_has_gone() {
    let (_dir, db) = database_with_example();
    let week_1 = path("examples/week-1.txt");
    for args in [vec!["week"], vec!["parse", week_1.as_str()]] {
        let out = command(&db, &args)
            .stdout(closed_pipe())
            .output()
            .expect("the binary runs");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn week_and_parse_say_in_words_when_the_output_cannot_be_written() {
    let (_dir, db) = database_with_example();
    let week_1 = path("examples/week-1.txt");
    for args in [vec!["week"], vec!["parse", week_1.as_str()]] {
        let out = command(&db, &args)
            .stdout(full_disk())
            .output()
            .expect("the binary runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&out),
            "error: cannot write the output: No space left on device\n",
            "{args:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn an_import_stores_every_file_whatever_becomes_of_its_output() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let files: Vec<String> = (0..3)
        .map(|n| write_bulletin(dir.path(), n).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));

    let db = dir.path().join("closed.db");
    let out = command(&db, &args)
        .stdout(closed_pipe())
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(bulletin_count(&db), 3);

    let db = dir.path().join("full.db");
    let out = command(&db, &args)
        .stdout(full_disk())
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: cannot write the output: No space left on device\n"
    );
    assert_eq!(bulletin_count(&db), 3);
}

#[test]
fn one_week_for_several_files_is_refused_and_nothing_is_imported() {
    let (_dir, db) = database();
    let out = prayer_bot(
        &db,
        &[
            "import",
            &path("examples/week-1.txt"),
            &path("examples/week-3.txt"),
            "--week",
            "2026-11-23",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --week names one week and a week holds one bulletin, but 2 files were given; import them one at a time, each with its own --week\n"
    );
    assert_eq!(stored(&db), 0);
}

#[test]
fn a_week_with_a_two_digit_year_is_refused_saying_the_format() {
    let (_dir, db) = database();
    let out = prayer_bot(
        &db,
        &["import", &path("examples/week-1.txt"), "--week", "26-11-23"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("`26-11-23` is not a date; write a week as YYYY-MM-DD, e.g. 2026-11-23"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stored(&db), 0);
}

#[test]
fn week_without_a_database_says_so_and_creates_nothing() {
    let (dir, db) = database();
    let out = prayer_bot(&db, &["week"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: no database at {}: import a bulletin first with `prayer-bot import FILE`\n",
            db.display()
        )
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the directory reads")
        .collect();
    assert!(left.is_empty(), "week created {left:?}");
}

#[test]
fn week_reads_the_database_without_writing_to_it() {
    let (_dir, db) = database_with_example();
    // Write-protected, as a backup or another user's database would be. As
    // root this stops nothing, so the bytes and the time are checked too.
    let mut permissions = std::fs::metadata(&db).expect("the database").permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&db, permissions).expect("made read-only");
    let before = std::fs::read(&db).expect("the database reads");
    let modified = std::fs::metadata(&db)
        .and_then(|m| m.modified())
        .expect("a time");
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let wal_before = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);

    let out = prayer_bot(&db, &["week"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("Week of Monday 2026-11-23"));

    assert_eq!(std::fs::read(&db).expect("the database reads"), before);
    assert_eq!(
        std::fs::metadata(&db)
            .and_then(|m| m.modified())
            .expect("a time"),
        modified
    );
    // A reader may leave SQLite's shared-memory files, but writes nothing
    // into the write-ahead log.
    assert_eq!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0),
        wal_before
    );
}

#[test]
fn an_error_for_a_database_in_a_missing_directory_names_its_cause_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("missing").join("prayer-bot.db");
    let out = prayer_bot(&db, &["import", &path("examples/week-1.txt")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(
        err.matches("unable to open database file").count() <= 1,
        "{err}"
    );
}

#[test]
fn a_bad_settings_file_is_named_in_its_error() {
    let (dir, db) = database();
    let config = dir.path().join("prayer-bot.toml");
    std::fs::write(&config, "database = 'x.db'\nfoo = 1\n").expect("written");
    let out = prayer_bot(&db, &["run", "--config", &config.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: settings file {}: line 2: unknown field `foo`, expected one of",
            config.display()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn the_log_has_no_colour_codes_when_stderr_is_not_a_terminal() {
    let (_dir, db) = database();
    let out = command(&db, &["import", &path("examples/week-1.txt")])
        .env("RUST_LOG", "debug")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("DEBUG"), "something is logged: {err}");
    assert!(!err.contains("\x1b["), "{err}");
}

#[test]
fn html_nested_fifty_thousand_deep_is_parsed_and_imported_not_a_crash() {
    let (dir, db) = database();
    let deep = dir.path().join("deep.html");
    let unclosed = dir.path().join("unclosed.html");
    std::fs::write(
        &deep,
        format!(
            "<html><body><h1>IJM Prayer Requests</h1>{}<p>Please pray for Peru.</p></body></html>",
            "<i>".repeat(50_000)
        ),
    )
    .expect("written");
    std::fs::write(
        &unclosed,
        format!(
            "<html><body>{}<p>Please pray for the families of Ghana.</p>",
            "<div>".repeat(70_000)
        ),
    )
    .expect("written");
    let parsed = prayer_bot(&db, &["parse", deep.to_str().expect("UTF-8"), "--json"]);
    assert!(parsed.status.success(), "{}", stderr(&parsed));
    assert!(stdout(&parsed).contains("Please pray for Peru."));
    let imported = prayer_bot(&db, &["import", unclosed.to_str().expect("UTF-8")]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let week = prayer_bot(&db, &["week"]);
    assert!(
        stdout(&week).contains("Please pray for the families of Ghana."),
        "{}",
        stdout(&week)
    );
}

#[test]
fn an_email_file_is_imported_as_its_decoded_text_never_as_encoded_text() {
    let (dir, db) = database();
    let eml = dir.path().join("forwarded.eml");
    // The body is base64 of a bulletin in HTML: the encoded form must never
    // be what is stored.
    let page = "<html><body><h1>IJM Prayer Requests</h1><h2>Latin America</h2>\
                <ul><li>Please pray for Mateo in Bolivia as he testifies.</li></ul></body></html>";
    let encoded = base64(page.as_bytes());
    std::fs::write(
        &eml,
        format!(
            "From: IJM <prayer@example.org>\r\nSubject: =?UTF-8?B?SUpNIFByYXllciBSZXF1ZXN0cw==?=\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
        ),
    )
    .expect("written");
    let imported = prayer_bot(&db, &["import", eml.to_str().expect("UTF-8")]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let week = stdout(&prayer_bot(&db, &["week"]));
    assert!(
        week.contains("Please pray for Mateo in Bolivia as he testifies."),
        "{week}"
    );
    assert!(
        !week.contains(&encoded[..20]),
        "no encoded text stored: {week}"
    );
}

/// Standard base64 with padding, wrapped at 76 characters as mail does.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out.as_bytes()
        .chunks(76)
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// `--help` of `subcommand`, run without a database.
fn help(subcommand: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .args([subcommand, "--help"])
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn each_help_offers_only_what_the_command_uses_and_says_what_it_does() {
    assert!(!help("parse").contains("--database"), "{}", help("parse"));
    let week = help("week");
    assert!(week.contains("--database"), "{week}");
    assert!(
        !week.contains("Created and migrated"),
        "week never creates a database: {week}"
    );
    assert!(week.contains("never created"), "{week}");
    let import = help("import");
    assert!(import.contains("exactly one file"), "{import}");
    assert!(help("backup").contains("VACUUM INTO"));
}

#[test]
fn backup_copies_the_database_and_never_overwrites_a_file() {
    let (dir, db) = database_with_example();
    let copy = dir.path().join("copy.db");
    let out = prayer_bot(&db, &["backup", &copy.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 bulletin in 0 servers"),
        "{}",
        stdout(&out)
    );
    assert_eq!(bulletin_count(&copy), 1, "the copy holds the bulletin");
    let again = prayer_bot(&db, &["backup", &copy.to_string_lossy()]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    let (_empty, missing) = database();
    let none = prayer_bot(
        &missing,
        &["backup", &dir.path().join("x.db").to_string_lossy()],
    );
    assert_eq!(none.status.code(), Some(1));
    assert!(
        stderr(&none).contains("nothing to back up"),
        "{}",
        stderr(&none)
    );
    assert!(!missing.exists(), "backup never creates a database");
}

/// The unit in `deploy/`: `systemd-analyze verify` where the machine has
/// it; here, what the bot needs of it, read as systemd reads it.
#[test]
fn the_systemd_unit_runs_the_bot_on_an_absolute_database_and_stops_it_gently() {
    let text = std::fs::read_to_string(project("deploy/prayer-bot.service")).expect("the unit");
    let settings: Vec<(&str, &str)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .collect();
    let value = |key: &str| -> Vec<&str> {
        settings
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .collect()
    };
    for section in ["[Unit]", "[Service]", "[Install]"] {
        assert!(text.contains(section), "{section}");
    }
    let exec = value("ExecStart");
    assert_eq!(exec.len(), 1);
    assert!(
        exec[0].starts_with('/') && exec[0].ends_with("prayer-bot run"),
        "{exec:?}"
    );
    let database = value("Environment")
        .into_iter()
        .find_map(|v| v.strip_prefix("DATABASE_URL="))
        .expect("DATABASE_URL is set");
    assert!(
        database.starts_with('/'),
        "an absolute database: {database}"
    );
    let env_file = value("EnvironmentFile");
    assert!(
        env_file
            .iter()
            .all(|f| f.trim_start_matches('-').starts_with('/'))
    );
    assert!(
        !env_file.is_empty(),
        "the token comes from an EnvironmentFile"
    );
    assert!(
        !settings.iter().any(|(_, v)| v.contains("DISCORD_TOKEN")),
        "no token in the unit itself"
    );
    assert_eq!(value("KillSignal"), ["SIGTERM"]);
    assert_eq!(value("Restart"), ["on-failure"]);
    assert_eq!(value("NoNewPrivileges"), ["true"]);
    assert!(!value("WantedBy").is_empty());
    let dir = std::path::Path::new(database)
        .parent()
        .expect("a directory");
    assert!(
        value("ReadWritePaths").iter().any(|p| dir.starts_with(p)),
        "the database's directory is writable under ProtectSystem"
    );
    if let Ok(out) = Command::new("systemd-analyze")
        .args([
            "verify",
            &project("deploy/prayer-bot.service").to_string_lossy(),
        ])
        .output()
    {
        // Without the binary installed, verify names its absence; nothing
        // else may be wrong.
        let said = String::from_utf8_lossy(&out.stderr);
        for line in said.lines() {
            assert!(
                line.contains("/usr/local/bin/prayer-bot")
                    || line.contains("User=")
                    || line.trim().is_empty(),
                "systemd-analyze: {said}"
            );
        }
    }
}

#[test]
fn export_writes_a_servers_record_to_a_new_file_and_nothing_else() {
    let (dir, db) = database();
    let imported = prayer_bot(&db, &["import", &path("examples/week-1.txt")]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let json = dir.path().join("record.json");
    let file = json.to_str().expect("UTF-8");
    let out = prayer_bot(&db, &["export", "--guild", "42", file]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Exported server 42"),
        "{}",
        stdout(&out)
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("written")).expect("JSON");
    assert_eq!(record["guild"], "42");
    let requests = record["requests"].as_array().expect("a list");
    assert_eq!(requests.len(), 6, "{record}");
    assert!(
        requests.iter().all(|r| r.get("members").is_none()),
        "no member ids unless asked"
    );
    // An existing file is never overwritten; a name that says no format is refused.
    let again = prayer_bot(&db, &["export", "--guild", "42", file]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    let txt = dir.path().join("record.txt");
    let refused = prayer_bot(
        &db,
        &["export", "--guild", "42", txt.to_str().expect("UTF-8")],
    );
    assert!(
        stderr(&refused).contains("must end in .json or .csv"),
        "{}",
        stderr(&refused)
    );
    assert!(!txt.exists());
    let csv = dir.path().join("record.csv");
    let out = prayer_bot(
        &db,
        &["export", "--guild", "42", csv.to_str().expect("UTF-8")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&csv).expect("written");
    assert!(text.starts_with("record,week,region"), "{text}");
    assert_eq!(text.lines().count(), 7, "a header and six requests: {text}");
}

#[test]
fn migrate_takes_only_a_postgres_address_and_never_shows_its_password() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("prayer-bot.db");
    let imported = prayer_bot(&db, &["import", "examples/week-1.txt"]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let elsewhere = dir.path().join("other.db");
    let to_file = prayer_bot(&db, &["migrate", "--to", elsewhere.to_str().unwrap_or("")]);
    assert!(!to_file.status.success());
    assert_eq!(
        stderr(&to_file),
        "error: --to takes a Postgres address (postgres://user:password@host/database); nothing was copied\n"
    );
    assert!(!elsewhere.exists(), "nothing is created");
    // Port 1 on loopback: nothing listens there.
    let unreachable = within_seconds(
        command(
            &db,
            &[
                "migrate",
                "--to",
                "postgres://prayer:hunter2@127.0.0.1:1/prayer",
            ],
        ),
        "migrate to a server that is not there",
    );
    assert!(!unreachable.status.success());
    let said = stderr(&unreachable);
    assert!(
        said.contains("cannot open the database postgres://prayer@127.0.0.1:1/prayer:"),
        "{said}"
    );
    assert!(!said.contains("hunter2"), "{said}");
    assert_eq!(stored(&db), 1, "the SQLite database is unchanged");
}
