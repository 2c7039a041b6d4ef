//! Holds the invariants ARCHITECTURE.md names, by reading the sources.

use std::path::Path;

fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a readable source");
                let name = path
                    .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .expect("under the project")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((name, text));
            }
        }
    }
    assert!(files.len() > 5, "the sources were found");
    files
}

/// Source files, other than the allowed ones, that use `needle` (a path
/// such as `sqlx::`, so prose that names a crate does not count).
fn offenders(needle: &str, allowed: impl Fn(&str) -> bool) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(name, text)| !allowed(name) && text.contains(needle))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn sql_lives_only_in_the_storage_folder() {
    assert_eq!(
        offenders("sqlx::", |name| name.starts_with("src/storage/")),
        Vec::<String>::new()
    );
    // Statements, not only the crate's paths: a query written as a string
    // elsewhere would be SQL outside the store.
    for statement in ["SELECT ", "INSERT INTO", "DELETE FROM", "UPDATE "] {
        assert_eq!(
            offenders(statement, |name| name.starts_with("src/storage/")),
            Vec::<String>::new(),
            "{statement}"
        );
    }
}

#[test]
fn only_the_discord_module_knows_serenity_and_poise() {
    let discord = |name: &str| name.starts_with("src/discord");
    assert_eq!(offenders("serenity::", discord), Vec::<String>::new());
    assert_eq!(offenders("poise::", discord), Vec::<String>::new());
    assert_eq!(offenders("serenity_prelude", discord), Vec::<String>::new());
}

#[test]
fn the_pure_core_reads_no_clock_and_does_no_io() {
    let core = |name: &str| {
        name.starts_with("src/bulletins/parse")
            || [
                "src/bulletins/week.rs",
                "src/posting/render.rs",
                "src/posting/region.rs",
                "src/tracking/mod.rs",
                "src/tracking/report.rs",
                "src/tracking/search.rs",
                "src/tracking/mentions.rs",
                "src/schedule/mod.rs",
                "src/posting/buttons.rs",
                "src/ids.rs",
                "src/discord/ratelimit.rs",
            ]
            .contains(&name)
    };
    for needle in [
        "Utc::now",
        "Local::now",
        "std::fs",
        "tokio",
        "sqlx",
        "SystemTime",
    ] {
        let found: Vec<_> = sources()
            .into_iter()
            .filter(|(name, text)| core(name) && text.contains(needle))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(found, Vec::<String>::new(), "{needle} in the pure core");
    }
}

#[test]
fn the_time_is_read_in_one_place() {
    // `clock.rs` is the bot's clock; `main.rs` reads it once for the
    // command line. Everything else is handed `now` or a `Clock`.
    let readers = |name: &str| name == "src/schedule/clock.rs" || name == "src/main.rs";
    for needle in ["Utc::now", "Local::now", "SystemTime::now"] {
        let found: Vec<String> = sources()
            .into_iter()
            .filter(|(name, text)| {
                !readers(name)
                    && text
                        .split("#[cfg(test)]")
                        .next()
                        .is_some_and(|code| code.contains(needle))
            })
            .map(|(name, _)| name)
            .collect();
        assert_eq!(found, Vec::<String>::new(), "{needle} outside the clock");
    }
}

/// The lock file a store leaves beside its database is the machine's, not
/// the project's: it is ignored, and no copy of it is tracked.
#[test]
fn no_database_lock_file_is_committed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ignore = std::fs::read_to_string(root.join(".gitignore")).expect("a .gitignore");
    assert!(
        ignore.lines().any(|line| line.trim() == "*.db.lock"),
        ".gitignore ignores *.db.lock"
    );
    // In a git checkout, nothing tracked ends in `.db.lock` (outside one, as
    // in a source tarball, only the ignore rule can be checked).
    let listed = std::process::Command::new("git")
        .args(["ls-files", "--", "*.db.lock"])
        .current_dir(root)
        .output();
    if let Ok(out) = listed
        && out.status.success()
    {
        let tracked = String::from_utf8_lossy(&out.stdout);
        assert_eq!(tracked.trim(), "", "lock files tracked by git");
    }
}
