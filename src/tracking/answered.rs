//! `/prayer answered` as a use-case: the server's answered prayers and
//! praise reports of the last weeks, newest first, each with a link to the
//! request's own post, so what God has done does not vanish into the
//! channel. Names are never listed: who prayed stays with `/prayer who`.

use crate::bulletins::week::PrayerWeek;
use crate::ids::GuildId;
use crate::posting::region::region_key;
use crate::posting::render::escape_links;
use crate::storage::{AnsweredPraise, StorageError, Store};
use crate::tracking::report::{excerpt, request_name};

/// The most weeks back `/prayer answered` reaches.
pub const MOST_WEEKS: u32 = 52;

/// The most praises one answer lists (a few messages' worth).
pub const MOST_LISTED: u32 = 50;

/// `guild`'s praises from `weeks` weeks before `current` on (1: this week
/// only), in `region` if one is given (any spelling of it), as the lines
/// of the answer; the first line says what the list is.
pub async fn answered(
    store: &Store,
    guild: GuildId,
    current: PrayerWeek,
    weeks: u32,
    region: Option<&str>,
) -> Result<Vec<String>, StorageError> {
    let weeks = weeks.clamp(1, MOST_WEEKS);
    let from = current.weeks_before(weeks - 1);
    let praises = store.answered_praises(guild, from, MOST_LISTED).await?;
    let wanted = region.map(region_key);
    let listed: Vec<String> = praises
        .iter()
        .filter(|praise| match (&wanted, &praise.request) {
            (None, _) => true,
            (Some(key), Some((region, _))) => region_key(region) == *key,
            (Some(_), None) => false,
        })
        .map(|praise| line(guild, praise))
        .collect();
    let since = if weeks == 1 {
        format!("the week of {current}")
    } else {
        format!("the {weeks} weeks since {from}")
    };
    let heading = match (listed.len(), region) {
        (0, Some(region)) => format!("No answered prayers in {} in {since} yet.", region.trim()),
        (0, None) => format!("No answered prayers or praise reports in {since} yet."),
        (n, _) => format!("🎉 **Answered prayers** in {since}: {n}, newest first."),
    };
    Ok(std::iter::once(heading).chain(listed).collect())
}

/// One praise: its week, what was answered (linked to its post), the note.
fn line(guild: GuildId, praise: &AnsweredPraise) -> String {
    let what = match (&praise.request, praise.message) {
        (Some((region, text)), Some((channel, message))) => format!(
            "{} ([post](https://discord.com/channels/{guild}/{channel}/{message}))",
            request_name(region, text)
        ),
        (Some((region, text)), None) => request_name(region, text),
        (None, _) => "praise report".to_owned(),
    };
    format!(
        "• **{}** — {what}: “{}”",
        praise.week,
        escape_links(&excerpt(&praise.note, 300))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::storage::fixtures::{GUILD, now, posted, store};

    #[tokio::test]
    async fn answered_prayers_are_listed_newest_first_with_their_posts() -> Result<(), StorageError>
    {
        let store = store().await;
        let requests = posted(&store).await?; // Africa, on message 500 in channel 42
        let week = "2026-11-23".parse::<PrayerWeek>().expect("a week");
        let author = UserId::of::<5>();
        store
            .record_praise(
                GUILD,
                Some(requests[0]),
                week,
                author,
                "Freed [link](http://x)",
                now(),
            )
            .await?;
        let later = now() + chrono::TimeDelta::minutes(1);
        store
            .record_praise(GUILD, None, week, author, "Thank you, Lord", later)
            .await?;
        let lines = answered(&store, GUILD, week, 4, None).await?;
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].contains("in the 4 weeks since 2026-11-02: 2"),
            "{}",
            lines[0]
        );
        assert!(lines[1].contains("praise report") && lines[1].contains("Thank you, Lord"));
        let link = format!("https://discord.com/channels/{GUILD}/42/500");
        assert!(
            lines[2].contains(&link) && lines[2].contains("Africa"),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].contains("\\[link\\]"),
            "a masked link shows as typed: {}",
            lines[2]
        );
        assert!(!lines.concat().contains("<@"), "no names: {lines:?}");
        // By region: only Africa's; another server sees none of it.
        let africa = answered(&store, GUILD, week, 4, Some("africa")).await?;
        assert_eq!(africa.len(), 2, "{africa:?}");
        let other = answered(&store, GuildId::of::<7>(), week, 4, None).await?;
        assert_eq!(
            other,
            ["No answered prayers or praise reports in the 4 weeks since 2026-11-02 yet."]
        );
        Ok(())
    }
}
