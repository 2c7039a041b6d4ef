//! The bot's settings, from the environment and an optional TOML file. Pure:
//! the caller reads the environment and the file and passes them in.
//!
//! The token is never printed: [`Token`]'s `Debug` hides it, and no error
//! message quotes it.

use std::fmt;
use std::num::NonZeroU32;

use serde::Deserialize;

/// The settings file's shape: every key optional, unknown keys refused so a
/// typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub discord_token: Option<String>,
    pub database: Option<String>,
    pub discord_api_url: Option<String>,
    /// A number, or a string holding one; any value is taken here and
    /// checked in [`bot_settings`], so a bad one is refused in the same
    /// words as a bad `DISCORD_GLOBAL_RATE_LIMIT`.
    pub discord_global_rate_limit: Option<toml::Value>,
}

/// What `prayer-bot run` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotSettings {
    pub token: Token,
    pub database: String,
    /// A base URL that replaces `https://discord.com` for every HTTP call
    /// (a rate-limit proxy, or a fake Discord in tests).
    pub api_url: Option<String>,
    /// For a rehearsal against a fake Discord only: the instant the bot's
    /// clock reads at start (`PRAYER_BOT_START_TIME`, RFC 3339).
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Requests per second under Discord's global limit
    /// (`DISCORD_GLOBAL_RATE_LIMIT`): 50 unless Discord granted the bot
    /// more. The bot's own pacing holds to it behind `DISCORD_API_URL`.
    pub global_rate_limit: NonZeroU32,
    /// The shards this process runs (`--shards`, `--shard-total`); `None`
    /// for every shard Discord recommends.
    pub shards: Option<crate::shards::ShardRange>,
    /// How long one HTTP request may take before it is given up and
    /// retried (`DISCORD_HTTP_TIMEOUT`, seconds): a rate-limit proxy may
    /// hold a request while its bucket refills.
    pub http_timeout: std::time::Duration,
}

/// How long one HTTP request may take unless `DISCORD_HTTP_TIMEOUT` says:
/// longer than the longest rate-limit wait the bot sits through (60 s), so
/// a proxy that holds a request for its bucket is not cut short.
pub const DEFAULT_HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(65);

/// `DISCORD_HTTP_TIMEOUT` read: whole seconds from 1 to 600.
fn check_http_timeout(text: &str) -> Result<std::time::Duration, ConfigError> {
    match text.trim().parse::<u64>() {
        Ok(seconds @ 1..=600) => Ok(std::time::Duration::from_secs(seconds)),
        _ => Err(ConfigError::BadHttpTimeout),
    }
}

/// A Discord bot token. Shown as `Token(…)` in logs and debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Checks the token's shape: three dot-separated parts of URL-safe
    /// base64, as the Developer Portal gives it (a leading `Bot ` is
    /// dropped). It does not ask Discord whether the token is valid.
    pub fn parse(text: &str) -> Result<Token, ConfigError> {
        let token = text.trim();
        let token = token.strip_prefix("Bot ").unwrap_or(token);
        let parts: Vec<&str> = token.split('.').collect();
        let well_formed = parts.len() == 3
            && parts.iter().all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if well_formed {
            Ok(Token(token.to_owned()))
        } else {
            Err(ConfigError::MalformedToken)
        }
    }

    /// The secret itself, for the one place that hands it to Discord.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "DISCORD_TOKEN is not set: create a bot in the Discord Developer Portal and set DISCORD_TOKEN to its token (see README)"
    )]
    MissingToken,
    #[error(
        "DISCORD_TOKEN is malformed: a bot token is three parts separated by dots; copy it again from the Developer Portal's Bot page"
    )]
    MalformedToken,
    #[error(
        "DISCORD_API_URL must be an http:// or https:// base URL without a path, e.g. http://127.0.0.1:3000"
    )]
    BadApiUrl,
    /// `reason` says what is wrong, and where in the file if it can.
    #[error("settings file {file}: {reason}")]
    BadFile { file: String, reason: String },
    #[error(
        "DISCORD_GLOBAL_RATE_LIMIT (discord_global_rate_limit in the settings file) must be a whole number of requests per second, at least 1, e.g. 50 (Discord's global limit; set more only if Discord granted the bot a higher one)"
    )]
    BadGlobalRateLimit,
    #[error(
        "PRAYER_BOT_START_TIME is for rehearsals against a fake Discord: it needs DISCORD_API_URL, and an RFC 3339 time such as 2026-11-23T08:59:00Z"
    )]
    BadStartTime,
    #[error(
        "DISCORD_HTTP_TIMEOUT must be a whole number of seconds from 1 to 600 (how long one request to Discord or the proxy may take); 65 if left out"
    )]
    BadHttpTimeout,
}

/// A settings file as read: its name (for messages) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsFile {
    pub name: String,
    pub text: String,
}

/// The default database, in the working directory.
pub const DEFAULT_DATABASE: &str = "prayer-bot.db";

/// Discord's global limit for most bots: requests per second.
pub const DEFAULT_GLOBAL_RATE_LIMIT: NonZeroU32 = NonZeroU32::new(50).expect("50 is not 0");

/// Settings from, in order of precedence: the command line or environment
/// (`database`, `env`), then the settings file, then defaults.
pub fn bot_settings(
    env: impl Fn(&str) -> Option<String>,
    database: Option<String>,
    file: Option<&SettingsFile>,
) -> Result<BotSettings, ConfigError> {
    let file: ConfigFile = match file {
        Some(file) => toml::from_str(&file.text).map_err(|e| ConfigError::BadFile {
            file: file.name.clone(),
            reason: toml_reason(&file.text, &e),
        })?,
        None => ConfigFile::default(),
    };
    let non_empty = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let token = non_empty(env("DISCORD_TOKEN"))
        .or(non_empty(file.discord_token))
        .ok_or(ConfigError::MissingToken)?;
    let api_url = non_empty(env("DISCORD_API_URL"))
        .or(non_empty(file.discord_api_url))
        .map(|url| check_api_url(&url))
        .transpose()?;
    let start_time = non_empty(env("PRAYER_BOT_START_TIME"))
        .map(
            |text| match (&api_url, chrono::DateTime::parse_from_rfc3339(text.trim())) {
                (Some(_), Ok(time)) => Ok(time.to_utc()),
                _ => Err(ConfigError::BadStartTime),
            },
        )
        .transpose()?;
    let blank = |value: &toml::Value| value.as_str().is_some_and(|t| t.trim().is_empty());
    let global_rate_limit = non_empty(env("DISCORD_GLOBAL_RATE_LIMIT"))
        .map(toml::Value::String)
        .or(file.discord_global_rate_limit.filter(|s| !blank(s)))
        .map(|setting| check_global_rate_limit(&setting))
        .transpose()?
        .unwrap_or(DEFAULT_GLOBAL_RATE_LIMIT);
    Ok(BotSettings {
        token: Token::parse(&token)?,
        database: database
            .or(file.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned()),
        api_url,
        start_time,
        global_rate_limit,
        shards: None,
        http_timeout: non_empty(env("DISCORD_HTTP_TIMEOUT"))
            .map(|text| check_http_timeout(&text))
            .transpose()?
            .unwrap_or(DEFAULT_HTTP_TIMEOUT),
    })
}

/// A positive whole number of requests per second, as a number or as
/// text: `0`, `-5`, `50.5`, `fifty`, `true` or a number past `u32` are
/// refused.
fn check_global_rate_limit(setting: &toml::Value) -> Result<NonZeroU32, ConfigError> {
    let rate = match setting {
        toml::Value::Integer(n) => u32::try_from(*n).ok(),
        toml::Value::String(text) => text.trim().parse::<u32>().ok(),
        _ => None,
    };
    rate.and_then(NonZeroU32::new)
        .ok_or(ConfigError::BadGlobalRateLimit)
}

/// toml's message with the line it is about. toml's own `Display` draws
/// the line with a caret over several lines; a log wants one.
fn toml_reason(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let line = text.get(..span.start).unwrap_or(text).matches('\n').count() + 1;
            format!("line {line}: {}", error.message())
        }
        None => error.message().to_owned(),
    }
}

fn check_api_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or(ConfigError::BadApiUrl)?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(ConfigError::BadApiUrl);
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_timeout_is_whole_seconds_from_one_to_six_hundred() {
        assert_eq!(
            check_http_timeout("1"),
            Ok(std::time::Duration::from_secs(1))
        );
        assert_eq!(
            check_http_timeout(" 600 "),
            Ok(std::time::Duration::from_secs(600))
        );
        for bad in ["0", "601", "1.5", "-3", "soon"] {
            assert_eq!(
                check_http_timeout(bad),
                Err(ConfigError::BadHttpTimeout),
                "{bad}"
            );
        }
    }

    fn settings_file(text: &str) -> SettingsFile {
        SettingsFile {
            name: "/etc/prayer-bot.toml".to_owned(),
            text: text.to_owned(),
        }
    }

    const TOKEN: &str = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-";

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn a_missing_token_is_refused_in_plain_words() {
        assert_eq!(
            bot_settings(env(&[]), None, None),
            Err(ConfigError::MissingToken)
        );
        assert_eq!(
            bot_settings(env(&[("DISCORD_TOKEN", "  ")]), None, None),
            Err(ConfigError::MissingToken)
        );
    }

    #[test]
    fn a_malformed_token_is_refused_without_quoting_it() {
        for bad in ["hunter2", "a.b", "a..c", "a.b.c d", "ab.cd.ef.gh"] {
            let error = Token::parse(bad).expect_err(bad);
            assert_eq!(error, ConfigError::MalformedToken);
            assert!(!error.to_string().contains(bad));
        }
    }

    #[test]
    fn a_start_time_is_taken_only_for_a_rehearsal_against_another_api() {
        const START: (&str, &str) = ("PRAYER_BOT_START_TIME", "2026-11-23T08:59:00Z");
        const API: (&str, &str) = ("DISCORD_API_URL", "http://127.0.0.1:9");
        const TOKEN_SET: (&str, &str) = ("DISCORD_TOKEN", TOKEN);
        let settings = bot_settings(env(&[TOKEN_SET, API, START]), None, None).expect("valid");
        assert_eq!(
            settings.start_time.map(|t| t.to_rfc3339()),
            Some("2026-11-23T08:59:00+00:00".to_owned())
        );
        assert_eq!(
            bot_settings(env(&[TOKEN_SET, START]), None, None),
            Err(ConfigError::BadStartTime),
            "never against discord.com"
        );
        assert_eq!(
            bot_settings(
                env(&[TOKEN_SET, API, ("PRAYER_BOT_START_TIME", "Monday")]),
                None,
                None
            ),
            Err(ConfigError::BadStartTime)
        );
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let settings = bot_settings(env(&[("DISCORD_TOKEN", TOKEN)]), None, None).expect("valid");
        assert!(!format!("{settings:?}").contains("GaBcDe"));
        assert_eq!(settings.token.expose(), TOKEN);
        assert_eq!(settings.database, DEFAULT_DATABASE);
        assert_eq!(settings.api_url, None);
    }

    #[test]
    fn the_environment_wins_over_the_file_and_the_file_over_defaults() {
        let file = r#"
            discord_token = "file.token.here"
            database = "from-file.db"
            discord_api_url = "http://127.0.0.1:9/"
        "#;
        let file = settings_file(file);
        let settings =
            bot_settings(env(&[("DISCORD_TOKEN", TOKEN)]), None, Some(&file)).expect("valid");
        assert_eq!(settings.token.expose(), TOKEN);
        assert_eq!(settings.database, "from-file.db");
        assert_eq!(settings.api_url.as_deref(), Some("http://127.0.0.1:9"));
        let settings = bot_settings(env(&[]), Some("flag.db".into()), Some(&file)).expect("valid");
        assert_eq!(settings.token.expose(), "file.token.here");
        assert_eq!(settings.database, "flag.db");
    }

    #[test]
    fn an_api_url_with_a_path_or_another_scheme_is_refused() {
        for bad in [
            "ftp://x",
            "127.0.0.1:3000",
            "http://",
            "http://x/api",
            "http://x?y",
        ] {
            let pairs: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
                ("DISCORD_TOKEN", TOKEN),
                ("DISCORD_API_URL", bad),
            ]));
            assert_eq!(
                bot_settings(env(pairs), None, None),
                Err(ConfigError::BadApiUrl),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused_naming_the_file_and_line() {
        let error = bot_settings(
            env(&[("DISCORD_TOKEN", TOKEN)]),
            None,
            Some(&settings_file("database = 'x.db'\ndiscord_tokn = 'x'")),
        )
        .expect_err("a typo");
        let message = error.to_string();
        assert!(
            message.starts_with(
                "settings file /etc/prayer-bot.toml: line 2: unknown field `discord_tokn`, expected one of"
            ),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }

    #[test]
    fn the_global_rate_limit_defaults_to_50_and_is_read_from_the_environment_or_the_file() {
        let settings = bot_settings(env(&[("DISCORD_TOKEN", TOKEN)]), None, None).expect("valid");
        assert_eq!(settings.global_rate_limit.get(), 50);
        let file = settings_file("discord_global_rate_limit = 500");
        let from_file =
            bot_settings(env(&[("DISCORD_TOKEN", TOKEN)]), None, Some(&file)).expect("valid");
        assert_eq!(from_file.global_rate_limit.get(), 500);
        let pairs = &[
            ("DISCORD_TOKEN", TOKEN),
            ("DISCORD_GLOBAL_RATE_LIMIT", " 1200 "),
        ];
        let from_env = bot_settings(env(pairs), None, Some(&file)).expect("valid");
        assert_eq!(
            from_env.global_rate_limit.get(),
            1200,
            "the environment wins"
        );
        let quoted = settings_file("discord_global_rate_limit = \"80\"");
        let quoted =
            bot_settings(env(&[("DISCORD_TOKEN", TOKEN)]), None, Some(&quoted)).expect("valid");
        assert_eq!(quoted.global_rate_limit.get(), 80);
    }

    #[test]
    fn a_global_rate_limit_of_zero_or_not_a_whole_number_is_refused_in_words() {
        for bad in ["0", "-5", "50.5", "fifty", "99999999999"] {
            let pairs: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
                ("DISCORD_TOKEN", TOKEN),
                ("DISCORD_GLOBAL_RATE_LIMIT", bad),
            ]));
            let error = bot_settings(env(pairs), None, None).expect_err(bad);
            assert_eq!(error, ConfigError::BadGlobalRateLimit, "{bad}");
            assert!(
                error
                    .to_string()
                    .contains("whole number of requests per second"),
                "{error}"
            );
        }
        for bad in ["0", "-1", "2.5", "\"many\"", "true"] {
            let file = settings_file(&format!("discord_global_rate_limit = {bad}"));
            let refused = bot_settings(env(&[("DISCORD_TOKEN", TOKEN)]), None, Some(&file));
            assert_eq!(refused, Err(ConfigError::BadGlobalRateLimit), "{bad}");
        }
    }
}
