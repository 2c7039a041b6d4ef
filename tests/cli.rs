//! The real `prayer-bot` binary, run as a person would: parse, import, week.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use prayer_bot::storage::Store;

/// A Sunday: the coming prayer week is Monday 2026-11-23.
const TODAY: &str = "2026-11-22";

fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn prayer_bot(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prayer-bot"))
        .args(args)
        .arg("--database")
        .arg(db)
        .args(["--today", TODAY])
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
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
        printed.contains("week-1.txt: week of 2026-11-23, 6 requests in 5 regions"),
        "{printed}"
    );
    assert!(
        printed.contains("week-2.html: week of 2026-11-30"),
        "{printed}"
    );
    assert!(
        printed.contains("week-3.txt: week of 2026-12-07"),
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
        stdout(&out).contains("already imported for the week of 2026-11-23; nothing added"),
        "{}",
        stdout(&out)
    );
    assert_eq!(bulletin_count(&db), 1);
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
