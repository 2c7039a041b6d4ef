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

/// The files of the pure core (the modules the invariant names) do no I/O
/// and read no clock, in their tests too (`Instant::now` is allowed in
/// tests: the rate limiter's tests start from it).
#[test]
fn the_pure_core_reads_no_clock_and_does_no_io() {
    let core = pure_files();
    assert!(core.len() > 5, "the pure core's files were found");
    let names: Vec<String> = core.iter().map(|s| s.name.clone()).collect();
    for needle in [
        "Utc::now",
        "Local::now",
        "std::fs",
        "std::net",
        "tokio",
        "sqlx",
        "SystemTime",
        "reqwest",
        "serenity::",
        "poise::",
    ] {
        let found: Vec<_> = sources()
            .into_iter()
            .filter(|(name, text)| names.contains(name) && text.contains(needle))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(found, Vec::<String>::new(), "{needle} in the pure core");
    }
    let instant: Vec<char> = "Instant::now".chars().collect();
    let found: Vec<&String> = core
        .iter()
        .filter(|s| {
            s.code
                .windows(instant.len())
                .any(|w| w == instant.as_slice())
        })
        .map(|s| &s.name)
        .collect();
    assert_eq!(
        found,
        Vec::<&String>::new(),
        "Instant::now in the pure core"
    );
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

// ---------------------------------------------------------------------------
// The module map: every `crate::` path a source file names is one its row of
// ARCHITECTURE.md's module map allows.
// ---------------------------------------------------------------------------

const DOC: &str = "ARCHITECTURE.md";

/// The crates that make a module impure (I/O, a runtime, Discord, SQL): a
/// file may name one only if its row lists it, and a row of the pure core
/// lists none of them.
const HEAVY_CRATES: [&str; 5] = ["tokio", "sqlx", "serenity", "poise", "reqwest"];

/// One row of the module map: a file (`src/posting/render.rs`) or a folder
/// (`src/storage/`), the crate's modules it may use and the crates it lists.
#[derive(Debug)]
struct Row {
    path: String,
    modules: Vec<String>,
    crates: Vec<String>,
}

fn architecture() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join(DOC)).expect("ARCHITECTURE.md is readable")
}

/// The lines of `doc`'s section `## heading`, up to the next `## `.
fn section<'a>(doc: &'a str, heading: &str) -> Vec<&'a str> {
    doc.lines()
        .skip_while(|line| line.trim() != format!("## {heading}"))
        .skip(1)
        .take_while(|line| !line.starts_with("## "))
        .collect()
}

/// The cells of a table row (`| a | b |`), or `None` for other lines and
/// the header's rule.
fn cells(line: &str) -> Option<Vec<&str>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    let cells: Vec<&str> = inner.split('|').map(str::trim).collect();
    (!cells
        .iter()
        .all(|c| c.chars().all(|ch| ch == '-' || ch == ':')))
    .then_some(cells)
}

/// What is written between backticks in `text`, in order.
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The rows of the module map whose path is under `src/`.
fn module_map() -> Vec<Row> {
    let doc = architecture();
    let mut rows = Vec::new();
    for line in section(&doc, "Module map") {
        let Some(cells) = cells(line) else { continue };
        let Some(path) = quoted(cells[0]).into_iter().next() else {
            continue;
        };
        if !path.starts_with("src/") {
            continue;
        }
        assert_eq!(cells.len(), 3, "{DOC}: the row of `{path}` has three cells");
        let mut modules = Vec::new();
        let mut crates = Vec::new();
        for item in cells[2].split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match quoted(item).into_iter().next() {
                Some(module) => modules.push(module),
                None => crates.push(
                    item.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                        .next()
                        .unwrap_or_default()
                        .replace('-', "_"),
                ),
            }
        }
        rows.push(Row {
            path,
            modules,
            crates,
        });
    }
    assert!(rows.len() > 10, "{DOC}'s module map was read: {rows:?}");
    rows
}

/// The module a source file is: `src/posting/render.rs` is
/// `posting::render`, `src/posting/mod.rs` is `posting`, `src/lib.rs` and
/// `src/main.rs` the crate's root.
fn module_of(file: &str) -> String {
    let path = file.strip_prefix("src/").unwrap_or(file);
    let path = path.strip_suffix(".rs").unwrap_or(path);
    let path = path.strip_suffix("/mod").unwrap_or(path);
    if path == "lib" || path == "main" {
        String::new()
    } else {
        path.replace('/', "::")
    }
}

/// The row that holds `file`: the one with the longest path that is `file`
/// or a folder above it.
fn row_of<'a>(rows: &'a [Row], file: &str) -> Option<&'a Row> {
    rows.iter()
        .filter(|row| row.path == file || (row.path.ends_with('/') && file.starts_with(&row.path)))
        .max_by_key(|row| row.path.len())
}

/// Whether `module` is `ancestor` or inside it (`a::b` is inside `a`).
fn within(module: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || module == ancestor
        || module
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// `text` with comments (doc comments too), string and character literals
/// blanked out; line breaks stay, so lines keep their numbers.
fn code_only(text: &str) -> Vec<char> {
    let src: Vec<char> = text.chars().collect();
    let mut out = src.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(src.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < src.len() {
        let at = |k: usize| src.get(i + k).copied().unwrap_or('\0');
        if at(0) == '/' && at(1) == '/' {
            let end = (i..src.len())
                .find(|&k| src[k] == '\n')
                .unwrap_or(src.len());
            blank(&mut out, i, end);
            i = end;
        } else if at(0) == '/' && at(1) == '*' {
            let (mut depth, mut k) = (1, i + 2);
            while k < src.len() && depth > 0 {
                if src[k] == '/' && src.get(k + 1) == Some(&'*') {
                    depth += 1;
                    k += 1;
                } else if src[k] == '*' && src.get(k + 1) == Some(&'/') {
                    depth -= 1;
                    k += 1;
                }
                k += 1;
            }
            blank(&mut out, i, k);
            i = k;
        } else if at(0) == 'r'
            && (at(1) == '"' || at(1) == '#')
            && (i == 0
                || !ident(src[i - 1])
                || (src[i - 1] == 'b' && (i < 2 || !ident(src[i - 2]))))
        {
            let hashes = (1..).take_while(|&k| at(k) == '#').count();
            if at(1 + hashes) != '"' {
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let mut k = i + 2 + hashes;
            while k < src.len() && !src[k..].starts_with(&close) {
                k += 1;
            }
            blank(&mut out, i, k + close.len());
            i = k + close.len();
        } else if at(0) == '"' {
            let mut k = i + 1;
            while k < src.len() && src[k] != '"' {
                k += if src[k] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, k + 1);
            i = k + 1;
        } else if at(0) == '\'' && (at(1) == '\\' || (at(2) == '\'' && at(1) != '\'')) {
            let mut k = i + 1;
            while k < src.len() && src[k] != '\'' {
                k += if src[k] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, k + 1);
            i = k + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// One source file as the architecture checks read it.
struct Source {
    name: String,
    /// The code outside `#[cfg(test)]` items, comments and literals blanked.
    code: Vec<char>,
}

/// Blanks every item marked `#[cfg(test)]` (a test module, a test-only
/// `impl`, `use` or function) and returns the names of the files declared
/// by `#[cfg(test)] mod name;`, which are test code as a whole.
fn drop_test_items(code: &mut [char]) -> Vec<String> {
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut test_files = Vec::new();
    let mut i = 0;
    while i + marker.len() <= code.len() {
        if !code[i..].starts_with(&marker) {
            i += 1;
            continue;
        }
        // The item runs to its first `;` outside braces or to the `}` that
        // closes its first `{`.
        let (start, mut k, mut depth) = (i, i + marker.len(), 0usize);
        while k < code.len() {
            match code[k] {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        k += 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    k += 1;
                    break;
                }
                _ => {}
            }
            k += 1;
        }
        let item: String = code[start + marker.len()..k].iter().collect();
        let words: Vec<&str> = item
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ';'))
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(at) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(at + 1).and_then(|w| w.strip_suffix(';'))
        {
            test_files.push(name.to_string());
        }
        for c in &mut code[start..k] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = k;
    }
    test_files
}

/// Every source file under `src/` with its non-test code; files declared
/// `#[cfg(test)] mod name;` are left out.
fn code_sources() -> Vec<Source> {
    let mut found = Vec::new();
    let mut test_files = Vec::new();
    for (name, text) in sources() {
        let mut code = code_only(&text);
        let folder = match name.rsplit_once('/') {
            Some((dir, file)) if file == "mod.rs" || file == "lib.rs" || file == "main.rs" => {
                dir.to_string()
            }
            _ => name.trim_end_matches(".rs").to_string(),
        };
        for test_mod in drop_test_items(&mut code) {
            test_files.push(format!("{folder}/{test_mod}.rs"));
            test_files.push(format!("{folder}/{test_mod}/mod.rs"));
        }
        found.push(Source { name, code });
    }
    found.retain(|s| !test_files.contains(&s.name));
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

fn line_at(code: &[char], at: usize) -> usize {
    1 + code[..at].iter().filter(|c| **c == '\n').count()
}

/// Whether `word` starts at `at` as a whole token, not inside a longer
/// name or after `::` (`foo::crate` is not the crate's root).
fn token_at(code: &[char], at: usize, word: &str) -> bool {
    if code.get(at).copied() != word.chars().next() {
        return false;
    }
    let word: Vec<char> = word.chars().collect();
    code[at..].starts_with(&word)
        && (at == 0 || {
            let before = code[at - 1];
            !(before.is_alphanumeric() || before == '_' || before == ':')
        })
}

/// The paths of a use tree starting at `i` (after `crate::`), each as its
/// segments after `prefix`: `{a::B, c::{self, D}}` gives `a::B`, `c`, `c::D`.
fn use_tree(code: &[char], mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let skip_ws = |mut i: usize| {
        while i < code.len() && code[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let mut path = prefix.to_vec();
    loop {
        i = skip_ws(i);
        if i < code.len() && code[i] == '{' {
            i += 1;
            loop {
                i = skip_ws(i);
                if i >= code.len() || code[i] == '}' {
                    return i + 1;
                }
                i = use_tree(code, i, &path, out);
                // Past an `as name` to the next `,` or the closing `}`.
                while i < code.len() && code[i] != ',' && code[i] != '}' {
                    i += 1;
                }
                if i < code.len() && code[i] == ',' {
                    i += 1;
                }
            }
        }
        let start = i;
        while i < code.len() && (code[i].is_alphanumeric() || code[i] == '_') {
            i += 1;
        }
        let name: String = code[start..i].iter().collect();
        let named = !name.is_empty();
        if named && name != "self" {
            path.push(name);
        }
        let next = skip_ws(i);
        if named && code[next..].starts_with(&[':', ':']) {
            i = next + 2;
            continue;
        }
        out.push(path);
        return i;
    }
}

/// Every crate-internal path `source` names outside its tests, as (line,
/// module path): `crate::a::b`, `super::x` resolved from the file's module,
/// and in `main.rs` the library's `prayer_bot::a`.
fn crate_paths(source: &Source) -> Vec<(usize, String)> {
    let code = &source.code;
    let own: Vec<String> = module_of(&source.name)
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut found = Vec::new();
    for i in 0..code.len() {
        let (after, base) = if token_at(code, i, "crate::") {
            (i + "crate::".len(), Vec::new())
        } else if source.name == "src/main.rs" && token_at(code, i, "prayer_bot::") {
            (i + "prayer_bot::".len(), Vec::new())
        } else if token_at(code, i, "super::") {
            let mut k = i;
            let mut base = own.clone();
            while code[k..].starts_with(&"super::".chars().collect::<Vec<_>>()) {
                base.pop();
                k += "super::".len();
            }
            (k, base)
        } else {
            continue;
        };
        let mut paths = Vec::new();
        use_tree(code, after, &base, &mut paths);
        for path in paths {
            found.push((line_at(code, i), path.join("::")));
        }
    }
    found
}

/// The crate's modules, from the files under `src/`.
fn known_modules(sources: &[Source]) -> Vec<String> {
    sources.iter().map(|s| module_of(&s.name)).collect()
}

/// The module a path names: its longest prefix that is a module.
fn module_named<'a>(path: &str, modules: &'a [String]) -> Option<&'a String> {
    modules
        .iter()
        .filter(|m| !m.is_empty() && within(path, m))
        .max_by_key(|m| m.len())
}

/// The file of a module (its `mod.rs` or `name.rs`).
fn file_of(module: &str, sources: &[Source]) -> Option<String> {
    sources
        .iter()
        .map(|s| s.name.clone())
        .find(|name| name != "src/main.rs" && module_of(name) == module)
}

/// Whether `row` lets its files use `target`: the row lists it, or lists a
/// module above it that shares `target`'s row (a folder row such as
/// `src/storage/` is one unit: listing `storage` allows `storage::prayers`;
/// listing `tracking` does not allow `tracking::recorder`, which has a row
/// of its own).
fn allows(rows: &[Row], row: &Row, target: &str, sources: &[Source]) -> bool {
    let target_row = file_of(target, sources)
        .and_then(|f| row_of(rows, &f))
        .map(|r| &r.path);
    row.modules.iter().any(|listed| {
        listed == target
            || (within(target, listed)
                && file_of(listed, sources)
                    .and_then(|f| row_of(rows, &f))
                    .map(|r| &r.path)
                    == target_row)
    })
}

#[test]
fn every_crate_path_is_one_the_module_map_allows() {
    let rows = module_map();
    let sources = code_sources();
    let modules = known_modules(&sources);
    let mut wrong = Vec::new();
    for source in &sources {
        let Some(row) = row_of(&rows, &source.name) else {
            wrong.push(format!(
                "{}: no row of {DOC}'s module map holds this file; add one to the table \
                 of its folder (path, what it does, may depend on)",
                source.name
            ));
            continue;
        };
        let own = module_of(&source.name);
        let own_row = Some(row.path.clone());
        // One message per module a file may not use: its first line and
        // path, and how many more uses there are.
        let mut unlisted: Vec<(String, usize, String, usize)> = Vec::new();
        for (line, path) in crate_paths(source) {
            let Some(target) = module_named(&path, &modules) else {
                continue;
            };
            let same_row = file_of(target, &sources)
                .and_then(|f| row_of(&rows, &f))
                .map(|r| r.path.clone())
                == own_row;
            if same_row || within(target, &own) || allows(&rows, row, target, &sources) {
                continue;
            }
            match unlisted.iter_mut().find(|(t, ..)| t == target) {
                Some((.., more)) => *more += 1,
                None => unlisted.push((target.clone(), line, path, 0)),
            }
        }
        for (target, line, path, more) in unlisted {
            let more = if more > 0 {
                format!(" (and {more} more use(s) in the file)")
            } else {
                String::new()
            };
            wrong.push(format!(
                "{}:{line}: uses `{path}` (module `{target}`){more}, which the row `{}` of \
                 {DOC}'s module map does not list under \"may depend on\"; list `{target}` \
                 there if the dependency is meant, or do without it",
                source.name, row.path
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}\n", wrong.join("\n"));
}

/// Each module a row lists exists, is not the row itself, and is used by
/// one of the row's files, so the map says what the code does.
#[test]
fn the_module_map_lists_only_what_is_used() {
    let rows = module_map();
    let sources = code_sources();
    let modules = known_modules(&sources);
    let mut wrong = Vec::new();
    for row in &rows {
        let files: Vec<&Source> = sources
            .iter()
            .filter(|s| row_of(&rows, &s.name).is_some_and(|r| r.path == row.path))
            .collect();
        let paths: Vec<Vec<(usize, String)>> = files.iter().map(|s| crate_paths(s)).collect();
        if files.is_empty() && !row.path.ends_with('/') {
            wrong.push(format!(
                "{DOC}: the row `{}` names no file under src/",
                row.path
            ));
        }
        for listed in &row.modules {
            if !modules.contains(listed) {
                wrong.push(format!(
                    "{DOC}: the row `{}` lists `{listed}`, which is not a module of the crate",
                    row.path
                ));
                continue;
            }
            let used = files.iter().zip(&paths).any(|(_, found)| {
                found.iter().any(|(_, path)| {
                    module_named(path, &modules).is_some_and(|target| {
                        target == listed
                            || (within(target, listed) && allows(&rows, row, target, &sources))
                    })
                })
            });
            if !used {
                wrong.push(format!(
                    "{DOC}: the row `{}` lists `{listed}`, but none of its files uses it; \
                     remove it from the row",
                    row.path
                ));
            }
        }
        for name in &row.crates {
            let heavy = HEAVY_CRATES.contains(&name.as_str());
            if heavy && !files.iter().any(|s| !uses_crate(s, name).is_empty()) {
                wrong.push(format!(
                    "{DOC}: the row `{}` lists {name}, but none of its files uses it",
                    row.path
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}\n", wrong.join("\n"));
}

/// The lines of `source`'s non-test code that name the crate `name` as a
/// path (`tokio::spawn`, `use sqlx::Row`, `#[tokio::main]`).
fn uses_crate(source: &Source, name: &str) -> Vec<usize> {
    let needle = format!("{name}::");
    (0..source.code.len())
        .filter(|&i| token_at(&source.code, i, &needle))
        .map(|i| line_at(&source.code, i))
        .collect()
}

/// The modules the invariant "The pure core (`a`, `b`, ...) does no I/O"
/// names.
fn pure_core() -> Vec<String> {
    let doc = architecture();
    let line = section(&doc, "Invariants")
        .into_iter()
        .find(|line| line.contains("**The pure core ("))
        .expect("ARCHITECTURE.md names the pure core");
    let names = line
        .split("**The pure core (")
        .nth(1)
        .and_then(|s| s.split(')').next());
    let core = quoted(names.unwrap_or_default());
    assert!(core.len() > 5, "the pure core was read: {core:?}");
    core
}

/// The files of the pure core: those whose row is a module the invariant
/// names.
fn pure_files() -> Vec<Source> {
    let rows = module_map();
    let core = pure_core();
    for module in &core {
        assert!(
            rows.iter()
                .any(|r| module_of(r.path.trim_end_matches('/')) == *module),
            "{DOC}: the pure core names `{module}`, which has no row of its own in the module map"
        );
    }
    code_sources()
        .into_iter()
        .filter(|s| {
            row_of(&rows, &s.name)
                .is_some_and(|r| core.contains(&module_of(r.path.trim_end_matches('/'))))
        })
        .collect()
}

/// A file names tokio, sqlx, serenity, poise or reqwest only if its row lists
/// the crate, and no row of the pure core lists one.
#[test]
fn runtimes_discord_and_sql_only_where_the_map_says() {
    let rows = module_map();
    let core = pure_core();
    let mut wrong = Vec::new();
    for row in &rows {
        let module = module_of(row.path.trim_end_matches('/'));
        for name in &row.crates {
            if core.contains(&module) && HEAVY_CRATES.contains(&name.as_str()) {
                wrong.push(format!(
                    "{DOC}: `{}` is in the pure core but lists {name}",
                    row.path
                ));
            }
        }
    }
    for source in code_sources() {
        let Some(row) = row_of(&rows, &source.name) else {
            continue;
        };
        for name in HEAVY_CRATES {
            if row.crates.iter().any(|c| c == name) {
                continue;
            }
            for line in uses_crate(&source, name) {
                wrong.push(format!(
                    "{}:{line}: uses {name}, which the row `{}` of {DOC}'s module map does \
                     not list",
                    source.name, row.path
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}\n", wrong.join("\n"));
}

/// The rows of ARCHITECTURE.md's "Clocks" table: the calls
/// (`Instant::now`) and the files that may make them.
fn clock_rows() -> Vec<(Vec<String>, Vec<String>)> {
    let doc = architecture();
    let rows: Vec<(Vec<String>, Vec<String>)> = section(&doc, "Clocks")
        .into_iter()
        .filter_map(cells)
        .filter(|cells| cells.len() >= 2)
        .map(|cells| (quoted(cells[0]), quoted(cells[1])))
        .filter(|(calls, _)| !calls.is_empty())
        .collect();
    let calls = rows.iter().map(|(calls, _)| calls.len()).sum::<usize>();
    assert!(calls >= 4, "{DOC}'s Clocks table was read: {rows:?}");
    rows
}

/// The lines of `source`'s non-test code that make `call` (`Instant::now`,
/// also as `std::time::Instant::now`).
fn calls_of(source: &Source, call: &str) -> Vec<usize> {
    let needle: Vec<char> = call.chars().collect();
    (0..source.code.len())
        .filter(|&i| {
            source.code[i..].starts_with(&needle)
                && (i == 0 || !(source.code[i - 1].is_alphanumeric() || source.code[i - 1] == '_'))
        })
        .map(|i| line_at(&source.code, i))
        .collect()
}

/// The clocks are read only in the files ARCHITECTURE.md's "Clocks" table
/// names, and each file it names reads one of its row's clocks.
#[test]
fn each_clock_is_read_only_where_the_document_says() {
    let rows = clock_rows();
    let sources = code_sources();
    let mut wrong = Vec::new();
    for (calls, allowed) in &rows {
        for call in calls {
            for source in &sources {
                for line in calls_of(source, call) {
                    if !allowed.contains(&source.name) {
                        wrong.push(format!(
                            "{}:{line}: reads `{call}`, which only the files in the row of \
                             `{call}` in {DOC}'s Clocks table may; take the time as an argument \
                             (or a `Clock`), or add the file to that row and say why",
                            source.name
                        ));
                    }
                }
            }
        }
        for file in allowed {
            let reads = sources
                .iter()
                .filter(|s| &s.name == file)
                .any(|s| calls.iter().any(|call| !calls_of(s, call).is_empty()));
            if !reads {
                wrong.push(format!(
                    "{DOC}: the Clocks table lets {file} read {calls:?}, but it reads none of \
                     them; remove it from the row"
                ));
            }
        }
        // The wall clock has one reader in the bot (the `Clock`) and one for
        // the command line (`main.rs`), whatever the table says.
        if calls.iter().any(|call| call != "Instant::now") {
            for file in allowed {
                assert!(
                    file == "src/schedule/clock.rs" || file == "src/main.rs",
                    "{calls:?} may be read by {file}: the wall clock is read in one place"
                );
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}\n", wrong.join("\n"));
}

/// The reader behind the module map check sees grouped `use` trees, inline
/// paths and `super::` paths, and skips comments, strings and test items.
#[test]
fn the_path_reader_sees_every_kind_of_path() {
    let text = r#"
//! Uses `crate::nowhere` in a doc comment.
use crate::{alpha::{self, Beta as B}, gamma::delta::*};
use super::sibling::Thing;
/* crate::hidden in a block comment */
fn f() -> crate::epsilon::Zeta {
    let s = "crate::in_a_string";
    let c = '{';
    let _ = super::super::top;
    crate::eta::theta(s, c)
}
#[cfg(test)]
mod tests {
    use crate::only_in_tests::X;
}
#[cfg(test)]
mod more;
"#;
    let mut code = code_only(text);
    let test_files = drop_test_items(&mut code);
    assert_eq!(test_files, vec!["more".to_string()]);
    let source = Source {
        name: "src/room/file.rs".into(),
        code,
    };
    let paths: Vec<(usize, String)> = crate_paths(&source);
    let expected = [
        (3, "alpha"),
        (3, "alpha::Beta"),
        (3, "gamma::delta"),
        (4, "room::sibling::Thing"),
        (6, "epsilon::Zeta"),
        (9, "top"),
        (10, "eta::theta"),
    ];
    let expected: Vec<(usize, String)> =
        expected.iter().map(|(l, p)| (*l, p.to_string())).collect();
    assert_eq!(paths, expected);
}

/// The longest a function outside the tests may be: beyond it, a function
/// does several things, and its steps want names of their own.
const LONGEST_FUNCTION: usize = 60;

/// Every function in `src/` (tests left out) fits in [`LONGEST_FUNCTION`]
/// lines, signature and closing brace included. The sources are rustfmt's,
/// so a function ends at the first `}` at its own indent.
#[test]
fn no_function_is_longer_than_sixty_lines() {
    let signature = |line: &str| {
        let words = line.trim_start();
        let words = words
            .strip_prefix("pub ")
            .or_else(|| words.strip_prefix("pub(crate) "))
            .or_else(|| words.strip_prefix("pub(super) "))
            .unwrap_or(words);
        let words = words.strip_prefix("const ").unwrap_or(words);
        let words = words.strip_prefix("async ").unwrap_or(words);
        words.starts_with("fn ")
    };
    let mut long = Vec::new();
    for (name, text) in sources() {
        let lines: Vec<&str> = text.lines().collect();
        // A file's tests come last, after `#[cfg(test)] mod …`.
        let end = (0..lines.len())
            .find(|&i| {
                lines[i].starts_with("#[cfg(test)]")
                    && lines.get(i + 1).is_some_and(|l| l.contains("mod "))
            })
            .unwrap_or(lines.len());
        if name.ends_with("/tests.rs") || name.ends_with("/properties.rs") {
            continue;
        }
        for start in (0..end).filter(|&i| signature(lines[i])) {
            if lines[start].trim_end().ends_with(';') {
                continue; // a trait's declaration, no body
            }
            let indent = &lines[start][..lines[start].len() - lines[start].trim_start().len()];
            let close = format!("{indent}}}");
            let Some(length) = lines[start..end].iter().position(|l| *l == close) else {
                continue;
            };
            if length + 1 > LONGEST_FUNCTION {
                long.push(format!("{name}:{}: {} lines", start + 1, length + 1));
            }
        }
    }
    assert_eq!(
        long,
        Vec::<String>::new(),
        "functions over {LONGEST_FUNCTION} lines: split them into named steps"
    );
}
